// Package mem owns a guest's address space: one host reservation (the arena) that
// backs every guest page, the guest's mappings and their permissions, and the page
// table the CPU's TLB-fill callback reads. Guest memory is read and written only
// through its methods, which check every access against the guest's permissions.
package mem

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// GuestAddr is an address in the guest's address space.
type GuestAddr uint64

// Prot is a guest page permission: the same bits as Linux's PROT_* and
// Unicorn's UC_PROT_*.
type Prot uint32

const (
	ProtNone  Prot = 0
	ProtRead  Prot = 1
	ProtWrite Prot = 2
	ProtExec  Prot = 4
)

const PageSize = 4096

func pageDown(a uint64) uint64 { return a &^ (PageSize - 1) }
func pageUp(a uint64) uint64   { return (a + PageSize - 1) &^ (PageSize - 1) }

// wrapsPageUp: rounding a up to a page wraps past zero (a length the guest
// gave that Linux's PAGE_ALIGN turns into 0).
func wrapsPageUp(a uint64) bool { return a != 0 && pageUp(a) == 0 }

// Layout is the shape of a guest address space.
type Layout struct {
	Limit     GuestAddr // first address past user space
	MinAddr   GuestAddr // lowest address mmap hands out (Linux's mmap_min_addr)
	ArenaSize uint64    // host memory reserved to back guest pages
}

// Mapping is one guest mapping: a range with one permission and one backing.
type Mapping struct {
	Start, End GuestAddr
	Prot       Prot
	Shared     bool
	Phys       uint64 // arena offset of Start
	Dev, Ino   uint64 // the backing file, 0 for anonymous memory
	Offset     uint64 // file offset of Start (segment offset for System V shm)
	Name       string // file path, or "[heap]", "[stack]", ...
	// Shm says a System V shared memory segment backs the mapping: the
	// host's segment ShmID, attached (host shmat) in the arena slot, from
	// segment offset Offset on. A copy of the address space attaches it
	// again the same way.
	Shm   bool
	ShmID int
	// SizedFile says the mapping is of a regular file of FileSize bytes (at
	// mapping time): its pages past the end of the file are refused, since
	// touching them raises SIGBUS on the host as it does for the guest.
	SizedFile bool
	FileSize  uint64
	// BackingFD is the host descriptor of the memory behind shared
	// anonymous memory (a memfd): what a fork child maps again.
	BackingFD int
	// SnapFD, for private anonymous memory, is the fork snapshot this
	// process was started from (the memfd its parent's fork child saved the
	// pages into), which the host maps privately at SnapOff: the pages come
	// from it copy-on-write, as they would from the parent's on Linux, and
	// are not read in. Zero for memory of the process's own.
	SnapFD  int
	SnapOff uint64
}

// EOF is the first address of m whose page lies wholly past the end of its
// file (End if there is none).
func (m *Mapping) EOF() GuestAddr {
	if !m.SizedFile {
		return m.End
	}
	last := pageUp(m.FileSize)
	if last <= m.Offset {
		return m.Start
	}
	if last-m.Offset >= uint64(m.End-m.Start) {
		return m.End
	}
	return m.Start + GuestAddr(last-m.Offset)
}

// hasOffset: pieces of m keep the offset of their first byte in what backs
// them (a file or a System V segment).
func (m *Mapping) hasOffset() bool { return m.Dev != 0 || m.Ino != 0 || m.Shm }

// Observer is told when translations the CPU may have cached become stale.
type Observer interface {
	FlushTLB()
	InvalidateCode(start, end GuestAddr)
}

// AddressSpace is the single owner of a guest's memory.
type AddressSpace struct {
	Layout
	// mappedSaved are the arena ranges (offset, length) mapSaved mapped
	// from a fork's data file: pagemap counts their pages as a file's, so
	// a fork of this space saves them whole (snapshotLocked).
	mappedSaved [][2]uint64
	arena       uintptr
	arenaMem    []byte // the whole arena, for pointer arithmetic the checker accepts
	arenaLen    uint64
	pt          *pageTable
	maps        mappingTree
	phys        physAllocator
	observer    Observer

	maxMaps          int       // the most mappings the guest may have (-1: not read yet, 0: no limit)
	mmapTop          GuestAddr // top-down allocation starts below this
	brkStart, brkEnd GuestAddr

	// backings are the BackingFDs and SnapFDs mappings use; FDHook hears of each as it
	// is opened and closed (the kernel keeps them from the guest), and they
	// are put at FDBase or above.
	backings []int
	FDHook   func(fd int, open bool)
	FDBase   int

	limits          Limits
	limitsSet       bool // a limit is not Unlimited
	readImpliesExec bool

	// lazy fills a vfork child's private memory from its parent (lazy.go).
	lazy LazySource
	// lazyWhole: every page of lazy was installed (Materialize).
	lazyWhole bool

	mu          sync.Mutex // see locking.go
	staleTLB    bool
	pendingFree []pendingFree
}

// New reserves the arena and an empty page table.
func New(l Layout) (*AddressSpace, error) {
	arenaMem, err := unix.Mmap(-1, 0, int(l.ArenaSize), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, err
	}
	pt, err := newPageTable()
	if err != nil {
		unix.Munmap(arenaMem)
		return nil, err
	}
	arena := uintptr(unsafe.Pointer(&arenaMem[0]))
	s := &AddressSpace{Layout: l, arena: arena, arenaMem: arenaMem, arenaLen: l.ArenaSize, pt: pt, mmapTop: l.Limit,
		maxMaps: -1}
	s.phys.init(l.ArenaSize)
	return s, nil
}

// hostMapReserve is how many of the host's mappings (vm.max_map_count) are
// left to xemu itself: its Go heap, C heap and translated code.
const hostMapReserve = 2048

// maxMapCount is how many mappings a guest may have: as many as Linux lets a
// process have (vm.max_map_count), less what xemu needs of the host's
// allowance, since a guest's file and shared mappings are host mappings
// too and the host's limit, once reached, would fail xemu's own
// allocations.
var maxMapCount = sync.OnceValue(func() int {
	n := 65530 // DEFAULT_MAX_MAP_COUNT
	if b, err := os.ReadFile("/proc/sys/vm/max_map_count"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && v > 0 {
			n = v
		}
	}
	return max(n-hostMapReserve, minMaxMaps)
})

// minMaxMaps is the fewest mappings maxMapCount allows a guest.
const minMaxMaps = 1024

// mapsFull: extra more mappings would pass the limit (Linux: ENOMEM). The
// limit is read when a guest comes near the least it can be (a file read
// less at every start).
func (s *AddressSpace) mapsFull(extra int) bool {
	if s.maxMaps < 0 {
		if s.maps.n+extra <= minMaxMaps {
			return false
		}
		s.maxMaps = maxMapCount()
	}
	return s.maxMaps > 0 && s.maps.n+extra > s.maxMaps
}

// reserve maps inaccessible, unaccounted host memory, at fixed if non-zero.
func reserve(fixed uintptr, length uint64) (uintptr, error) {
	flags := unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_NORESERVE
	if fixed != 0 {
		flags |= unix.MAP_FIXED
	}
	p, _, e := unix.Syscall6(unix.SYS_MMAP, fixed, uintptr(length), unix.PROT_NONE, uintptr(flags), ^uintptr(0), 0)
	if e != 0 {
		return 0, e
	}
	return p, nil
}

// Close releases the arena (System V segments attached in it are detached
// with it), the page table and the descriptors behind the guest's memory.
func (s *AddressSpace) Close() {
	s.stopLazy()
	for _, fd := range s.backings {
		if s.FDHook != nil {
			s.FDHook(fd, false)
		}
		unix.Close(fd)
	}
	s.backings = nil
	if s.arenaMem != nil {
		unix.Munmap(s.arenaMem)
		s.arenaMem, s.arena = nil, 0
	}
	if s.pt != nil {
		s.pt.free()
		s.pt = nil
	}
}

// SetObserver connects the CPU that caches this space's translations.
func (s *AddressSpace) SetObserver(o Observer) { s.observer = o }

// Arena is the host memory behind the guest's pages, for uc_mem_map_ptr.
func (s *AddressSpace) Arena() (uintptr, uint64) { return s.arena, s.arenaLen }

// PageTableRoot is the host address of the page table's top level, for the C side.
func (s *AddressSpace) PageTableRoot() uintptr { return s.pt.RootAddr() }

// SetMmapTop sets where top-down allocation starts (below the stack).
func (s *AddressSpace) setMmapTopLocked(a GuestAddr) {
	s.mmapTop = GuestAddr(pageDown(uint64(a)))
	s.maps.freeCache = 0
}

// Mappings returns a copy of the mappings in address order.
func (s *AddressSpace) mappingsLocked() []Mapping {
	out := make([]Mapping, 0, s.maps.n)
	s.maps.each(func(m *Mapping) bool { out = append(out, *m); return true })
	return out
}

// Count is the number of mappings.
func (s *AddressSpace) countLocked() int { return s.maps.n }

// Find returns the mapping containing a.
func (s *AddressSpace) findLocked(a GuestAddr) (Mapping, bool) {
	if m := s.maps.find(a); m != nil {
		return *m, true
	}
	return Mapping{}, false
}

// MapRequest is a guest mmap, already decoded from the guest's flags.
type MapRequest struct {
	Addr      GuestAddr
	Length    uint64
	Prot      Prot
	Fixed     bool // place exactly at Addr, replacing what is there
	NoReplace bool // with Fixed: fail with EEXIST instead of replacing
	Shared    bool
	FD        int // host descriptor, or -1 for anonymous memory
	Offset    uint64
	Name      string
	// Below, if non-zero, is where a top-down search starts instead of the
	// space's mmap top (the loader places an interpreter this way).
	Below GuestAddr
	// Align, if non-zero (a power of two), aligns an address the space
	// chooses (shmat's SHMLBA).
	Align uint64
	// Shm maps System V segment ShmID (attached on the host) instead of a
	// descriptor; FD must be -1.
	Shm   bool
	ShmID int
}

// Map creates a mapping and returns its address.
func (s *AddressSpace) mapLocked(r MapRequest) (GuestAddr, error) {
	if r.Length == 0 || r.Offset%PageSize != 0 {
		return 0, unix.EINVAL
	}
	length := pageUp(r.Length)
	if length < r.Length || length > uint64(s.Limit) {
		return 0, unix.ENOMEM
	}
	// do_mmap: a process at vm.max_map_count maps nothing more.
	if s.mapsFull(1) {
		return 0, unix.ENOMEM
	}
	var addr GuestAddr
	switch {
	case r.Fixed:
		if uint64(r.Addr)%PageSize != 0 {
			return 0, unix.EINVAL
		}
		if uint64(r.Addr) < uint64(s.MinAddr) || uint64(r.Addr)+length > uint64(s.Limit) || uint64(r.Addr)+length < uint64(r.Addr) {
			return 0, unix.ENOMEM
		}
		addr = r.Addr
		if r.NoReplace && len(s.maps.overlapping(addr, addr+GuestAddr(length))) > 0 {
			return 0, unix.EEXIST
		}
		// Replacing the middle of a mapping splits it first, as munmap does.
		if s.splitsInThree(addr, addr+GuestAddr(length)) && s.mapsFull(2) {
			return 0, unix.ENOMEM
		}
	default:
		// Linux rounds a hint up (PAGE_ALIGN): the page holding an unaligned
		// hint is below the hint, so it is not what the caller asked for.
		hint := GuestAddr(pageUp(uint64(r.Addr)))
		if hint != 0 && s.free(hint, length) {
			addr = hint
		} else {
			top := s.mmapTop
			if r.Below != 0 {
				top = r.Below
			}
			a, ok := s.findFreeAligned(length, top, max(r.Align, PageSize))
			if !ok {
				return 0, unix.ENOMEM
			}
			addr = a
		}
	}

	r.Prot = s.impliedProt(r.Prot)
	if err := s.checkGrowth(addr, length, r.Prot, r.Shared, r.Name, r.Fixed); err != nil {
		return 0, err
	}
	m := &Mapping{Start: addr, End: addr + GuestAddr(length), Prot: r.Prot, Shared: r.Shared, Offset: r.Offset, Name: r.Name,
		Shm: r.Shm, ShmID: r.ShmID}
	if r.Shared && r.FD < 0 && !r.Shm {
		// Shared anonymous memory lives in a memfd from the start, so that
		// a fork child can map the same memory.
		fd, err := s.sharedAnon(length)
		if err != nil {
			return 0, err
		}
		r.FD, r.Offset, m.BackingFD = fd, 0, fd
		m.Name = "/dev/zero (deleted)"
		// Until the mapping is installed, a failure closes it here.
		s.backings = append(s.backings, fd)
		defer s.sweepBackings()
	}
	if r.FD >= 0 {
		var st unix.Stat_t
		if err := unix.Fstat(r.FD, &st); err != nil {
			return 0, err
		}
		m.Dev, m.Ino = st.Dev, st.Ino
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			m.FileSize = uint64(st.Size)
			m.SizedFile = true
		}
	}
	phys, ok := s.phys.alloc(length, s.physHint(addr))
	if !ok {
		return 0, unix.ENOMEM
	}
	m.Phys = phys
	if err := s.backHost(m, r.FD); err != nil {
		s.phys.free(phys, length)
		return 0, err
	}
	// Linux replaces a fixed mapping's old pages only once the new ones exist.
	replaced := s.replaceRange(m)
	if err := s.install(m); err != nil {
		s.release(m)
		return 0, err
	}
	if replaced && s.observer != nil {
		s.staleTLB = true
	}
	return addr, nil
}

// MapGate maps a page the kernel provides above user space (at or past
// Limit), as ARM Linux maps its vector page with the kuser helpers at
// 0xffff0000. The guest runs and reads it, but cannot change it: mmap,
// munmap, mprotect and mremap stop at Limit, and system calls that copy from
// guest memory refuse it, as Linux's access_ok refuses kernel addresses.
func (s *AddressSpace) mapGateLocked(at GuestAddr, content []byte, prot Prot, name string) error {
	length := pageUp(uint64(len(content)))
	end := uint64(at) + length
	if uint64(at)%PageSize != 0 || length == 0 || uint64(at) < uint64(s.Limit) || end < uint64(at) || end > 1<<48 {
		return unix.EINVAL
	}
	if len(s.maps.overlapping(at, GuestAddr(end))) > 0 {
		return unix.EEXIST
	}
	phys, ok := s.phys.alloc(length, ^uint64(0))
	if !ok {
		return unix.ENOMEM
	}
	m := &Mapping{Start: at, End: GuestAddr(end), Prot: prot, Phys: phys, Name: name}
	if err := s.backHost(m, -1); err != nil {
		s.phys.free(phys, length)
		return err
	}
	copy(s.arenaMem[phys:phys+length], content)
	if err := s.install(m); err != nil {
		s.release(m)
		return err
	}
	return nil
}

// physHint asks for arena space right after the mapping below addr, so that
// neighbouring mappings (a growing heap, a loaded image) stay contiguous.
func (s *AddressSpace) physHint(addr GuestAddr) uint64 {
	if prev := s.maps.floor(addr - 1); prev != nil && prev.End == addr {
		return prev.Phys + uint64(prev.End-prev.Start)
	}
	return ^uint64(0)
}

// backHost puts host memory for m into its arena slot.
func (s *AddressSpace) backHost(m *Mapping, fd int) error {
	length := uint64(m.End - m.Start)
	host := s.arena + uintptr(m.Phys)
	if m.Shm {
		return s.attachHost(m)
	}
	prot := unix.PROT_READ | unix.PROT_WRITE
	flags := unix.MAP_FIXED
	if m.Shared {
		flags |= unix.MAP_SHARED
		// A shared file mapping writes through: the host may write only where
		// the guest may (a read-only descriptor allows only PROT_READ).
		prot = hostSharedProt(m.Prot)
	} else {
		flags |= unix.MAP_PRIVATE | unix.MAP_NORESERVE
	}
	offset := m.Offset
	if m.SnapFD > 0 && fd < 0 && !m.Shared {
		fd, offset = m.SnapFD, m.SnapOff
	}
	if fd < 0 {
		flags |= unix.MAP_ANONYMOUS
	}
	_, _, e := unix.Syscall6(unix.SYS_MMAP, host, uintptr(length), uintptr(prot), uintptr(flags), uintptr(fd), uintptr(offset))
	if e != 0 {
		return e
	}
	return nil
}

func hostSharedProt(p Prot) int {
	prot := unix.PROT_READ
	if p&ProtWrite != 0 {
		prot |= unix.PROT_WRITE
	}
	return prot
}

// pteBits is the page-table entry for m's pages. A PROT_NONE page is present
// with no permission bits, not absent: the fill callback refuses it all the same,
// but a fault on it must report the page as mapped (SEGV_ACCERR, as Linux does,
// rather than SEGV_MAPERR).
func (m *Mapping) pteBits() uint64 {
	bits := uint64(m.Prot&7) | ptePresent
	if m.Shared {
		bits |= pteShared
	}
	return bits
}

// writePTEs writes m's page-table entries; pages past the end of its file
// are present without permission, so every access to them faults.
func (s *AddressSpace) writePTEs(m *Mapping) error {
	eof := m.EOF()
	if err := s.pt.set(uint64(m.Start), uint64(eof), m.Phys, m.pteBits()); err != nil {
		return err
	}
	if eof < m.End {
		return s.pt.set(uint64(eof), uint64(m.End), m.Phys+uint64(eof-m.Start), m.pteBits()&^uint64(ProtRead|ProtWrite|ProtExec))
	}
	return nil
}

func (s *AddressSpace) install(m *Mapping) error {
	if err := s.writePTEs(m); err != nil {
		return err
	}
	s.maps.insert(m)
	return nil
}

// release gives m's arena slot back, leaving it reserved but empty, once no
// engine can reach it any more (settle).
func (s *AddressSpace) release(m *Mapping) {
	s.pendingFree = append(s.pendingFree, pendingFree{m.Phys, uint64(m.End - m.Start)})
}

// free reports whether [a, a+length) is inside user space and unmapped.
func (s *AddressSpace) free(a GuestAddr, length uint64) bool {
	end := uint64(a) + length
	if uint64(a) < uint64(s.MinAddr) || end > uint64(s.Limit) || end < uint64(a) {
		return false
	}
	return len(s.maps.overlapping(a, GuestAddr(end))) == 0
}

// findFree finds the highest gap of length bytes below top, as Linux's top-down
// allocator does.
func (s *AddressSpace) findFree(length uint64, top GuestAddr) (GuestAddr, bool) {
	return s.findFreeAligned(length, top, PageSize)
}

// findFreeAligned is findFree for a start aligned to align.
func (s *AddressSpace) findFreeAligned(length uint64, top GuestAddr, align uint64) (GuestAddr, bool) {
	cur := uint64(top)
	if cur > uint64(s.Limit) {
		cur = uint64(s.Limit)
	}
	// The common search (from the mmap top, page-aligned) starts where the
	// last one ended when no gap above it can hold length bytes.
	cached := top == s.mmapTop && align == PageSize
	var hole uint64
	if cached && s.maps.freeCache != 0 && length > s.maps.holeSize {
		cur, hole = uint64(s.maps.freeCache), s.maps.holeSize
	}
	for cur >= length && (cur-length)&^(align-1) >= uint64(s.MinAddr) {
		start := (cur - length) &^ (align - 1)
		prev := s.maps.floor(GuestAddr(cur - 1))
		if prev == nil || uint64(prev.End) <= start {
			if cached {
				s.maps.freeCache, s.maps.holeSize = GuestAddr(start), hole
			}
			return GuestAddr(start), true
		}
		if uint64(prev.End) < cur {
			hole = max(hole, cur-uint64(prev.End))
		}
		cur = uint64(prev.Start)
	}
	return 0, false
}

// Unmap removes the mappings in [addr, addr+length).
func (s *AddressSpace) unmapLocked(addr GuestAddr, length uint64) error {
	if uint64(addr)%PageSize != 0 || length == 0 || wrapsPageUp(length) {
		return unix.EINVAL
	}
	end := uint64(addr) + pageUp(length)
	if end < uint64(addr) || end > uint64(s.Limit) {
		return unix.EINVAL
	}
	if s.splitsInThree(addr, GuestAddr(end)) && s.mapsFull(1) {
		return unix.ENOMEM
	}
	if s.unmapRange(addr, GuestAddr(end)) && s.observer != nil {
		s.staleTLB = true
	}
	return nil
}

// splitsInThree reports whether removing [start, end) leaves a piece of one
// mapping on both sides, one more mapping than before: mm/vma.c
// vms_gather_munmap_vmas refuses that split with ENOMEM at vm.max_map_count.
func (s *AddressSpace) splitsInThree(start, end GuestAddr) bool {
	m := s.maps.find(start)
	return m != nil && m.Start < start && end < m.End
}

// unmapRange removes [start, end) from the guest's view and the arena, splitting
// mappings at the edges. It reports whether anything was removed; code
// translated from removed executable pages is dropped before they go.
func (s *AddressSpace) unmapRange(start, end GuestAddr) bool {
	removed := s.removeRange(start, end)
	s.sweepBackings()
	return removed
}

// replaceRange removes what lies where m goes, keeping m's backing open.
func (s *AddressSpace) replaceRange(m *Mapping) bool {
	return s.removeRange(m.Start, m.End)
}

func (s *AddressSpace) removeRange(start, end GuestAddr) bool {
	ms := s.maps.overlapping(start, end)
	for _, m := range ms {
		s.splitAt(m, start)
	}
	ms = s.maps.overlapping(start, end)
	if len(ms) == 0 {
		return false
	}
	for _, m := range ms {
		if m.End > end {
			s.splitAt(m, end)
		}
	}
	for _, m := range s.maps.overlapping(start, end) {
		if m.Prot&ProtExec != 0 && s.observer != nil {
			s.observer.InvalidateCode(m.Start, m.End)
		}
		s.maps.remove(m)
		s.pt.set(uint64(m.Start), uint64(m.End), 0, 0)
		s.release(m)
	}
	return true
}

// sharedAnon makes the memfd behind length bytes of shared anonymous memory.
func (s *AddressSpace) sharedAnon(length uint64) (int, error) {
	fd, err := unix.MemfdCreate("xemu-shared", unix.MFD_CLOEXEC)
	if err != nil {
		return -1, err
	}
	if err := unix.Ftruncate(fd, int64(length)); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if s.FDBase > 0 {
		if h, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, s.FDBase); err == nil {
			unix.Close(fd)
			fd = h
		}
	}
	if s.FDHook != nil {
		s.FDHook(fd, true)
	}
	return fd, nil
}

// sweepBackings closes the backing descriptors no mapping uses any more.
func (s *AddressSpace) sweepBackings() {
	if len(s.backings) == 0 {
		return
	}
	used := map[int]bool{}
	s.maps.each(func(m *Mapping) bool {
		if m.BackingFD > 0 {
			used[m.BackingFD] = true
		}
		if m.SnapFD > 0 {
			used[m.SnapFD] = true
		}
		return true
	})
	kept := s.backings[:0]
	for _, fd := range s.backings {
		if used[fd] {
			kept = append(kept, fd)
			continue
		}
		if s.FDHook != nil {
			s.FDHook(fd, false)
		}
		unix.Close(fd)
	}
	s.backings = kept
}

// BackingFDs are the descriptors behind the space's shared anonymous memory
// and the fork snapshots behind its private memory.
func (s *AddressSpace) backingFDsLocked() []int { return append([]int(nil), s.backings...) }

// splitAt cuts m in two at a (a page boundary strictly inside m).
func (s *AddressSpace) splitAt(m *Mapping, a GuestAddr) {
	if a <= m.Start || a >= m.End {
		return
	}
	off := uint64(a - m.Start)
	hi := *m
	hi.Start = a
	hi.Phys += off
	if hi.hasOffset() {
		hi.Offset += off
	}
	if hi.SnapFD > 0 {
		hi.SnapOff += off
	}
	s.maps.remove(m)
	m.End = a
	s.maps.insert(m)
	s.maps.insert(&hi)
}

// Protect changes the permissions of [addr, addr+length), which must be mapped.
func (s *AddressSpace) protectLocked(addr GuestAddr, length uint64, prot Prot) error {
	if uint64(addr)%PageSize != 0 {
		return unix.EINVAL
	}
	prot = s.impliedProt(prot)
	if length == 0 {
		return nil
	}
	end := GuestAddr(uint64(addr) + pageUp(length))
	if wrapsPageUp(length) || end <= addr || uint64(end) > uint64(s.Limit) {
		return unix.ENOMEM
	}
	if !s.covered(addr, end) {
		return unix.ENOMEM
	}
	// __split_vma: a split past vm.max_map_count is ENOMEM.
	splits := 0
	for _, m := range s.maps.overlapping(addr, end) {
		if addr > m.Start && addr < m.End {
			splits++
		}
		if end > m.Start && end < m.End {
			splits++
		}
	}
	if splits > 0 && s.mapsFull(splits) {
		return unix.ENOMEM
	}
	for _, m := range s.maps.overlapping(addr, end) {
		s.splitAt(m, addr)
	}
	for _, m := range s.maps.overlapping(addr, end) {
		s.splitAt(m, end)
	}
	// Shared mappings write through to their object: the host's permission
	// must follow (and may be refused, as for a file opened read-only).
	// Write permission is added on the host first (it may be refused) and
	// taken away last, once no engine holds a writable TLB entry.
	var readOnly []*Mapping
	for _, m := range s.maps.overlapping(addr, end) {
		if m.Shared && m.Prot&ProtWrite == 0 && prot&ProtWrite != 0 {
			_, _, e := unix.Syscall(unix.SYS_MPROTECT, s.arena+uintptr(m.Phys), uintptr(m.End-m.Start), uintptr(hostSharedProt(prot)))
			if e != 0 {
				return e
			}
		}
		if m.Shared && m.Prot&ProtWrite != 0 && prot&ProtWrite == 0 {
			readOnly = append(readOnly, m)
		}
	}
	defer func() {
		if len(readOnly) > 0 {
			s.staleTLB = true
			s.settle()
			for _, m := range readOnly {
				unix.Syscall(unix.SYS_MPROTECT, s.arena+uintptr(m.Phys), uintptr(m.End-m.Start), uintptr(hostSharedProt(m.Prot)))
			}
		}
	}()
	// Code is dropped both when EXEC is added (the bytes may have changed while
	// the page was not executable: stores to it are not watched then) and when
	// it is removed: translated code is keyed by guest address and arena
	// offset, and a slot that is unmapped later without EXEC is not
	// invalidated, so code left behind would run again if a new mapping at the
	// same address reused the slot.
	var execChanged []*Mapping
	for _, m := range s.maps.overlapping(addr, end) {
		if (prot^m.Prot)&ProtExec != 0 {
			execChanged = append(execChanged, m)
		}
		m.Prot = prot
		if err := s.writePTEs(m); err != nil {
			return err
		}
	}
	if s.observer != nil {
		s.staleTLB = true
		for _, m := range execChanged {
			s.observer.InvalidateCode(m.Start, m.End)
		}
	}
	return nil
}

// covered reports whether every page of [start, end) is mapped.
func (s *AddressSpace) covered(start, end GuestAddr) bool {
	cur := start
	for _, m := range s.maps.overlapping(start, end) {
		if m.Start > cur {
			return false
		}
		cur = m.End
	}
	return cur >= end
}

// Aliases lists the guest addresses, other than va itself, that map the same
// file byte as va: the other views of a JIT's double-mapped code.
func (s *AddressSpace) aliasesLocked(va GuestAddr) []GuestAddr {
	m := s.maps.find(va)
	if m == nil || !m.Shared || !m.hasOffset() {
		return nil
	}
	off := m.Offset + uint64(va-m.Start)
	var out []GuestAddr
	s.maps.each(func(o *Mapping) bool {
		same := o.Dev == m.Dev && o.Ino == m.Ino && !m.Shm && !o.Shm || m.Shm && o.Shm && o.ShmID == m.ShmID
		if o != m && same && off >= o.Offset && off < o.Offset+uint64(o.End-o.Start) {
			out = append(out, o.Start+GuestAddr(off-o.Offset))
		}
		return true
	})
	return out
}

// HostRange is a piece of a guest range and the host memory behind it.
type HostRange struct {
	Guest GuestAddr
	Host  uintptr
	Len   uint64
	Map   *Mapping
}

// HostRanges splits [a, a+n) by mapping and gives the host memory of each
// piece, for host calls that act on memory itself (madvise, msync, mincore).
// ENOMEM if part of the range is not mapped, as Linux says.
func (s *AddressSpace) hostRangesLocked(a GuestAddr, n uint64) ([]HostRange, error) {
	out, complete := s.mappedRangesLocked(a, n)
	if !complete {
		return nil, unix.ENOMEM
	}
	return out, nil
}

// MappedRanges is HostRanges over only the mapped pieces of [a, a+n);
// complete says whether nothing was missing. Linux's madvise acts on the
// mapped pieces of a range with holes and then reports ENOMEM.
func (s *AddressSpace) mappedRangesLocked(a GuestAddr, n uint64) (out []HostRange, complete bool) {
	end := GuestAddr(pageUp(uint64(a) + n))
	if uint64(end) < uint64(a) || uint64(end) > uint64(s.Limit) {
		return nil, false
	}
	for _, m := range s.maps.overlapping(a, end) {
		lo, hi := max(m.Start, a), min(m.End, end)
		out = append(out, HostRange{Guest: lo, Host: s.arena + uintptr(m.Phys+uint64(lo-m.Start)), Len: uint64(hi - lo), Map: m})
	}
	return out, s.covered(a, end)
}

// FileGrew is called for a fault on a page of m past the end of its file:
// if the file (still at m.Name, the same inode) has grown to cover a, the
// mapping takes the new size, its pages become accessible, and the access
// can be made again; otherwise it reports false (the fault is a SIGBUS).
func (s *AddressSpace) fileGrewLocked(a GuestAddr) bool {
	m := s.maps.find(a)
	if m == nil || !m.SizedFile || a < m.EOF() {
		return false
	}
	var st unix.Stat_t
	if unix.Stat(m.Name, &st) != nil || st.Dev != m.Dev || st.Ino != m.Ino || uint64(st.Size) <= m.FileSize {
		return false
	}
	m.FileSize = uint64(st.Size)
	if a >= m.EOF() {
		return false
	}
	if err := s.writePTEs(m); err != nil {
		return false
	}
	if s.observer != nil {
		s.staleTLB = true
	}
	return true
}
