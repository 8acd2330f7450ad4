package mem

// Concurrency: guest threads make system calls at once, each on its own
// engine. The mapping tree, the arena allocator and the heap's bounds are
// guarded by AddressSpace.mu, taken by every method below. The page table
// is read without it (by the engines' TLB fill callbacks and by Read/Write):
// entries are single 64-bit stores; Read/Write walk under the table's own
// read lock, and nodes that become empty are freed only in settle.
//
// A page whose entry changes may still sit in another engine's TLB, and an
// engine may be walking a node just detached. So the host memory behind
// removed pages, and detached page-table nodes, are given back only after
// the observer's FlushTLB has made every engine drop stale entries, at the
// end of the call (unlock), and translated code is dropped on every engine
// before any of them runs guest code again.

// pendingFree is an arena slot to give back once no engine can reach it.
type pendingFree struct{ phys, length uint64 }

func (s *AddressSpace) lock() { s.mu.Lock() }

// unlock settles what the call changed, then releases the lock.
func (s *AddressSpace) unlock() {
	s.settle()
	s.mu.Unlock()
}

// settle makes every engine drop translations the call made stale, then
// releases the host memory of removed pages and the page-table nodes they
// emptied.
func (s *AddressSpace) settle() {
	retired := s.pt != nil && len(s.pt.retired) > 0 // none after Close
	if !s.staleTLB && len(s.pendingFree) == 0 && !retired {
		return
	}
	if s.observer != nil {
		s.observer.FlushTLB()
	}
	s.staleTLB = false
	if retired {
		s.pt.reclaim()
	}
	for _, f := range s.pendingFree {
		reserve(s.arena+uintptr(f.phys), f.length)
		s.phys.free(f.phys, f.length)
	}
	s.pendingFree = s.pendingFree[:0]
}

// Mappings returns a copy of the mappings in address order.
func (s *AddressSpace) Mappings() []Mapping {
	s.lock()
	defer s.unlock()
	return s.mappingsLocked()
}

// Count is the number of mappings.
func (s *AddressSpace) Count() int {
	s.lock()
	defer s.unlock()
	return s.countLocked()
}

// Find returns the mapping containing a.
func (s *AddressSpace) Find(a GuestAddr) (Mapping, bool) {
	s.lock()
	defer s.unlock()
	return s.findLocked(a)
}

// Map creates a mapping and returns its address.
func (s *AddressSpace) Map(r MapRequest) (GuestAddr, error) {
	s.lock()
	defer s.unlock()
	return s.mapLocked(r)
}

// MapGate maps a page the kernel provides above user space (see mapGateLocked).
func (s *AddressSpace) MapGate(at GuestAddr, content []byte, prot Prot, name string) error {
	s.lock()
	defer s.unlock()
	return s.mapGateLocked(at, content, prot, name)
}

// Unmap removes the mappings in [addr, addr+length).
func (s *AddressSpace) Unmap(addr GuestAddr, length uint64) error {
	s.lock()
	defer s.unlock()
	return s.unmapLocked(addr, length)
}

// Protect changes the permissions of [addr, addr+length), which must be mapped.
func (s *AddressSpace) Protect(addr GuestAddr, length uint64, prot Prot) error {
	s.lock()
	defer s.unlock()
	return s.protectLocked(addr, length, prot)
}

// Remap is mremap: resize the mapping at old, moving it if allowed.
func (s *AddressSpace) Remap(old GuestAddr, oldLen, newLen uint64, mayMove, fixed bool, newAddr GuestAddr) (GuestAddr, error) {
	s.lock()
	defer s.unlock()
	return s.remapLocked(old, oldLen, newLen, mayMove, fixed, newAddr)
}

// SetBrk sets the start of the heap.
func (s *AddressSpace) SetBrk(start GuestAddr) {
	s.lock()
	defer s.unlock()
	s.setBrkLocked(start)
}

// Brk is the brk system call.
func (s *AddressSpace) Brk(want GuestAddr) GuestAddr {
	s.lock()
	defer s.unlock()
	return s.brkLocked(want)
}

// BrkRange is the heap's start and current end.
func (s *AddressSpace) BrkRange() (GuestAddr, GuestAddr) {
	s.lock()
	defer s.unlock()
	return s.brkRangeLocked()
}

// SetMmapTop sets where top-down allocation starts (below the stack).
func (s *AddressSpace) SetMmapTop(a GuestAddr) {
	s.lock()
	defer s.unlock()
	s.setMmapTopLocked(a)
}

// BackingFDs are the descriptors behind the space's shared anonymous memory
// and the fork snapshots behind its private memory.
func (s *AddressSpace) BackingFDs() []int {
	s.lock()
	defer s.unlock()
	return s.backingFDsLocked()
}

// Aliases lists the other guest addresses that map the same file byte as va.
func (s *AddressSpace) Aliases(va GuestAddr) []GuestAddr {
	s.lock()
	defer s.unlock()
	return s.aliasesLocked(va)
}

// HostRanges splits [a, a+n) by mapping and gives the host memory of each piece.
func (s *AddressSpace) HostRanges(a GuestAddr, n uint64) ([]HostRange, error) {
	s.lock()
	defer s.unlock()
	return s.hostRangesLocked(a, n)
}

// MappedRanges is HostRanges over only the mapped pieces of [a, a+n).
func (s *AddressSpace) MappedRanges(a GuestAddr, n uint64) ([]HostRange, bool) {
	s.lock()
	defer s.unlock()
	return s.mappedRangesLocked(a, n)
}

// FileGrew: a fault past the end of a file that has grown since (see fileGrewLocked).
func (s *AddressSpace) FileGrew(a GuestAddr) bool {
	s.lock()
	defer s.unlock()
	return s.fileGrewLocked(a)
}

// Snapshot describes the space for a fork child (see snapshotLocked).
func (s *AddressSpace) Snapshot(lazy bool) (ForkState, []ForkSave) {
	s.lock()
	defer s.unlock()
	return s.snapshotLocked(lazy)
}

// Restore rebuilds a space described by Snapshot (see restoreLocked).
func (s *AddressSpace) Restore(st ForkState, data int, dataBase uint64) error {
	s.lock()
	defer s.unlock()
	return s.restoreLocked(st, data, dataBase)
}

// DetachShm is shmdt (see detachShmLocked).
func (s *AddressSpace) DetachShm(addr GuestAddr) error {
	s.lock()
	defer s.unlock()
	return s.detachShmLocked(addr)
}
