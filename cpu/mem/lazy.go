package mem

// A vfork child's private anonymous memory need not be copied at the fork:
// its parent waits, stopped, until the child executes or exits, so the
// parent's own memory is the snapshot for that long. The child's xemu
// restores such mappings from the data file with nothing saved there
// (ForkState.Lazy), and a LazySource (cpu.Lazy) fills each page from the
// parent's memory, at the same arena offset, when the child first touches
// it. A page is installed once; the child's writes stay its own until the
// write-back (vfork.go).
//
// What would move or copy the host pages without touching them (mremap,
// a fork of the child) first has them installed: the registration does
// not follow them. Pages replaced by fresh memory (munmap, MADV_DONTNEED)
// leave the registration with the memory they replace.

// LazySource installs a lazy vfork child's pages from its parent.
type LazySource interface {
	// Register makes the pages of a host range come from the parent.
	Register(host uintptr, n uint64) error
	// Fetch installs the pages of a host range that are not there yet.
	Fetch(host uintptr, n uint64) error
	// Same says whether a present page holds what the parent's holds.
	Same(host uintptr) bool
	// Pages is how many pages were installed so far.
	Pages() uint64
	// Stop ends the source: pages never installed read as holes.
	Stop()
}

// SetLazy makes src fill the mappings a lazy snapshot (st, just restored)
// left unsaved. On failure the space is as Restore left it.
func (s *AddressSpace) SetLazy(st ForkState, src LazySource) error {
	s.lock()
	defer s.unlock()
	for i := range st.Mappings {
		fm := &st.Mappings[i]
		if !fm.lazy() {
			continue
		}
		if err := src.Register(s.arena+uintptr(fm.Phys), uint64(fm.End-fm.Start)); err != nil {
			return err
		}
	}
	s.lazy = src
	return nil
}

// FillLazy copies into the space what a lazy snapshot (st, just restored)
// left unsaved, from the parent's memory (its /proc/PID/mem, with its arena
// at parentArena): for a child that cannot have a LazySource. Pages of
// zeros are left to the holes below them.
func (s *AddressSpace) FillLazy(st ForkState, parentMem int, parentArena uint64) error {
	s.lock()
	defer s.unlock()
	buf := make([]byte, 1<<20)
	for i := range st.Mappings {
		fm := &st.Mappings[i]
		if !fm.lazy() {
			continue
		}
		n := uint64(fm.End - fm.Start)
		for off := uint64(0); off < n; off += uint64(len(buf)) {
			chunk := buf[:min(uint64(len(buf)), n-off)]
			if err := PreadFull(parentMem, chunk, int64(parentArena+fm.Phys+off)); err != nil {
				return err
			}
			for p := uint64(0); p < uint64(len(chunk)); p += PageSize {
				page := chunk[p : p+PageSize]
				if !zeroPage(page) {
					at := fm.Phys + off + p
					copy(s.arenaMem[at:at+PageSize], page)
				}
			}
		}
	}
	return nil
}

func zeroPage(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// LazyPages is how many pages a lazy vfork child installed from its parent
// so far, and whether it is one.
func (s *AddressSpace) LazyPages() (uint64, bool) {
	s.lock()
	defer s.unlock()
	if s.lazy == nil {
		return 0, false
	}
	return s.lazy.Pages(), true
}

// Materialize installs every page a lazy vfork child has not touched yet:
// before the child forks (its own child is restored from its memory, which
// must be whole). The source stays, to tell the pages the child wrote from
// the parent's at the write-back.
func (s *AddressSpace) Materialize() error {
	s.lock()
	defer s.unlock()
	if s.lazy == nil || s.lazyWhole {
		return nil
	}
	var err error
	s.maps.each(func(m *Mapping) bool {
		if m.Shared || m.Shm || m.Start >= s.Limit {
			return true
		}
		err = s.lazy.Fetch(s.arena+uintptr(m.Phys), uint64(m.End-m.Start))
		return err == nil
	})
	if err != nil {
		return err
	}
	s.lazyWhole = true
	return nil
}

// fetchLazy installs the pages of arena [phys, phys+n) before the host
// pages move (mremap: the registration would not follow them).
func (s *AddressSpace) fetchLazy(phys, n uint64) error {
	if s.lazy == nil {
		return nil
	}
	return s.lazy.Fetch(s.arena+uintptr(phys), n)
}

// StopLazy ends a lazy vfork child's reading of its parent, which goes on
// (the child executed): what the child never touched reads as zeros.
func (s *AddressSpace) StopLazy() {
	s.lock()
	defer s.unlock()
	s.stopLazy()
}

func (s *AddressSpace) stopLazy() {
	if s.lazy != nil {
		s.lazy.Stop()
		s.lazy = nil
	}
}

// sameAsParent says whether the present page at arena offset phys holds
// what the lazy child's parent holds there.
func (s *AddressSpace) sameAsParent(phys uint64) bool {
	return s.lazy != nil && s.lazy.Same(s.arena+uintptr(phys))
}
