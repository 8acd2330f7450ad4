package mem

import (
	"golang.org/x/sys/unix"
)

// Remap is mremap: resize the mapping at old, moving it if allowed.
func (s *AddressSpace) remapLocked(old GuestAddr, oldLen, newLen uint64, mayMove, fixed bool, newAddr GuestAddr) (GuestAddr, error) {
	if uint64(old)%PageSize != 0 || newLen == 0 || (fixed && !mayMove) || wrapsPageUp(oldLen) || wrapsPageUp(newLen) {
		return 0, unix.EINVAL
	}
	oldLen, newLen = pageUp(oldLen), pageUp(newLen)
	if oldLen == 0 {
		return 0, unix.EINVAL // duplicating a shared mapping: not supported
	}
	m := s.maps.find(old)
	if m == nil || uint64(old)+oldLen > uint64(m.End) || !s.inside(old, oldLen) {
		return 0, unix.EFAULT
	}
	// vma_to_resize: growth is checked against the limits.
	if newLen > oldLen && !s.mayExpand(m.Prot, m.Shared, m.Name, (newLen-oldLen)/PageSize) {
		return 0, unix.ENOMEM
	}
	if m.SnapFD > 0 && newLen > oldLen {
		// Grown, the mapping would reach further into its snapshot (or
		// past its end), where Linux gives new anonymous memory: the pages
		// moved become the process's own first.
		s.splitAt(m, old)
		m = s.maps.find(old)
		s.splitAt(m, old+GuestAddr(oldLen))
		m = s.maps.find(old)
		if err := s.unsnap(m, true); err != nil {
			return 0, err
		}
		s.sweepBackings()
	}
	if fixed {
		if uint64(newAddr)%PageSize != 0 || !s.inside(newAddr, newLen) {
			return 0, unix.EINVAL
		}
		if uint64(newAddr) < uint64(old)+oldLen && uint64(old) < uint64(newAddr)+newLen {
			return 0, unix.EINVAL
		}
		// mremap_to: both the destination and the source may split in three
		// before the move, which itself needs room for four: refused before
		// anything is unmapped.
		if s.mapsFull(6) {
			return 0, unix.ENOMEM
		}
		s.unmapRange(newAddr, newAddr+GuestAddr(newLen))
		return s.move(m, old, oldLen, newLen, newAddr)
	}
	if newLen <= oldLen {
		if newLen < oldLen {
			// A shrink that splits at the map count limit is ENOMEM, as munmap.
			if err := s.unmapLocked(old+GuestAddr(newLen), oldLen-newLen); err != nil {
				return 0, err
			}
		}
		return old, nil
	}
	// Grow in place when the pages after the mapping are free.
	if uint64(old)+oldLen == uint64(m.End) && s.free(m.End, newLen-oldLen) {
		extra := newLen - oldLen
		if s.phys.allocAt(m.Phys+uint64(m.End-m.Start), extra) {
			tail := &Mapping{Start: m.End, End: m.End + GuestAddr(extra), Prot: m.Prot, Shared: m.Shared,
				Phys: m.Phys + uint64(m.End-m.Start), Dev: m.Dev, Ino: m.Ino, Offset: m.Offset + uint64(m.End-m.Start), Name: m.Name,
				Shm: m.Shm, ShmID: m.ShmID}
			if err := s.extendHost(m, tail); err == nil {
				m.End = tail.End
				if err := s.writePTEs(m); err != nil {
					return 0, err
				}
				return old, nil
			}
			s.phys.free(tail.Phys, extra)
		}
		// Same place, new arena slot: move the host pages, keep the address.
		return s.move(m, old, oldLen, newLen, old)
	}
	if !mayMove {
		return 0, unix.ENOMEM
	}
	a, ok := s.findFree(newLen, s.mmapTop)
	if !ok {
		return 0, unix.ENOMEM
	}
	return s.move(m, old, oldLen, newLen, a)
}

func (s *AddressSpace) inside(a GuestAddr, n uint64) bool {
	end := uint64(a) + n
	return uint64(a) >= uint64(s.MinAddr) && end <= uint64(s.Limit) && end >= uint64(a)
}

// extendHost maps tail's host memory: more of the same file, or fresh anonymous
// memory.
func (s *AddressSpace) extendHost(m, tail *Mapping) error {
	if m.Dev == 0 && m.Ino == 0 && !m.Shared {
		return s.backHost(tail, -1)
	}
	// A file mapping grows by remapping the host pages (below), which keeps the
	// file and its offset without reopening it.
	return unix.ENOTSUP
}

// move puts [old, old+oldLen) of m at dst with length newLen, moving its host
// pages with the host's mremap so nothing is copied. dst may equal old (the
// mapping grows where it is but needs a bigger arena slot).
func (s *AddressSpace) move(m *Mapping, old GuestAddr, oldLen, newLen uint64, dst GuestAddr) (GuestAddr, error) {
	// mm/mremap.c move_vma: a move may split the old mapping in three and
	// add the new one, so it needs room for that under vm.max_map_count.
	if s.mapsFull(4) {
		return 0, unix.ENOMEM
	}
	if m.BackingFD > 0 && newLen > oldLen {
		// Shared anonymous memory grows with its memfd, as Linux's shmem
		// object does; pages past the memfd's end would fault.
		var st unix.Stat_t
		need := int64(m.Offset + uint64(old-m.Start) + newLen)
		if err := unix.Fstat(m.BackingFD, &st); err != nil {
			return 0, err
		}
		if st.Size < need {
			if err := unix.Ftruncate(m.BackingFD, need); err != nil {
				return 0, err
			}
		}
	}
	phys, ok := s.phys.alloc(newLen, ^uint64(0))
	if !ok {
		return 0, unix.ENOMEM
	}
	srcPhys := m.Phys + uint64(old-m.Start)
	if !m.Shared && !m.Shm {
		if err := s.fetchLazy(srcPhys, oldLen); err != nil {
			s.phys.free(phys, newLen)
			return 0, err
		}
	}
	// The host pages move away from the old slot: first every engine must
	// stop reaching them there (no guest access until the new entries exist).
	s.pt.set(uint64(old), uint64(old)+oldLen, 0, 0)
	s.staleTLB = true
	s.settle()
	_, _, e := unix.Syscall6(unix.SYS_MREMAP, s.arena+uintptr(srcPhys), uintptr(oldLen), uintptr(newLen),
		unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, s.arena+uintptr(phys), 0)
	if e != 0 {
		s.phys.free(phys, newLen)
		s.writePTEs(m)
		return 0, e
	}
	// The old slot is a hole in the reservation now: reserve it again.
	reserve(s.arena+uintptr(srcPhys), oldLen)

	moved := *m
	moved.Start, moved.End, moved.Phys = dst, dst+GuestAddr(newLen), phys
	if m.hasOffset() {
		moved.Offset = m.Offset + uint64(old-m.Start)
	}
	if m.SnapFD > 0 {
		moved.SnapOff = m.SnapOff + uint64(old-m.Start)
	}
	// Drop the old range from the guest's view; its arena slot was moved, so it
	// must not be released twice.
	s.splitAt(m, old)
	mid := s.maps.find(old)
	s.splitAt(mid, old+GuestAddr(oldLen))
	mid = s.maps.find(old)
	if mid.Prot&ProtExec != 0 && s.observer != nil {
		s.observer.InvalidateCode(mid.Start, mid.End)
	}
	s.maps.remove(mid)
	s.pt.set(uint64(mid.Start), uint64(mid.End), 0, 0)
	s.phys.free(srcPhys, oldLen)
	if dst != old {
		s.removeRange(dst, dst+GuestAddr(newLen))
	}
	err := s.install(&moved)
	s.sweepBackings()
	if err != nil {
		return 0, err
	}
	s.staleTLB = true
	return dst, nil
}

// SetBrk sets the start of the heap (the page after the program's highest
// segment, as Linux places it).
func (s *AddressSpace) setBrkLocked(start GuestAddr) {
	s.brkStart, s.brkEnd = start, start
}

// Brk is the brk system call: grow or shrink the heap and return its end.
// Like Linux it returns the old end when the request cannot be met.
func (s *AddressSpace) brkLocked(want GuestAddr) GuestAddr {
	// Out of range (a wrapping round-up included): the break stays.
	if want < s.brkStart || uint64(want) > uint64(s.Limit) || wrapsPageUp(uint64(want)) {
		return s.brkEnd
	}
	oldTop, newTop := GuestAddr(pageUp(uint64(s.brkEnd))), GuestAddr(pageUp(uint64(want)))
	switch {
	case newTop > oldTop:
		if !s.free(oldTop, uint64(newTop-oldTop)) {
			return s.brkEnd
		}
		if _, err := s.mapLocked(MapRequest{Addr: oldTop, Length: uint64(newTop - oldTop), Prot: ProtRead | ProtWrite,
			Fixed: true, NoReplace: true, FD: -1, Name: "[heap]"}); err != nil {
			return s.brkEnd
		}
		s.mergeHeap(oldTop)
	case newTop < oldTop:
		s.unmapLocked(newTop, uint64(oldTop-newTop))
	}
	s.brkEnd = want
	return s.brkEnd
}

// mergeHeap joins the heap piece at a with the piece before it when their arena
// slots are contiguous, so a growing heap stays one mapping.
func (s *AddressSpace) mergeHeap(a GuestAddr) {
	m := s.maps.find(a)
	prev := s.maps.find(a - 1)
	if m == nil || prev == nil || prev.Name != "[heap]" || prev.Prot != m.Prot || prev.SnapFD != 0 || m.SnapFD != 0 ||
		prev.Phys+uint64(prev.End-prev.Start) != m.Phys {
		return
	}
	s.maps.remove(m)
	prev.End = m.End
}

// BrkRange is the heap's start and current end.
func (s *AddressSpace) brkRangeLocked() (GuestAddr, GuestAddr) { return s.brkStart, s.brkEnd }
