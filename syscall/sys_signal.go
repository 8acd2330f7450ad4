package syscall

import (
	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// Signal state. Handlers and masks are recorded so that programs which set
// them up run; delivering signals to guest handlers is the next milestone
// (ROADMAP: processes, threads and signals).

const nsig = 64

// sigDisposition is one guest struct sigaction.
type sigDisposition struct {
	handler, flags, restorer uint64
	mask                     uint64
}

const (
	sigDfl = 0
	sigIgn = 1
)

// defaultIgnored are the signals whose default action is to do nothing.
var defaultIgnored = map[unix.Signal]bool{unix.SIGCHLD: true, unix.SIGURG: true, unix.SIGWINCH: true, unix.SIGCONT: true}

func (p *Process) disposition(sig int) *sigDisposition {
	if p.sigactions == nil {
		p.sigactions = make([]sigDisposition, nsig+1)
	}
	return &p.sigactions[sig]
}

func rtSigaction(t *Task, a Args) (uint64, error) {
	sig := a.Int(0)
	if sig < 1 || sig > nsig || a.U64(3) != 8 {
		return 0, unix.EINVAL
	}
	w := mem.GuestAddr(t.wordSize())
	d := t.P.disposition(sig)
	old := *d
	if a.Addr(1) != 0 {
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
			return 0, unix.EINVAL
		}
		var nd sigDisposition
		var err error
		if nd.handler, err = t.getWord(a.Addr(1)); err != nil {
			return 0, err
		}
		if nd.flags, err = t.getWord(a.Addr(1) + w); err != nil {
			return 0, err
		}
		if nd.restorer, err = t.getWord(a.Addr(1) + 2*w); err != nil {
			return 0, err
		}
		if nd.mask, err = t.getU64(a.Addr(1) + 3*w); err != nil {
			return 0, err
		}
		// kernel/signal.c do_sigaction: SIGKILL and SIGSTOP never enter a
		// handler's mask, and a query shows them gone.
		nd.mask &^= 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)
		*d = nd
		t.P.mirrorDisposition(sig, nd.handler)
	}
	if a.Addr(2) != 0 {
		for i, v := range []uint64{old.handler, old.flags, old.restorer} {
			if err := t.putWord(a.Addr(2)+mem.GuestAddr(i)*w, v); err != nil {
				return 0, err
			}
		}
		return 0, t.putU64(a.Addr(2)+3*w, old.mask)
	}
	return 0, nil
}

// mirrorDisposition makes the host's handling of SIGPIPE follow the guest's:
// a write to a closed pipe then kills the emulator exactly when it would kill
// the guest, and returns EPIPE otherwise. The timer signals follow too, so
// that an alarm kills or is ignored as the guest asked; for a guest handler
// the Go runtime's handler is put back (the guest's blocking call then sees
// EINTR, as it would around a handler).
func (p *Process) mirrorDisposition(sig int, handler uint64) {
	s := unix.Signal(sig)
	switch {
	case s == unix.SIGPIPE:
		if handler == sigDfl {
			SetHostDefault(unix.SIGPIPE)
		} else {
			setHostIgnore(unix.SIGPIPE)
		}
	case timerSignals[s]:
		switch handler {
		case sigDfl:
			saveGoSigaction(s)
			SetHostDefault(s)
		case sigIgn:
			saveGoSigaction(s)
			setHostIgnore(s)
		default:
			if sa, ok := goSigactions[s]; ok {
				unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(s), uintptr(unsafePointer(&sa)), 0, 8, 0, 0)
			}
		}
	}
}

// timerSignals are what the host's interval timers, armed for the guest by
// setitimer, send.
var timerSignals = map[unix.Signal]bool{unix.SIGALRM: true, unix.SIGVTALRM: true, unix.SIGPROF: true}

// goSigactions are the Go runtime's host handlers that mirrorDisposition
// replaced. Host dispositions belong to the whole process, as does this.
var goSigactions = map[unix.Signal]hostSigaction{}

func saveGoSigaction(sig unix.Signal) {
	if _, ok := goSigactions[sig]; ok {
		return
	}
	var sa hostSigaction
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafePointer(&sa)), 8, 0, 0); e == 0 {
		goSigactions[sig] = sa
	}
}

// hostSigaction is the kernel's struct sigaction on x86-64.
type hostSigaction struct {
	handler, flags, restorer uintptr
	mask                     uint64
}

// SetHostDefault gives a host signal its default action (bypassing the Go
// runtime's handler, which would otherwise catch it).
func SetHostDefault(sig unix.Signal) {
	sa := hostSigaction{handler: sigDfl}
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafePointer(&sa)), 0, 8, 0, 0)
}

func setHostIgnore(sig unix.Signal) {
	sa := hostSigaction{handler: sigIgn}
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafePointer(&sa)), 0, 8, 0, 0)
}

// sigprocmask how values.
const (
	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2
)

func rtSigprocmask(t *Task, a Args) (uint64, error) {
	if a.U64(3) != 8 {
		return 0, unix.EINVAL
	}
	old := t.sigMask
	if a.Addr(1) != 0 {
		set, err := t.getU64(a.Addr(1))
		if err != nil {
			return 0, err
		}
		set &^= 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)
		switch a.Int(0) {
		case sigBlock:
			t.sigMask |= set
		case sigUnblock:
			t.sigMask &^= set
		case sigSetmask:
			t.sigMask = set
		default:
			return 0, unix.EINVAL
		}
	}
	if a.Addr(2) != 0 {
		return 0, t.putU64(a.Addr(2), old)
	}
	return 0, nil
}

func rtSigpending(t *Task, a Args) (uint64, error) {
	// Linux takes a set up to its own size and writes only what was asked.
	if a.U64(1) > 8 {
		return 0, unix.EINVAL
	}
	return 0, t.copyOut(a.Addr(0), make([]byte, a.U64(1)))
}

// stack_t flags (include/uapi/linux/signal.h).
const (
	ssOnstack    = 1
	ssDisable    = 2
	ssAutodisarm = 1 << 31
)

func sigaltstack(t *Task, a Args) (uint64, error) {
	// stack_t: ss_sp (pointer), ss_flags (int), ss_size (size_t).
	w := mem.GuestAddr(t.wordSize())
	sizeOff := 2 * w
	old := t.altStack
	// Linux reads and applies the new stack before writing the old one: the
	// two may share a buffer, and a bad old pointer still changes the stack.
	if a.Addr(0) != 0 {
		sp, err := t.getWord(a.Addr(0))
		if err != nil {
			return 0, err
		}
		flags, err := t.getU32(a.Addr(0) + w)
		if err != nil {
			return 0, err
		}
		size, err := t.getWord(a.Addr(0) + sizeOff)
		if err != nil {
			return 0, err
		}
		// kernel/signal.c do_sigaltstack: SS_AUTODISARM may be added to any
		// mode, and SS_ONSTACK is accepted as a request to enable.
		switch flags &^ ssAutodisarm {
		case ssDisable:
			t.altStack = altStack{flags: flags}
		case 0, ssOnstack:
			if size < t.P.ABI.MinAltStack {
				return 0, unix.ENOMEM
			}
			t.altStack = altStack{mem.GuestAddr(sp), size, flags}
		default:
			return 0, unix.EINVAL
		}
	}
	if a.Addr(1) != 0 {
		if err := t.putWord(a.Addr(1), uint64(old.sp)); err != nil {
			return 0, err
		}
		flags := uint32(ssDisable)
		if old.size != 0 {
			flags = 0
		}
		flags |= old.flags & ssAutodisarm
		if err := t.putU32(a.Addr(1)+w, flags); err != nil {
			return 0, err
		}
		if err := t.putWord(a.Addr(1)+sizeOff, old.size); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

type altStack struct {
	sp    mem.GuestAddr
	size  uint64
	flags uint32 // as the guest set them (SS_AUTODISARM is reported back)
}

// killSelf applies a signal sent to the process itself: with the default
// action it ends the process the way the signal would.
func (t *Task) killSelf(sig int) error {
	if sig == 0 {
		return nil
	}
	if sig < 0 || sig > nsig {
		return unix.EINVAL
	}
	s := unix.Signal(sig)
	d := t.P.disposition(sig)
	if d.handler == sigIgn || (d.handler == sigDfl && defaultIgnored[s]) {
		return nil
	}
	if t.sigMask&(1<<(sig-1)) != 0 && s != unix.SIGKILL {
		return nil // stays pending: never delivered for now
	}
	if d.handler != sigDfl && s != unix.SIGKILL && s != unix.SIGSTOP {
		return unix.ENOSYS // guest handlers are not run yet
	}
	if s == unix.SIGSTOP || s == unix.SIGTSTP || s == unix.SIGTTIN || s == unix.SIGTTOU {
		return unix.Kill(unix.Getpid(), unix.SIGSTOP)
	}
	t.P.killedBy = s
	t.P.exited = true
	t.CPU.RequestStop()
	return nil
}

func kill(t *Task, a Args) (uint64, error) {
	pid := a.Int(0)
	if pid == unix.Getpid() {
		return 0, t.killSelf(a.Int(1))
	}
	return 0, unix.Kill(pid, unix.Signal(a.Int(1)))
}

func tgkill(t *Task, a Args) (uint64, error) {
	if a.Int(0) == unix.Getpid() && a.Int(1) == t.TID {
		return 0, t.killSelf(a.Int(2))
	}
	return 0, unix.Tgkill(a.Int(0), a.Int(1), unix.Signal(a.Int(2)))
}

func tkill(t *Task, a Args) (uint64, error) {
	if a.Int(0) == t.TID {
		return 0, t.killSelf(a.Int(1))
	}
	_, _, e := unix.Syscall(unix.SYS_TKILL, uintptr(a.Int(0)), uintptr(a.Int(1)), 0)
	return 0, errOf(e)
}
