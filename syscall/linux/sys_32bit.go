package linux

import (
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"
)

// The calls 32-bit ABIs have instead of, or besides, the 64-bit ones: large
// files through 64-bit offsets and the *64 structures, mmap2's page
// offsets, and the *_time64 calls. Layouts come from ABI (Stat64, Statfs64,
// Flock64In/Out); handlers are shared with the calls they extend.

// llseek is _llseek(fd, offset_high, offset_low, loff_t *result, whence).
func llseek(t *kernel.Task, a kernel.Args) (uint64, error) {
	off := int64(a.Uint(1))<<32 | int64(a.Uint(2))
	r, err := t.Seek(a.FD(0), off, a.Int(4))
	if err != nil {
		return 0, err
	}
	return 0, t.PutU64(a.Addr(3), uint64(r))
}

// mmap2 is mmap with the offset in 4096-byte units, whatever the page size
// (arch/arm/kernel/entry-common.S sys_mmap2).
func mmap2(t *kernel.Task, a kernel.Args) (uint64, error) {
	return doMmap(t, a.Addr(0), a.U64(1), a.Int(2), a.Int(3), a.FD(4), uint64(a.Uint(5))*4096)
}

func fstat64(t *kernel.Task, a kernel.Args) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(a.FD(0), &st); err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a.Addr(1), t.P.ABI.Stat64(&st))
}

func fstatat64(t *kernel.Task, a kernel.Args) (uint64, error) {
	st, err := statAt(t, a.FD(0), a.Addr(1), a.Int(3))
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a.Addr(2), t.P.ABI.Stat64(st))
}

func stat64(t *kernel.Task, a kernel.Args) (uint64, error) {
	return fstatat64(t, kernel.Args{cwd, a[0], a[1], 0})
}
func lstat64(t *kernel.Task, a kernel.Args) (uint64, error) {
	return fstatat64(t, kernel.Args{cwd, a[0], a[1], unix.AT_SYMLINK_NOFOLLOW})
}

// statfs64 and fstatfs64 take the size of the caller's struct statfs64.
func statfs64(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := t.Path(a.Addr(0))
	if err != nil {
		return 0, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(host, &st); err != nil {
		return 0, err
	}
	b, err := t.P.ABI.Statfs64(a.U64(1), &st)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a.Addr(2), b)
}

func fstatfs64(t *kernel.Task, a kernel.Args) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(a.FD(0), &st); err != nil {
		return 0, err
	}
	b, err := t.P.ABI.Statfs64(a.U64(1), &st)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a.Addr(2), b)
}

// fcntl64 commands for struct flock64 (include/uapi/asm-generic/fcntl.h,
// where long is 32 bits).
const (
	fGetlk64  = 12
	fSetlk64  = 13
	fSetlkw64 = 14
)

// fcntl64 is fcntl whose locks are struct flock64: F_GETLK64 and friends,
// and the OFD locks, which 32-bit ABIs take only here.
func fcntl64(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, cmd := a.FD(0), a.Int(1)
	var host int
	switch cmd {
	case fGetlk64:
		host = fGetlk
	case fSetlk64:
		host = fSetlk
	case fSetlkw64:
		host = fSetlkw
	case fOfdGetlk, fOfdSetlk, fOfdSetlkw:
		host = cmd
	default:
		return fcntl(t, a)
	}
	if err := t.CheckFD(fd); err != nil {
		return 0, err
	}
	fl, err := t.P.ABI.Flock64In(t, a.Addr(2))
	if err != nil {
		return 0, err
	}
	if err := unix.FcntlFlock(uintptr(fd), host, fl); err != nil {
		return 0, err
	}
	if host == fGetlk || host == fOfdGetlk {
		return 0, t.P.ABI.Flock64Out(t, a.Addr(2), fl)
	}
	return 0, nil
}

// sendfile64 is sendfile with a loff_t offset (sendfile's is a long).
func sendfile64(t *kernel.Task, a kernel.Args) (uint64, error) {
	off, err := loffIn(t, a.Addr(2))
	if err != nil {
		return 0, err
	}
	n, err := unix.Sendfile(a.FD(0), a.FD(1), off, int(min(a.U64(3), kernel.MaxRW)))
	if err != nil {
		return 0, err
	}
	return uint64(n), loffOut(t, a.Addr(2), off)
}

func init() {
	kernel.AddEntries(map[string]*kernel.Entry{
		"llseek":      {Fn: llseek, Args: kernel.Kinds(kernel.KFD, kernel.KULong, kernel.KULong, kernel.KPtr, kernel.KInt)},
		"mmap2":       {Fn: mmap2, Args: kernel.Kinds(kernel.KPtr, kernel.KULong, kernel.KProt, kernel.KMapFlags, kernel.KFD, kernel.KULong), Ret: kernel.RetHex},
		"truncate64":  {Fn: truncate, Args: kernel.Kinds(kernel.KPath, kernel.KOff64)},
		"ftruncate64": {Fn: ftruncate, Args: kernel.Kinds(kernel.KFD, kernel.KOff64)},
		"fstat64":     {Fn: fstat64, Args: kernel.Kinds(kernel.KFD, kernel.KPtr)},
		"stat64":      {Fn: stat64, Args: kernel.Kinds(kernel.KPath, kernel.KPtr)},
		"lstat64":     {Fn: lstat64, Args: kernel.Kinds(kernel.KPath, kernel.KPtr)},
		"fstatat64":   {Fn: fstatat64, Args: kernel.Kinds(kernel.KDirFD, kernel.KPath, kernel.KPtr, kernel.KHex)},
		"statfs64":    {Fn: statfs64, Args: kernel.Kinds(kernel.KPath, kernel.KULong, kernel.KPtr)},
		"fstatfs64":   {Fn: fstatfs64, Args: kernel.Kinds(kernel.KFD, kernel.KULong, kernel.KPtr)},
		"fcntl64":     {Fn: fcntl64, Args: kernel.Kinds(kernel.KFD, kernel.KInt, kernel.KULong)},
		"sendfile64":  {Fn: sendfile64, Args: kernel.Kinds(kernel.KFD, kernel.KFD, kernel.KPtr, kernel.KULong)},
	})
}
