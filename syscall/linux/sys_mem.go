package linux

import (
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// mmap flags (include/uapi/asm-generic/mman-common.h; ARM and x86-64 agree).
const (
	mapShared         = 0x01
	mapPrivate        = 0x02
	mapSharedValidate = 0x03
	mapTypeMask       = 0x0f
	mapFixed          = 0x10
	mapAnonymous      = 0x20
	mapFixedNoreplace = 0x100000

	protGrowsdown = 0x01000000
	protGrowsup   = 0x02000000
)

func mmap(t *kernel.Task, a kernel.Args) (uint64, error) {
	return doMmap(t, a.Addr(0), a.U64(1), a.Int(2), a.Int(3), a.FD(4), a.U64(5))
}

func doMmap(t *kernel.Task, addr mem.GuestAddr, length uint64, prot, flags, fd int, off uint64) (uint64, error) {
	if prot&^7 != 0 {
		return 0, unix.EINVAL
	}
	typ := flags & mapTypeMask
	if typ != mapShared && typ != mapPrivate && typ != mapSharedValidate {
		return 0, unix.EINVAL
	}
	req := mem.MapRequest{
		Addr: addr, Length: length, Prot: mem.Prot(prot),
		Fixed:     flags&(mapFixed|mapFixedNoreplace) != 0,
		NoReplace: flags&mapFixedNoreplace != 0,
		Shared:    typ != mapPrivate,
		FD:        -1,
		Offset:    off,
	}
	if flags&mapAnonymous == 0 {
		// Linux looks the descriptor up (EBADF); -1 must not reach Map, which
		// takes a negative descriptor to mean anonymous memory.
		if fd < 0 {
			return 0, unix.EBADF
		}
		if err := t.CheckFD(fd); err != nil {
			return 0, err
		}
		req.FD = fd
		req.Name = fdPath(fd)
	} else {
		req.Offset = 0
	}
	if int64(length) <= 0 && length != 0 {
		return 0, unix.ENOMEM
	}
	got, err := t.P.Mem.Map(req)
	return uint64(got), err
}

// fdPath is the file a descriptor names, for /proc/self/maps.
func fdPath(fd int) string {
	name, err := kernel.ReadlinkHostProc("self/fd/" + itoa(fd))
	if err != nil {
		return ""
	}
	return name
}

// pageAlignWraps: Linux's PAGE_ALIGN of n overflows the guest's unsigned
// long and gives 0 (a 32-bit guest's lengths wrap at 4 GiB).
func pageAlignWraps(t *kernel.Task, n uint64) bool {
	top := ^uint64(0) >> (64 - 8*t.WordSize())
	return n > top-(mem.PageSize-1)
}

func munmap(t *kernel.Task, a kernel.Args) (uint64, error) {
	if pageAlignWraps(t, a.U64(1)) {
		return 0, unix.EINVAL
	}
	return 0, t.P.Mem.Unmap(a.Addr(0), a.U64(1))
}

func mprotect(t *kernel.Task, a kernel.Args) (uint64, error) {
	prot := a.Int(2) &^ (protGrowsdown | protGrowsup)
	if prot&^7 != 0 {
		return 0, unix.EINVAL
	}
	if pageAlignWraps(t, a.U64(1)) {
		return 0, unix.ENOMEM
	}
	return 0, t.P.Mem.Protect(a.Addr(0), a.U64(1), mem.Prot(prot))
}

// mremap flags.
const (
	mremapMaymove   = 1
	mremapFixed     = 2
	mremapDontunmap = 4
)

func mremap(t *kernel.Task, a kernel.Args) (uint64, error) {
	flags := a.Int(3)
	if flags&^(mremapMaymove|mremapFixed) != 0 || pageAlignWraps(t, a.U64(1)) || pageAlignWraps(t, a.U64(2)) {
		return 0, unix.EINVAL
	}
	got, err := t.P.Mem.Remap(a.Addr(0), a.U64(1), a.U64(2), flags&mremapMaymove != 0, flags&mremapFixed != 0, a.Addr(4))
	return uint64(got), err
}

func brk(t *kernel.Task, a kernel.Args) (uint64, error) {
	return uint64(t.P.Mem.Brk(a.Addr(0))), nil
}

// madvise advice values a guest may give; the rest are refused, since some
// (MADV_HWPOISON, MADV_SOFT_OFFLINE) would act on the host's real pages.
var madviseAllowed = map[int]bool{
	0: true, 1: true, 2: true, 3: true, 4: true, 8: true, 9: true, 10: true, 11: true, 12: true,
	13: true, 14: true, 15: true, 16: true, 17: true, 18: true, 19: true, 20: true, 21: true,
	22: true, 23: true,
}

// madvise advice (include/uapi/asm-generic/mman-common.h).
const (
	madvDontneed   = 4
	madvFree       = 8
	madvWipeonfork = 18
)

func madvise(t *kernel.Task, a kernel.Args) (uint64, error) {
	advice := a.Int(2)
	if !madviseAllowed[advice] || uint64(a.Addr(0))%mem.PageSize != 0 {
		return 0, unix.EINVAL
	}
	if a.U64(1) == 0 {
		return 0, nil
	}
	// A fork child's inherited memory is a private mapping of its snapshot
	// on the host: where anonymous memory behaves otherwise (DONTNEED and
	// FREE zero it; WIPEONFORK is refused for file mappings), it becomes
	// the process's own anonymous memory first.
	switch advice {
	case madvDontneed, madvFree:
		if err := t.P.Mem.Anonymize(a.Addr(0), a.U64(1), false); err != nil {
			return 0, err
		}
	case madvWipeonfork:
		if err := t.P.Mem.Anonymize(a.Addr(0), a.U64(1), true); err != nil {
			return 0, err
		}
	}
	// Like Linux, advice applies to the mapped pieces of a range with holes,
	// and the holes are reported afterwards (MADV_DONTNEED still zeroes).
	rs, complete := t.P.Mem.MappedRanges(a.Addr(0), a.U64(1))
	for _, r := range rs {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, r.Host, uintptr(r.Len), uintptr(advice)); e != 0 {
			return 0, e
		}
	}
	if !complete {
		return 0, unix.ENOMEM
	}
	return 0, nil
}

func msync(t *kernel.Task, a kernel.Args) (uint64, error) {
	if uint64(a.Addr(0))%mem.PageSize != 0 {
		return 0, unix.EINVAL
	}
	rs, err := t.P.Mem.HostRanges(a.Addr(0), a.U64(1))
	if err != nil {
		return 0, err
	}
	for _, r := range rs {
		if _, _, e := unix.Syscall(unix.SYS_MSYNC, r.Host, uintptr(r.Len), uintptr(a.Int(2))); e != 0 {
			return 0, e
		}
	}
	return 0, nil
}

// mincore as mm/mincore.c does it: a zero length is 0 whatever the
// address, vec must lie in user space, and the answer is made and copied
// out a chunk at a time (the kernel's one page of vector per round), so
// host memory stays bounded however large the range.
func mincore(t *kernel.Task, a kernel.Args) (uint64, error) {
	start, n, vec := a.Addr(0), a.U64(1), a.Addr(2)
	if uint64(start)%mem.PageSize != 0 {
		return 0, unix.EINVAL
	}
	if !t.AccessOK(start, n) {
		return 0, unix.ENOMEM
	}
	pages := (n + mem.PageSize - 1) / mem.PageSize
	if pages == 0 {
		return 0, nil
	}
	if !t.AccessOK(vec, pages) {
		return 0, unix.EFAULT
	}
	rs, err := t.P.Mem.HostRanges(start, n)
	if err != nil {
		return 0, err
	}
	const chunk = 4096 // pages per round
	part := make([]byte, chunk)
	for _, r := range rs {
		for off := uint64(0); off < r.Len; off += chunk * mem.PageSize {
			np := min((r.Len-off)/mem.PageSize, chunk)
			if _, _, e := unix.Syscall(unix.SYS_MINCORE, r.Host+uintptr(off), uintptr(np*mem.PageSize), uintptr(kernel.UnsafePointer(&part[0]))); e != 0 {
				return 0, e
			}
			at := vec + mem.GuestAddr((uint64(r.Guest-start)+off)/mem.PageSize)
			if err := t.CopyOut(at, part[:np]); err != nil {
				return 0, err
			}
		}
	}
	return 0, nil
}

func mlock(t *kernel.Task, a kernel.Args) (uint64, error) {
	return memLock(t, a.Addr(0), a.U64(1), unix.SYS_MLOCK)
}
func munlock(t *kernel.Task, a kernel.Args) (uint64, error) {
	return memLock(t, a.Addr(0), a.U64(1), unix.SYS_MUNLOCK)
}

// memLock locks or unlocks the host pages behind a guest range.
func memLock(t *kernel.Task, a mem.GuestAddr, n uint64, call uintptr) (uint64, error) {
	start := mem.GuestAddr(uint64(a) &^ (mem.PageSize - 1))
	rs, err := t.P.Mem.HostRanges(start, n+uint64(a-start))
	if err != nil {
		return 0, err
	}
	for _, r := range rs {
		if _, _, e := unix.Syscall(call, r.Host, uintptr(r.Len), 0); e != 0 {
			return 0, e
		}
	}
	return 0, nil
}

// mlockall locks the guest's current mappings (MCL_CURRENT). MCL_FUTURE would
// lock the emulator's own reservations too, so it is not passed on.
func mlockall(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.Int(0)&^7 != 0 || a.Int(0) == 0 {
		return 0, unix.EINVAL
	}
	if a.Int(0)&1 != 0 {
		for _, m := range t.P.Mem.Mappings() {
			if m.Prot != mem.ProtNone {
				if _, err := memLock(t, m.Start, uint64(m.End-m.Start), unix.SYS_MLOCK); err != nil {
					return 0, err
				}
			}
		}
	}
	return 0, nil
}

func munlockall(t *kernel.Task, a kernel.Args) (uint64, error) {
	for _, m := range t.P.Mem.Mappings() {
		memLock(t, m.Start, uint64(m.End-m.Start), unix.SYS_MUNLOCK)
	}
	return 0, nil
}
