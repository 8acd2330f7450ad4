package linux

import (
	"time"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/syscall/abi"
	"xemu/syscall/kernel"
)

// Signal system calls. The state and delivery are the kernel package's;
// these decode the guest's structures and apply the calls' rules.

func init() {
	K := kernel.Kinds
	kernel.AddEntries(map[string]*kernel.Entry{
		"rt_sigaction":      {Fn: rtSigaction, Args: K(kernel.KSignal, kernel.KPtr, kernel.KPtr, kernel.KULong)},
		"rt_sigprocmask":    {Fn: rtSigprocmask, Args: K(kernel.KInt, kernel.KPtr, kernel.KPtr, kernel.KULong)},
		"rt_sigpending":     {Fn: rtSigpending, Args: K(kernel.KPtr, kernel.KULong)},
		"rt_sigsuspend":     {Fn: rtSigsuspend, Args: K(kernel.KPtr, kernel.KULong)},
		"rt_sigtimedwait":   {Fn: rtSigtimedwait, Args: K(kernel.KPtr, kernel.KPtr, kernel.KPtr, kernel.KULong)},
		"rt_sigqueueinfo":   {Fn: rtSigqueueinfo, Args: K(kernel.KInt, kernel.KSignal, kernel.KPtr)},
		"rt_tgsigqueueinfo": {Fn: rtTgsigqueueinfo, Args: K(kernel.KInt, kernel.KInt, kernel.KSignal, kernel.KPtr)},
		"rt_sigreturn":      {Ctl: rtSigreturn, Ret: kernel.RetNone},
		"sigreturn":         {Ctl: sigreturn, Ret: kernel.RetNone},
		"sigaltstack":       {Fn: sigaltstack, Args: K(kernel.KPtr, kernel.KPtr)},
		"pause":             {Fn: pause},
		"kill":              {Fn: kill, Args: K(kernel.KInt, kernel.KSignal)},
		"tgkill":            {Fn: tgkill, Args: K(kernel.KInt, kernel.KInt, kernel.KSignal)},
		"tkill":             {Fn: tkill, Args: K(kernel.KInt, kernel.KSignal)},
		"signalfd4":         {Fn: signalfd4, Args: K(kernel.KFD, kernel.KPtr, kernel.KULong, kernel.KOpenFlags)},
		"signalfd":          {Fn: signalfd, Args: K(kernel.KFD, kernel.KPtr, kernel.KULong)},
	})
}

func rtSigaction(t *kernel.Task, a kernel.Args) (uint64, error) {
	sig := a.Int(0)
	if sig < 1 || sig > abi.NSIG || a.U64(3) != abi.SigSetSize {
		return 0, unix.EINVAL
	}
	w := mem.GuestAddr(t.WordSize())
	var nd kernel.SigAction
	if a.Addr(1) != 0 {
		if sig == abi.SIGKILL || sig == abi.SIGSTOP {
			return 0, unix.EINVAL
		}
		var err error
		if nd.Handler, err = t.GetWord(a.Addr(1)); err != nil {
			return 0, err
		}
		if nd.Flags, err = t.GetWord(a.Addr(1) + w); err != nil {
			return 0, err
		}
		if nd.Restorer, err = t.GetWord(a.Addr(1) + 2*w); err != nil {
			return 0, err
		}
		m, err := t.GetU64(a.Addr(1) + 3*w)
		if err != nil {
			return 0, err
		}
		nd.Mask = kernel.SigSet(m)
	}
	// A host signal xemu caught before this call would have been delivered
	// before it on Linux: run its handler first, then make the call again.
	// (Changing the action first could make a signal the guest handles
	// fatal: a timer's last tick before a guest resets it to SIG_DFL.)
	if a.Addr(1) != 0 && t.SignalPending() {
		return 0, kernel.ERESTARTNOINTR
	}
	var old kernel.SigAction
	if a.Addr(1) != 0 {
		old = t.P.SetAction(sig, nd)
	} else {
		old = t.P.Action(sig)
	}
	if a.Addr(2) != 0 {
		for i, v := range []uint64{old.Handler, old.Flags, old.Restorer} {
			if err := t.PutWord(a.Addr(2)+mem.GuestAddr(i)*w, v); err != nil {
				return 0, err
			}
		}
		return 0, t.PutU64(a.Addr(2)+3*w, uint64(old.Mask))
	}
	return 0, nil
}

// sigprocmask how values.
const (
	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2
)

func rtSigprocmask(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.U64(3) != abi.SigSetSize {
		return 0, unix.EINVAL
	}
	old := t.Mask()
	if a.Addr(1) != 0 {
		v, err := t.GetU64(a.Addr(1))
		if err != nil {
			return 0, err
		}
		set := kernel.SigSet(v)
		switch a.Int(0) {
		case sigBlock:
			t.SetMask(old | set)
		case sigUnblock:
			t.SetMask(old &^ set)
		case sigSetmask:
			t.SetMask(set)
		default:
			return 0, unix.EINVAL
		}
	}
	if a.Addr(2) != 0 {
		return 0, t.PutU64(a.Addr(2), uint64(old))
	}
	return 0, nil
}

// rtSigpending: the pending signals the thread blocks (do_sigpending).
func rtSigpending(t *kernel.Task, a kernel.Args) (uint64, error) {
	// Linux takes a set up to its own size and writes only what was asked.
	if a.U64(1) > abi.SigSetSize {
		return 0, unix.EINVAL
	}
	set := uint64(t.Pending() & t.Mask())
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(set >> (8 * i))
	}
	return 0, t.CopyOut(a.Addr(0), b[:a.U64(1)])
}

// rtSigsuspend waits with a temporary mask until a handler runs; the call
// then returns EINTR and the handler's frame holds the original mask.
func rtSigsuspend(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.U64(1) != abi.SigSetSize {
		return 0, unix.EINVAL
	}
	m, err := t.GetU64(a.Addr(0))
	if err != nil {
		return 0, err
	}
	t.SetTemporaryMask(kernel.SigSet(m))
	for {
		if _, err := t.WaitForSignal(0, time.Time{}); err == kernel.ERESTARTNOHAND {
			return 0, err
		}
	}
}

// pause waits until a handler runs (or the process ends).
func pause(t *kernel.Task, a kernel.Args) (uint64, error) {
	for {
		if _, err := t.WaitForSignal(0, time.Time{}); err == kernel.ERESTARTNOHAND {
			return 0, err
		}
	}
}

// rtSigtimedwait takes a pending signal of the set, waiting for one until
// the timeout (EAGAIN); a signal outside the set that is not blocked
// interrupts it (EINTR).
func rtSigtimedwait(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.U64(3) != abi.SigSetSize {
		return 0, unix.EINVAL
	}
	m, err := t.GetU64(a.Addr(0))
	if err != nil {
		return 0, err
	}
	want := kernel.SigSet(m) &^ abi.SigUnblockable
	var deadline time.Time
	if a.Addr(2) != 0 {
		var ts [1]unix.Timespec
		if err := t.ReadTimespecs(a.Addr(2), ts[:]); err != nil {
			return 0, err
		}
		if ts[0].Nsec < 0 || ts[0].Nsec >= 1e9 || ts[0].Sec < 0 {
			return 0, unix.EINVAL
		}
		deadline = time.Now().Add(time.Duration(ts[0].Sec)*time.Second + time.Duration(ts[0].Nsec))
	}
	si, err := t.WaitForSignal(want, deadline)
	if err != nil {
		return 0, err
	}
	if a.Addr(1) != 0 {
		if err := t.CopyOut(a.Addr(1), si.Marshal(t.P.ABI.Class)); err != nil {
			return 0, err
		}
	}
	return uint64(si.Signo), nil
}

// readSigInfo reads a siginfo a process queues (rt_sigqueueinfo): it may
// not pretend to be the kernel or kill (SI_USER) unless it is itself.
func readSigInfo(t *kernel.Task, at mem.GuestAddr, sig int, pid int) (abi.SigInfo, error) {
	b := make([]byte, abi.SigInfoSize)
	if err := t.CopyIn(at, b); err != nil {
		return abi.SigInfo{}, err
	}
	si := abi.UnmarshalSigInfo(b, t.P.ABI.Class)
	if (si.Code >= 0 || si.Code == abi.SI_TKILL) && pid != unix.Getpid() {
		return abi.SigInfo{}, unix.EPERM
	}
	si.Signo = int32(sig)
	return si, nil
}

func rtSigqueueinfo(t *kernel.Task, a kernel.Args) (uint64, error) {
	pid, sig := a.Int(0), a.Int(1)
	si, err := readSigInfo(t, a.Addr(2), sig, pid)
	if err != nil {
		return 0, err
	}
	if pid == unix.Getpid() {
		if sig != 0 {
			t.P.Send(nil, si)
		}
		return 0, nil
	}
	return 0, hostSigqueue(unix.SYS_RT_SIGQUEUEINFO, pid, 0, sig, si)
}

func rtTgsigqueueinfo(t *kernel.Task, a kernel.Args) (uint64, error) {
	tgid, tid, sig := a.Int(0), a.Int(1), a.Int(2)
	si, err := readSigInfo(t, a.Addr(3), sig, tgid)
	if err != nil {
		return 0, err
	}
	if tgid == unix.Getpid() {
		target := t.P.Thread(tid)
		if target == nil {
			return 0, unix.ESRCH
		}
		if sig != 0 {
			t.P.Send(target, si)
		}
		return 0, nil
	}
	return 0, hostSigqueue(unix.SYS_RT_TGSIGQUEUEINFO, tgid, tid, sig, si)
}

// hostSigqueue queues a signal for another process, with the siginfo in
// the host's layout (x86-64: the generic 64-bit one).
func hostSigqueue(nr uintptr, pid, tid, sig int, si abi.SigInfo) error {
	b := si.Marshal(64)
	var e unix.Errno
	if nr == unix.SYS_RT_SIGQUEUEINFO {
		_, _, e = unix.Syscall(nr, uintptr(pid), uintptr(sig), uintptr(kernel.UnsafePointer(&b[0])))
	} else {
		_, _, e = unix.Syscall6(nr, uintptr(pid), uintptr(tid), uintptr(sig), uintptr(kernel.UnsafePointer(&b[0])), 0, 0)
	}
	return kernel.ErrOf(e)
}

func rtSigreturn(t *kernel.Task, a kernel.Args) (uint64, kernel.Control, error) {
	t.SigReturn(true)
	return 0, kernel.CtlRegsSet, nil
}

// sigreturn is ARM's return from a handler installed without SA_SIGINFO.
func sigreturn(t *kernel.Task, a kernel.Args) (uint64, kernel.Control, error) {
	t.SigReturn(false)
	return 0, kernel.CtlRegsSet, nil
}

func sigaltstack(t *kernel.Task, a kernel.Args) (uint64, error) {
	// stack_t: ss_sp (pointer), ss_flags (int), ss_size (size_t).
	w := mem.GuestAddr(t.WordSize())
	sp := t.CPU.Reg(t.P.ABI.CPU.SPReg)
	old := t.CurrentAltStack(sp)
	// Linux reads and applies the new stack before writing the old one: the
	// two may share a buffer, and a bad old pointer still changes the stack.
	if a.Addr(0) != 0 {
		ssp, err := t.GetWord(a.Addr(0))
		if err != nil {
			return 0, err
		}
		flags, err := t.GetU32(a.Addr(0) + w)
		if err != nil {
			return 0, err
		}
		size, err := t.GetWord(a.Addr(0) + 2*w)
		if err != nil {
			return 0, err
		}
		if err := t.SetAltStack(kernel.AltStack{SP: mem.GuestAddr(ssp), Size: size, Flags: flags}, sp); err != nil {
			return 0, err
		}
	}
	if a.Addr(1) != 0 {
		if err := t.PutWord(a.Addr(1), old.SP); err != nil {
			return 0, err
		}
		if err := t.PutU32(a.Addr(1)+w, uint32(old.Flags)); err != nil {
			return 0, err
		}
		if err := t.PutWord(a.Addr(1)+2*w, old.Size); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// kill: to the process itself the signal is generated here, so that it is
// delivered before the call returns, as Linux does; to others (and to
// groups, which the host delivers to xemu too) the host sends it.
func kill(t *kernel.Task, a kernel.Args) (uint64, error) {
	pid, sig := a.Int(0), a.Int(1)
	if sig < 0 || sig > abi.NSIG {
		return 0, unix.EINVAL
	}
	if pid == unix.Getpid() {
		if sig != 0 {
			t.Kill(sig, nil)
		}
		return 0, nil
	}
	return 0, unix.Kill(pid, unix.Signal(sig))
}

func tgkill(t *kernel.Task, a kernel.Args) (uint64, error) {
	tgid, tid, sig := a.Int(0), a.Int(1), a.Int(2)
	if sig < 0 || sig > abi.NSIG || tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	if tgid == unix.Getpid() {
		target := t.P.Thread(tid)
		if target == nil {
			return 0, unix.ESRCH
		}
		if sig != 0 {
			t.Kill(sig, target)
		}
		return 0, nil
	}
	return 0, unix.Tgkill(tgid, tid, unix.Signal(sig))
}

func tkill(t *kernel.Task, a kernel.Args) (uint64, error) {
	tid, sig := a.Int(0), a.Int(1)
	if sig < 0 || sig > abi.NSIG || tid <= 0 {
		return 0, unix.EINVAL
	}
	if target := t.P.Thread(tid); target != nil {
		if sig != 0 {
			t.Kill(sig, target)
		}
		return 0, nil
	}
	_, _, e := unix.Syscall(unix.SYS_TKILL, uintptr(tid), uintptr(sig), 0)
	return 0, kernel.ErrOf(e)
}

// signalfd4 makes a descriptor that reads the signals of a mask
// (fs/signalfd.c): -1 creates one; an existing signalfd gets the new mask.
func signalfd4(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, flags := a.FD(0), a.Int(3)
	if flags&^(unix.O_NONBLOCK|unix.O_CLOEXEC) != 0 || a.U64(2) != abi.SigSetSize {
		return 0, unix.EINVAL
	}
	m, err := t.GetU64(a.Addr(1))
	if err != nil {
		return 0, err
	}
	if fd == -1 {
		nfd, err := t.P.NewSignalFD(kernel.SigSet(m), flags)
		if err != nil {
			return 0, err
		}
		return t.P.NewFD(nfd)
	}
	if err := t.CheckFD(fd); err != nil {
		return 0, err
	}
	sf, ok := t.P.Special(fd)
	if !ok || sf.SignalFD == nil {
		return 0, unix.EINVAL
	}
	t.P.SetSignalFDMask(sf.SignalFD, kernel.SigSet(m))
	return uint64(fd), nil
}

func signalfd(t *kernel.Task, a kernel.Args) (uint64, error) {
	return signalfd4(t, kernel.Args{a[0], a[1], a[2], 0})
}

// readSignalFD is read(2) on a signalfd.
func readSignalFD(t *kernel.Task, s *kernel.SignalFD, fd int, a mem.GuestAddr, n uint64) (uint64, error) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, min(n, 64*abi.SignalfdSigInfoSize))
	got, err := t.ReadSignalFD(s, buf, fl&unix.O_NONBLOCK != 0)
	if err != nil {
		return 0, err
	}
	return uint64(got), t.CopyOut(a, buf[:got])
}

// readvSignalFD is readv (and preadv2 at the file position) on a signalfd,
// as signalfd_read_iter does it: as many whole records as the iovecs hold
// together (EINVAL for room for none), each copied across them. One that
// cannot be copied whole is lost, as on Linux: EFAULT, or the end of a
// read that already gave some.
func readvSignalFD(t *kernel.Task, s *kernel.SignalFD, fd int, iov []kernel.Iovec, nowait bool) (uint64, error) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return 0, err
	}
	var total uint64
	for _, v := range iov {
		total += v.Len()
	}
	buf := make([]byte, min(total, 64*abi.SignalfdSigInfoSize))
	got, err := t.ReadSignalFD(s, buf, nowait || fl&unix.O_NONBLOCK != 0)
	if err != nil {
		return 0, err
	}
	k := scatter(t, iov, buf[:got])
	k -= k % abi.SignalfdSigInfoSize
	if k == 0 && got > 0 {
		return 0, unix.EFAULT
	}
	return uint64(k), nil
}
