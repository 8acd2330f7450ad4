package mem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Private anonymous memory of a fork child is its fork snapshot mapped
// privately (Mapping.SnapFD). For the guest it must stay anonymous memory:
// where the host would treat a private file mapping differently, the
// pages are first made the process's own anonymous memory again.

// Anonymize makes the snapshot-backed pages of [a, a+n) plain anonymous
// memory: with keep, holding what they held (a copy); without, zeroed, as
// MADV_DONTNEED leaves anonymous memory (on a private file mapping it would
// bring back the file's pages). Unmapped pieces are skipped.
func (s *AddressSpace) Anonymize(a GuestAddr, n uint64, keep bool) error {
	s.lock()
	defer s.unlock()
	end := GuestAddr(pageUp(uint64(a) + n))
	if uint64(end) < uint64(a) || uint64(end) > uint64(s.Limit) {
		return nil
	}
	for _, m := range s.maps.overlapping(a, end) {
		if m.SnapFD > 0 {
			s.splitAt(m, a)
		}
	}
	for _, m := range s.maps.overlapping(a, end) {
		if m.SnapFD > 0 {
			s.splitAt(m, end)
		}
	}
	defer s.sweepBackings()
	for _, m := range s.maps.overlapping(a, end) {
		if m.SnapFD > 0 {
			if err := s.unsnap(m, keep); err != nil {
				return err
			}
		}
	}
	return nil
}

// unsnap puts plain anonymous memory behind m, which its snapshot backs.
func (s *AddressSpace) unsnap(m *Mapping, keep bool) error {
	length := uint64(m.End - m.Start)
	host := s.arena + uintptr(m.Phys)
	if !keep {
		// Fresh pages replace the old ones at once: an engine's write
		// through a stale entry lands in the new memory, which DONTNEED
		// allows.
		anon := *m
		anon.SnapFD, anon.SnapOff = 0, 0
		if err := s.backHost(&anon, -1); err != nil {
			return err
		}
		m.SnapFD, m.SnapOff = 0, 0
		return nil
	}
	tmp, err := unix.Mmap(-1, 0, int(length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return err
	}
	// No engine may write the pages while they are copied (as move).
	s.pt.set(uint64(m.Start), uint64(m.End), 0, 0)
	s.staleTLB = true
	s.settle()
	copy(tmp, s.arenaMem[m.Phys:m.Phys+length])
	_, _, e := unix.Syscall6(unix.SYS_MREMAP, uintptr(unsafe.Pointer(&tmp[0])), uintptr(length), uintptr(length),
		unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, host, 0)
	if e != 0 {
		unix.Munmap(tmp)
		s.writePTEs(m)
		return e
	}
	m.SnapFD, m.SnapOff = 0, 0
	return s.writePTEs(m)
}
