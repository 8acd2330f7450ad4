package linux

import (
	"xemu/syscall/abi"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"
)

// fcntl commands (include/uapi/asm-generic/fcntl.h; arm64 and x86-64 agree,
// and struct flock is 32 bytes on both).
const (
	fDupfd        = 0
	fGetfd        = 1
	fSetfd        = 2
	fGetfl        = 3
	fSetfl        = 4
	fGetlk        = 5
	fSetlk        = 6
	fSetlkw       = 7
	fSetown       = 8
	fGetown       = 9
	fSetsig       = 10
	fGetsig       = 11
	fSetownEx     = 15
	fGetownEx     = 16
	fGetownerUIDs = 17
	fOfdGetlk     = 36
	fOfdSetlk     = 37
	fOfdSetlkw    = 38
	fSetlease     = 1024
	fGetlease     = 1025
	fNotify       = 1026
	fDupfdCloexec = 1030
	fSetpipeSz    = 1031
	fGetpipeSz    = 1032
	fAddSeals     = 1033
	fGetSeals     = 1034
)

func fcntl(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, cmd := a.FD(0), a.Int(1)
	if err := t.CheckFD(fd); err != nil {
		return 0, err
	}
	switch cmd {
	case fDupfd, fDupfdCloexec:
		if a.Int(2) >= 0 && !t.P.FDBelowLimit(a.Int(2)) {
			return 0, unix.EINVAL // f_dupfd: from past RLIMIT_NOFILE
		}
		r, err := unix.FcntlInt(uintptr(fd), cmd, a.Int(2))
		if err != nil {
			return 0, err
		}
		t.P.Dirs.Dup(fd, r)
		return t.P.NewFD(r)
	case fGetfd, fGetown, fGetsig, fGetlease, fGetpipeSz, fGetSeals:
		r, err := unix.FcntlInt(uintptr(fd), cmd, 0)
		return uint64(r), err
	case fSetfd, fSetown, fSetsig, fSetlease, fNotify, fSetpipeSz, fAddSeals:
		r, err := unix.FcntlInt(uintptr(fd), cmd, a.Int(2))
		return uint64(r), err
	case fGetfl:
		r, err := unix.FcntlInt(uintptr(fd), cmd, 0)
		return uint64(abi.OpenFlagsToGuest(r)), err
	case fSetfl:
		r, err := unix.FcntlInt(uintptr(fd), cmd, abi.OpenFlagsToHost(a.Int(2)))
		return uint64(r), err
	case fGetlk, fSetlk, fSetlkw, fOfdGetlk, fOfdSetlk, fOfdSetlkw:
		return fcntlLock(t, fd, cmd, a)
	case fSetownEx:
		return fcntlStruct(t, fd, cmd, a, ioctlIn)
	case fGetownEx, fGetownerUIDs:
		// glibc's fcntl(F_GETOWN) asks with F_GETOWN_EX.
		return fcntlStruct(t, fd, cmd, a, ioctlOut)
	}
	return 0, unix.EINVAL
}

// fcntlStruct passes a command whose argument is 8 bytes laid out alike on
// every architecture: struct f_owner_ex {int type; pid_t pid;} or two uid_t
// (include/uapi/asm-generic/fcntl.h).
func fcntlStruct(t *kernel.Task, fd, cmd int, a kernel.Args, dir ioctlArg) (uint64, error) {
	var buf [8]byte
	if dir == ioctlIn {
		if err := t.CopyIn(a.Addr(2), buf[:]); err != nil {
			return 0, err
		}
	}
	r, _, e := unix.Syscall(unix.SYS_FCNTL, uintptr(fd), uintptr(cmd), uintptr(kernel.UnsafePointer(&buf[0])))
	if e != 0 {
		return 0, e
	}
	if dir == ioctlOut {
		if err := t.CopyOut(a.Addr(2), buf[:]); err != nil {
			return 0, err
		}
	}
	return uint64(r), nil
}

func fcntlLock(t *kernel.Task, fd, cmd int, a kernel.Args) (uint64, error) {
	raw, err := t.P.ABI.FlockIn(t, a.Addr(2))
	if err != nil {
		return 0, err
	}
	if err := unix.FcntlFlock(uintptr(fd), cmd, raw); err != nil {
		return 0, err
	}
	if cmd == fGetlk || cmd == fOfdGetlk {
		return 0, t.P.ABI.FlockOut(t, a.Addr(2), raw)
	}
	return 0, nil
}

// ioctl requests xemu passes to the host: those whose argument is a plain
// integer, or a structure laid out the same for the guest and the host. Any
// other request gets ENOTTY: passing an unknown pointer to the host kernel
// could let the guest write the emulator's memory.
type ioctlArg int

const (
	ioctlNone ioctlArg = iota // no argument or an integer value
	ioctlIn                   // the host reads size bytes
	ioctlOut                  // the host writes size bytes
	ioctlInOut
)

type ioctlDef struct {
	arg  ioctlArg
	size int
}

// include/uapi/asm-generic/ioctls.h and termbits.h: the same numbers and
// layouts on arm, arm64 and x86-64 (struct termios is 36 bytes, winsize 8).
var ioctls = map[uint32]ioctlDef{
	0x2:        {ioctlOut, 4},  // FIGETBSZ (include/uapi/linux/fs.h: int)
	0x5401:     {ioctlOut, 36}, // TCGETS
	0x5402:     {ioctlIn, 36},  // TCSETS
	0x5403:     {ioctlIn, 36},  // TCSETSW
	0x5404:     {ioctlIn, 36},  // TCSETSF
	0x5409:     {ioctlNone, 0}, // TCSBRK
	0x540A:     {ioctlNone, 0}, // TCXONC
	0x540B:     {ioctlNone, 0}, // TCFLSH
	0x540C:     {ioctlNone, 0}, // TIOCEXCL
	0x540D:     {ioctlNone, 0}, // TIOCNXCL
	0x540E:     {ioctlNone, 0}, // TIOCSCTTY
	0x540F:     {ioctlOut, 4},  // TIOCGPGRP
	0x5410:     {ioctlIn, 4},   // TIOCSPGRP
	0x5411:     {ioctlOut, 4},  // TIOCOUTQ
	0x5413:     {ioctlOut, 8},  // TIOCGWINSZ
	0x5414:     {ioctlIn, 8},   // TIOCSWINSZ
	0x541B:     {ioctlOut, 4},  // FIONREAD
	0x5420:     {ioctlNone, 0}, // TIOCNOTTY
	0x5421:     {ioctlIn, 4},   // FIONBIO
	0x5422:     {ioctlNone, 0}, // TIOCNOTTY
	0x5425:     {ioctlNone, 0}, // TCSBRKP
	0x5429:     {ioctlOut, 4},  // TIOCGSID
	0x5430:     {ioctlOut, 4},  // TIOCGPTN
	0x5431:     {ioctlIn, 4},   // TIOCSPTLCK
	0x5441:     {ioctlNone, 0}, // TIOCGPTPEER
	0x5450:     {ioctlNone, 0}, // FIONCLEX
	0x5451:     {ioctlNone, 0}, // FIOCLEX
	0x5452:     {ioctlIn, 4},   // FIOASYNC
	0x5460:     {ioctlOut, 8},  // FIOQSIZE (loff_t)
	0x80045430: {ioctlOut, 4},  // TIOCGPTN (_IOR form)
	0x40045431: {ioctlIn, 4},   // TIOCSPTLCK (_IOW form)
	0x80045432: {ioctlOut, 4},  // TIOCGDEV
	0x80086601: {ioctlOut, 8},  // FS_IOC_GETFLAGS (long)
	0x40086602: {ioctlIn, 8},   // FS_IOC_SETFLAGS
}

func ioctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, req := a.FD(0), a.Uint(1)
	if err := t.CheckFD(fd); err != nil {
		return 0, err
	}
	def, ok := ioctls[req]
	if !ok {
		return 0, unix.ENOTTY
	}
	if ttyGroupIoctl(req) {
		return withGuestTTOU(t, func() (uint64, error) { return hostIoctl(t, a, fd, req, def) })
	}
	return hostIoctl(t, a, fd, req, def)
}

func hostIoctl(t *kernel.Task, a kernel.Args, fd int, req uint32, def ioctlDef) (uint64, error) {
	if def.arg == ioctlNone {
		r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(a[2]))
		return uint64(r), kernel.ErrOf(e)
	}
	buf := make([]byte, def.size)
	if def.arg == ioctlIn || def.arg == ioctlInOut {
		if err := t.CopyIn(a.Addr(2), buf); err != nil {
			return 0, err
		}
	} else if err := t.P.Mem.Check(a.Addr(2), uint64(def.size), 2); err != nil {
		return 0, err
	}
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(kernel.UnsafePointer(&buf[0])))
	if e != 0 {
		return 0, e
	}
	if def.arg == ioctlOut || def.arg == ioctlInOut {
		if err := t.CopyOut(a.Addr(2), buf); err != nil {
			return 0, err
		}
	}
	return uint64(r), nil
}
