package mem

import (
	"errors"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// ErrSplit says a guest range is valid but not contiguous in host memory: copy
// it with Read or Write instead of using it in place.
var ErrSplit = errors.New("guest range spans separate host memory")

// hostFault turns a host fault while touching guest memory (a file mapping past
// the end of its file) into EFAULT instead of a crash.
func hostFault(err *error) {
	if recover() != nil {
		*err = unix.EFAULT
	}
}

// span walks [a, a+n) in runs of contiguous host memory, checking that every
// page allows need; f gets each run.
func (s *AddressSpace) span(a GuestAddr, n uint64, need Prot, f func(host []byte, va GuestAddr, exec bool)) error {
	if n == 0 {
		return nil
	}
	end := uint64(a) + n
	if end < uint64(a) || end > uint64(s.Limit) {
		return unix.EFAULT
	}
	va := uint64(a)
	for va < end {
		pte := s.pt.lookup(va)
		if pte&ptePresent == 0 || Prot(pte&7)&need != need {
			return unix.EFAULT
		}
		phys := pte & ptePhysMask
		exec := pte&uint64(ProtExec) != 0
		runEnd := pageDown(va) + PageSize
		for runEnd < end {
			p2 := s.pt.lookup(runEnd)
			if p2&ptePresent == 0 || Prot(p2&7)&need != need || p2&ptePhysMask != phys+(runEnd-pageDown(va)) {
				break
			}
			exec = exec || p2&uint64(ProtExec) != 0
			runEnd += PageSize
		}
		if runEnd > end {
			runEnd = end
		}
		off := phys + va%PageSize
		host := s.arenaMem[off : off+(runEnd-va) : off+(runEnd-va)]
		f(host, GuestAddr(va), exec)
		va = runEnd
	}
	return nil
}

// Read copies guest memory at a into b; EFAULT if any byte is not readable.
func (s *AddressSpace) Read(a GuestAddr, b []byte) (err error) {
	defer hostFault(&err)
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	off := 0
	return s.span(a, uint64(len(b)), ProtRead, func(host []byte, _ GuestAddr, _ bool) {
		off += copy(b[off:], host)
	})
}

// Write copies b into guest memory at a; EFAULT if any byte is not writable.
// Code translated from the written bytes is dropped.
func (s *AddressSpace) Write(a GuestAddr, b []byte) (err error) {
	return s.write(a, b, ProtWrite)
}

// Poke writes like Write but ignores write protection (the loader filling a
// read-only segment); the pages must still be mapped.
func (s *AddressSpace) Poke(a GuestAddr, b []byte) (err error) {
	return s.write(a, b, ProtNone)
}

func (s *AddressSpace) write(a GuestAddr, b []byte, need Prot) (err error) {
	defer hostFault(&err)
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	// Check everything first: a failed write leaves guest memory as it was.
	if err := s.check(a, uint64(len(b)), need); err != nil {
		return err
	}
	off := 0
	return s.span(a, uint64(len(b)), need, func(host []byte, va GuestAddr, exec bool) {
		off += copy(host, b[off:])
		if exec && s.observer != nil {
			s.observer.InvalidateCode(va, va+GuestAddr(len(host)))
		}
	})
}

func (s *AddressSpace) check(a GuestAddr, n uint64, need Prot) error {
	return s.span(a, n, need, func([]byte, GuestAddr, bool) {})
}

// Check reports EFAULT unless every byte of [a, a+n) allows need.
func (s *AddressSpace) Check(a GuestAddr, n uint64, need Prot) error { return s.check(a, n, need) }

// Slice returns the host memory behind [a, a+n) for a host call to read or write
// in place. ErrSplit if the range is valid but not contiguous on the host.
// When need includes ProtWrite the caller must call Wrote after writing.
func (s *AddressSpace) Slice(a GuestAddr, n uint64, need Prot) ([]byte, error) {
	var out []byte
	runs := 0
	err := s.span(a, n, need, func(host []byte, _ GuestAddr, _ bool) {
		out = host
		runs++
	})
	if err != nil {
		return nil, err
	}
	if runs > 1 {
		return nil, ErrSplit
	}
	if n == 0 {
		return []byte{}, nil
	}
	return out, nil
}

// Wrote tells the space that a host call wrote [a, a+n) through Slice, so that
// code translated from it is dropped.
func (s *AddressSpace) Wrote(a GuestAddr, n uint64) {
	if s.observer == nil || n == 0 {
		return
	}
	s.span(a, n, ProtNone, func(host []byte, va GuestAddr, exec bool) {
		if exec {
			s.observer.InvalidateCode(va, va+GuestAddr(len(host)))
		}
	})
}

// ReadString reads a NUL-terminated string of at most max bytes (without the NUL).
func (s *AddressSpace) ReadString(a GuestAddr, max int) (str string, err error) {
	defer hostFault(&err)
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	var buf []byte
	for len(buf) < max {
		// Read up to the end of the page: the next page may not be mapped.
		chunk := PageSize - int(uint64(a)%PageSize)
		if chunk > max-len(buf) {
			chunk = max - len(buf)
		}
		host, err := s.Slice(a, uint64(chunk), ProtRead)
		if err != nil {
			return "", unix.EFAULT
		}
		for i, c := range host {
			if c == 0 {
				return string(append(buf, host[:i]...)), nil
			}
		}
		buf = append(buf, host...)
		a += GuestAddr(chunk)
	}
	return "", unix.ENAMETOOLONG
}

// Accessible is how many bytes from a, up to n, allow need: a host call may
// use that prefix, as Linux copies until the first fault.
func (s *AddressSpace) Accessible(a GuestAddr, n uint64, need Prot) uint64 {
	end := uint64(a) + n
	if end < uint64(a) || end > uint64(s.Limit) {
		if uint64(a) >= uint64(s.Limit) {
			return 0
		}
		end = uint64(s.Limit)
	}
	va := uint64(a)
	for va < end {
		pte := s.pt.lookup(va)
		if pte&ptePresent == 0 || Prot(pte&7)&need != need {
			break
		}
		va = pageDown(va) + PageSize
	}
	if va > end {
		va = end
	}
	return va - uint64(a)
}
