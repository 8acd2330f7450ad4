package syscall

import (
	"golang.org/x/sys/unix"
)

// The calls 32-bit ABIs have instead of, or besides, the 64-bit ones: large
// files through 64-bit offsets and the *64 structures, mmap2's page
// offsets, and the *_time64 calls. Layouts come from ABI (Stat64, Statfs64,
// Flock64In/Out); handlers are shared with the calls they extend.

// time64Calls are the calls taking struct __kernel_timespec (64-bit
// seconds) that 32-bit ABIs add beside their time32 originals
// (include/uapi/asm-generic/unistd.h 403-423): each is its original's entry
// with Entry.Time64 set.
var time64Calls = map[string]string{
	"clock_gettime64":              "clock_gettime",
	"clock_getres_time64":          "clock_getres",
	"clock_nanosleep_time64":       "clock_nanosleep",
	"utimensat_time64":             "utimensat",
	"futex_time64":                 "futex",
	"ppoll_time64":                 "ppoll",
	"pselect6_time64":              "pselect6",
	"timerfd_gettime64":            "timerfd_gettime",
	"timerfd_settime64":            "timerfd_settime",
	"recvmmsg_time64":              "recvmmsg",
	"rt_sigtimedwait_time64":       "rt_sigtimedwait",
	"clock_settime64":              "clock_settime",
	"timer_gettime64":              "timer_gettime",
	"timer_settime64":              "timer_settime",
	"mq_timedsend_time64":          "mq_timedsend",
	"mq_timedreceive_time64":       "mq_timedreceive",
	"semtimedop_time64":            "semtimedop",
	"io_pgetevents_time64":         "io_pgetevents",
	"sched_rr_get_interval_time64": "sched_rr_get_interval",
}

// llseek is _llseek(fd, offset_high, offset_low, loff_t *result, whence).
func llseek(t *Task, a Args) (uint64, error) {
	off := int64(a.Uint(1))<<32 | int64(a.Uint(2))
	r, err := t.seek(a.FD(0), off, a.Int(4))
	if err != nil {
		return 0, err
	}
	return 0, t.putU64(a.Addr(3), uint64(r))
}

// mmap2 is mmap with the offset in 4096-byte units, whatever the page size
// (arch/arm/kernel/entry-common.S sys_mmap2).
func mmap2(t *Task, a Args) (uint64, error) {
	return t.doMmap(a.Addr(0), a.U64(1), a.Int(2), a.Int(3), a.FD(4), uint64(a.Uint(5))*4096)
}

func fstat64(t *Task, a Args) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(a.FD(0), &st); err != nil {
		return 0, err
	}
	return 0, t.copyOut(a.Addr(1), t.P.ABI.Stat64(&st))
}

func fstatat64(t *Task, a Args) (uint64, error) {
	st, err := t.statAt(a.FD(0), a.Addr(1), a.Int(3))
	if err != nil {
		return 0, err
	}
	return 0, t.copyOut(a.Addr(2), t.P.ABI.Stat64(st))
}

func stat64(t *Task, a Args) (uint64, error) { return fstatat64(t, Args{cwd, a[0], a[1], 0}) }
func lstat64(t *Task, a Args) (uint64, error) {
	return fstatat64(t, Args{cwd, a[0], a[1], unix.AT_SYMLINK_NOFOLLOW})
}

// statfs64 and fstatfs64 take the size of the caller's struct statfs64.
func statfs64(t *Task, a Args) (uint64, error) {
	host, err := t.path(a.Addr(0))
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
	return 0, t.copyOut(a.Addr(2), b)
}

func fstatfs64(t *Task, a Args) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(a.FD(0), &st); err != nil {
		return 0, err
	}
	b, err := t.P.ABI.Statfs64(a.U64(1), &st)
	if err != nil {
		return 0, err
	}
	return 0, t.copyOut(a.Addr(2), b)
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
func fcntl64(t *Task, a Args) (uint64, error) {
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
	if err := t.checkFD(fd); err != nil {
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
func sendfile64(t *Task, a Args) (uint64, error) {
	off, err := t.loffIn(a.Addr(2))
	if err != nil {
		return 0, err
	}
	n, err := unix.Sendfile(a.FD(0), a.FD(1), off, int(min(a.U64(3), maxRW)))
	if err != nil {
		return 0, err
	}
	return uint64(n), t.loffOut(a.Addr(2), off)
}

func init() {
	addEntries(map[string]*Entry{
		"llseek":      {Fn: llseek, Args: kinds(KFD, KULong, KULong, KPtr, KInt)},
		"mmap2":       {Fn: mmap2, Args: kinds(KPtr, KULong, KProt, KMapFlags, KFD, KULong), Ret: RetHex},
		"truncate64":  {Fn: truncate, Args: kinds(KPath, KOff64)},
		"ftruncate64": {Fn: ftruncate, Args: kinds(KFD, KOff64)},
		"fstat64":     {Fn: fstat64, Args: kinds(KFD, KPtr)},
		"stat64":      {Fn: stat64, Args: kinds(KPath, KPtr)},
		"lstat64":     {Fn: lstat64, Args: kinds(KPath, KPtr)},
		"fstatat64":   {Fn: fstatat64, Args: kinds(KDirFD, KPath, KPtr, KHex)},
		"statfs64":    {Fn: statfs64, Args: kinds(KPath, KULong, KPtr)},
		"fstatfs64":   {Fn: fstatfs64, Args: kinds(KFD, KULong, KPtr)},
		"fcntl64":     {Fn: fcntl64, Args: kinds(KFD, KInt, KULong)},
		"sendfile64":  {Fn: sendfile64, Args: kinds(KFD, KFD, KPtr, KULong)},
	})
}
