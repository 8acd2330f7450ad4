package linux

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/syscall/abi"
	"xemu/syscall/kernel"
)

// Processes: clone without CLONE_VM, fork, vfork (kernel/fork.go makes the
// child) and waiting for children, which are host processes.

func init() {
	K := kernel.Kinds
	kernel.AddEntries(map[string]*kernel.Entry{
		"clone":  {Fn: clone, Args: K(kernel.KHex, kernel.KPtr, kernel.KPtr, kernel.KPtr, kernel.KPtr)},
		"clone3": {Fn: clone3, Args: K(kernel.KPtr, kernel.KULong)},
		"fork":   {Fn: forkCall},
		"vfork":  {Fn: vfork},
		"wait4":  {Fn: wait4, Args: K(kernel.KInt, kernel.KPtr, kernel.KHex, kernel.KPtr)},
		"waitid": {Fn: waitid, Args: K(kernel.KInt, kernel.KInt, kernel.KPtr, kernel.KHex, kernel.KPtr)},
	})
}

// csignal is the exit signal's part of clone's flags.
const csignal = 0xff

// clone(flags, stack, parent_tid, tls, child_tid): the order arm and arm64
// share (CONFIG_CLONE_BACKWARDS).
func clone(t *kernel.Task, a kernel.Args) (uint64, error) {
	flags := a.U64(0) & 0xffffffff
	c := kernel.CloneArgs{
		Flags: flags &^ csignal, ExitSignal: int(flags & csignal),
		Stack: a.U64(1), ParentTID: a.Addr(2), TLS: a.U64(3), ChildTID: a.Addr(4),
	}
	if c.ExitSignal > abi.NSIG {
		return 0, unix.EINVAL
	}
	// clone puts the pidfd where clone3 puts the parent's TID: both at once
	// cannot work (Linux: EINVAL).
	if flags&kernel.CLONE_PIDFD != 0 {
		if flags&kernel.CLONE_PARENT_SETTID != 0 {
			return 0, unix.EINVAL
		}
		c.PidFD = c.ParentTID
	}
	return fork(t, c)
}

func fork(t *kernel.Task, c kernel.CloneArgs) (uint64, error) {
	if c.Flags&kernel.CLONE_THREAD != 0 {
		tid, err := t.NewThread(c)
		return uint64(tid), err
	}
	pid, err := t.Fork(c)
	return uint64(pid), err
}

func forkCall(t *kernel.Task, a kernel.Args) (uint64, error) {
	return fork(t, kernel.CloneArgs{ExitSignal: abi.SIGCHLD})
}

func vfork(t *kernel.Task, a kernel.Args) (uint64, error) {
	return fork(t, kernel.CloneArgs{Flags: kernel.CLONE_VM | kernel.CLONE_VFORK, ExitSignal: abi.SIGCHLD})
}

// cloneArgs is struct clone_args (include/uapi/linux/sched.h): 64 bytes in
// its first version, 80 with set_tid, 88 with cgroup.
type cloneArgs struct {
	Flags, PidFD, ChildTID, ParentTID, ExitSignal, Stack, StackSize, TLS, SetTID, SetTIDSize, Cgroup uint64
}

const (
	cloneArgsSizeVer0 = 64
	maxCloneArgsSize  = 4096
)

func clone3(t *kernel.Task, a kernel.Args) (uint64, error) {
	size := a.U64(1)
	if size < cloneArgsSizeVer0 || size > maxCloneArgsSize {
		return 0, unix.EINVAL
	}
	buf := make([]byte, size)
	if err := t.CopyIn(a.Addr(0), buf); err != nil {
		return 0, err
	}
	// Fields a newer caller knows and this kernel does not must be zero.
	known := int(unsafe.Sizeof(cloneArgs{}))
	for _, b := range buf[min(int(size), known):] {
		if b != 0 {
			return 0, unix.E2BIG
		}
	}
	var ca cloneArgs
	if len(buf) < known {
		buf = append(buf, make([]byte, known-len(buf))...)
	}
	f := []*uint64{&ca.Flags, &ca.PidFD, &ca.ChildTID, &ca.ParentTID, &ca.ExitSignal, &ca.Stack, &ca.StackSize, &ca.TLS, &ca.SetTID, &ca.SetTIDSize, &ca.Cgroup}
	for i, p := range f {
		*p = binary.LittleEndian.Uint64(buf[8*i:])
	}
	if ca.ExitSignal > abi.NSIG || ca.Flags&csignal != 0 || ca.SetTIDSize > 0 || (ca.Stack == 0) != (ca.StackSize == 0) {
		return 0, unix.EINVAL
	}
	if ca.Flags&kernel.CLONE_INTO_CGROUP != 0 {
		return 0, unix.ENOSYS
	}
	c := kernel.CloneArgs{
		Flags: ca.Flags, ExitSignal: int(ca.ExitSignal), TLS: ca.TLS,
		ParentTID: mem.GuestAddr(ca.ParentTID), ChildTID: mem.GuestAddr(ca.ChildTID), PidFD: mem.GuestAddr(ca.PidFD),
	}
	if ca.Stack != 0 {
		c.Stack = ca.Stack + ca.StackSize // the stack grows down from its top
	}
	return fork(t, c)
}

// wait4(pid, status, options, rusage).
func wait4(t *kernel.Task, a kernel.Args) (uint64, error) {
	var status unix.WaitStatus
	var ru unix.Rusage
	var rup *unix.Rusage
	if a.Addr(3) != 0 {
		rup = &ru
	}
	var pid int
	for {
		// A zygote (kernel/zygote.go) is a child the guest did not make.
		if a.Int(0) == -1 && t.P.WaitAnyBlocked() {
			return 0, unix.ECHILD
		}
		var err error
		pid, err = unix.Wait4(a.Int(0), &status, a.Int(2), rup)
		if err != nil {
			return 0, err
		}
		if !t.P.WaitResult(pid, status.Exited() || status.Signaled()) {
			break
		}
	}
	if pid > 0 {
		t.TakeHostSignals()
	}
	if pid > 0 && a.Addr(1) != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(status))
		if err := t.CopyOut(a.Addr(1), b[:]); err != nil {
			return 0, err
		}
	}
	if rup != nil {
		if err := t.CopyOut(a.Addr(3), t.P.ABI.Rusage(rup)); err != nil {
			return 0, err
		}
	}
	return uint64(pid), nil
}

// waitid(idtype, id, infop, options, rusage).
func waitid(t *kernel.Task, a kernel.Args) (uint64, error) {
	var info [128]byte
	var ru unix.Rusage
	var rup uintptr
	if a.Addr(4) != 0 {
		rup = uintptr(unsafe.Pointer(&ru))
	}
	for {
		if a.Int(0) == unix.P_ALL && t.P.WaitAnyBlocked() {
			return 0, unix.ECHILD
		}
		_, _, e := unix.Syscall6(unix.SYS_WAITID, uintptr(a.Int(0)), uintptr(a.Int(1)), uintptr(unsafe.Pointer(&info[0])), uintptr(a.Int(3)), rup, 0)
		if e != 0 {
			return 0, e
		}
		pid := int(int32(binary.LittleEndian.Uint32(info[16:])))
		code := int32(binary.LittleEndian.Uint32(info[8:]))
		reaped := a.Int(3)&unix.WNOWAIT == 0 && (code == abi.CLD_EXITED || code == abi.CLD_KILLED || code == abi.CLD_DUMPED)
		if !t.P.WaitResult(pid, reaped) {
			break
		}
		info = [128]byte{}
	}
	t.TakeHostSignals()
	if a.Addr(2) != 0 {
		// No child in a state waited for (WNOHANG) leaves si_signo and
		// si_pid zero, which the guest reads as such.
		si := abi.UnmarshalSigInfo(info[:], 64)
		if err := t.CopyOut(a.Addr(2), si.Marshal(t.P.ABI.Class)); err != nil {
			return 0, err
		}
	}
	if rup != 0 {
		if err := t.CopyOut(a.Addr(4), t.P.ABI.Rusage(&ru)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}
