package linux

import (
	"bufio"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"xemu/syscall/abi"
	"xemu/syscall/kernel"
)

// Process descriptors (kernel/pid.c, kernel/signal.c). A pidfd is a host
// descriptor of the host process, which is the guest process (a child is
// another xemu with its own pid): waiting, polling and signalling through
// it are the host's. What xemu adds: a signal to its own process is queued
// here, with the caller's siginfo, as kill to itself is; a guest siginfo is
// translated to the host's layout; and pidfd_getfd does not hand out the
// emulator's own descriptors.

func init() {
	K := kernel.Kinds
	kernel.AddEntries(map[string]*kernel.Entry{
		"pidfd_open":        {NewFD: true, Fn: pidfdOpen, Args: K(kernel.KInt, kernel.KHex)},
		"pidfd_send_signal": {Fn: pidfdSendSignal, Args: K(kernel.KFD, kernel.KSignal, kernel.KPtr, kernel.KHex)},
		"pidfd_getfd": {NewFD: true, Fn: pidfdGetfd, Args: K(kernel.KFD, kernel.KInt, kernel.KHex), Support: kernel.Partial,
			Note: "descriptors 900 and above of another xemu process are refused (EBADF): that is where xemu keeps its own"},
	})
}

// include/uapi/linux/pidfd.h: PIDFD_NONBLOCK is O_NONBLOCK and PIDFD_THREAD
// O_EXCL, the same bits on arm, arm64 and x86-64.
const (
	pidfdNonblock = unix.O_NONBLOCK
	pidfdThread   = unix.O_EXCL

	pidfdSignalThread       = 1 << 0
	pidfdSignalThreadGroup  = 1 << 1
	pidfdSignalProcessGroup = 1 << 2
)

func pidfdOpen(t *kernel.Task, a kernel.Args) (uint64, error) {
	flags := a.Uint(1)
	if flags&^(pidfdNonblock|pidfdThread) != 0 {
		return 0, unix.EINVAL
	}
	r, _, e := unix.Syscall(unix.SYS_PIDFD_OPEN, uintptr(a.Int(0)), uintptr(flags), 0)
	return uint64(r), kernel.ErrOf(e)
}

// pidfdPid is the pid a pidfd refers to (its fdinfo's Pid line: -1 once
// the process is gone, 0 outside our pid namespace), or ok false if fd is
// not a pidfd.
func pidfdPid(fd int) (pid int, ok bool) {
	f, err := kernel.OpenHostProc("self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, found := strings.CutPrefix(s.Text(), "Pid:"); found {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			return pid, err == nil
		}
	}
	return 0, false
}

// pidfd_send_signal(pidfd, sig, info, flags).
func pidfdSendSignal(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, sig, flags := a.FD(0), a.Int(1), a.Uint(3)
	if sig < 0 || sig > abi.NSIG {
		return 0, unix.EINVAL
	}
	if flags&^(pidfdSignalThread|pidfdSignalThreadGroup|pidfdSignalProcessGroup) != 0 ||
		flags&(flags-1) != 0 {
		return 0, unix.EINVAL
	}
	pid, isPidfd := pidfdPid(fd)
	self := isPidfd && pid == unix.Getpid() && (flags == 0 || flags == pidfdSignalThreadGroup)
	var si *abi.SigInfo
	if a.Addr(2) != 0 {
		b := make([]byte, abi.SigInfoSize)
		if err := t.CopyIn(a.Addr(2), b); err != nil {
			return 0, err
		}
		info := abi.UnmarshalSigInfo(b, t.P.ABI.Class)
		if int(info.Signo) != sig {
			return 0, unix.EINVAL
		}
		// Only to itself may a process send a siginfo that claims to come
		// from the kernel or from kill.
		if !self && (info.Code >= 0 || info.Code == abi.SI_TKILL) {
			return 0, unix.EPERM
		}
		si = &info
	}
	if self {
		switch {
		case sig == 0:
		case si != nil:
			t.P.Send(nil, *si)
		default:
			t.Kill(sig, nil)
		}
		return 0, nil
	}
	var info uintptr
	if si != nil {
		b := si.Marshal(64)
		info = uintptr(kernel.UnsafePointer(&b[0]))
	}
	_, _, e := unix.Syscall6(unix.SYS_PIDFD_SEND_SIGNAL, uintptr(fd), uintptr(sig), info, uintptr(flags), 0, 0)
	return 0, kernel.ErrOf(e)
}

// pidfd_getfd(pidfd, targetfd, flags). A descriptor the target does not
// have gives EBADF; so does one of the emulator's own. For this process
// they are the reserved ones. Another xemu keeps its own descriptors at
// kernel.ReservedFDFloor and above, where a guest's rarely are; rather
// than ask it which of them are its guest's (its table of reserved
// descriptors changes under the guest's thread, unlocked), they are all
// refused.
func pidfdGetfd(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, target := a.FD(0), a.Int(1)
	if a.Uint(2) != 0 {
		return 0, unix.EINVAL
	}
	if pid, ok := pidfdPid(fd); ok && target >= 0 {
		if pid == unix.Getpid() && t.CheckFD(target) != nil {
			return 0, unix.EBADF
		}
		if pid > 0 && pid != unix.Getpid() && target >= kernel.ReservedFDFloor && kernel.IsXemu(pid) {
			return 0, unix.EBADF
		}
	}
	r, _, e := unix.Syscall(unix.SYS_PIDFD_GETFD, uintptr(fd), uintptr(target), 0)
	return uint64(r), kernel.ErrOf(e)
}
