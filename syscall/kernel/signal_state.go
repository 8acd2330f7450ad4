package kernel

import (
	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
)

// Signal state. Handlers and masks are recorded so that programs which set
// them up run; delivering signals to guest handlers is the next milestone
// (ROADMAP: processes, threads and signals).

const Nsig = 64

// SigDisposition is one guest struct sigaction.
type SigDisposition struct {
	Handler, Flags, Restorer uint64
	Mask                     uint64
}

const (
	sigDfl = 0
	sigIgn = 1
)

// defaultIgnored are the signals whose default action is to do nothing.
var defaultIgnored = map[unix.Signal]bool{unix.SIGCHLD: true, unix.SIGURG: true, unix.SIGWINCH: true, unix.SIGCONT: true}

func (p *Process) Disposition(sig int) *SigDisposition {
	if p.sigactions == nil {
		p.sigactions = make([]SigDisposition, Nsig+1)
	}
	return &p.sigactions[sig]
}

func (p *Process) MirrorDisposition(sig int, handler uint64) {
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
				unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(s), uintptr(UnsafePointer(&sa)), 0, 8, 0, 0)
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
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(UnsafePointer(&sa)), 8, 0, 0); e == 0 {
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
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(UnsafePointer(&sa)), 0, 8, 0, 0)
}

func setHostIgnore(sig unix.Signal) {
	sa := hostSigaction{handler: sigIgn}
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(UnsafePointer(&sa)), 0, 8, 0, 0)
}

// sigprocmask how values.
const (
	SigBlock   = 0
	SigUnblock = 1
	SigSetmask = 2
)

const (
	SsOnstack    = 1
	SsDisable    = 2
	SsAutodisarm = 1 << 31
)

type AltStack struct {
	SP    mem.GuestAddr
	Size  uint64
	Flags uint32 // as the guest set them (SS_AUTODISARM is reported back)
}

// KillSelf applies a signal sent to the process itself: with the default
// action it ends the process the way the signal would.
func (t *Task) KillSelf(sig int) error {
	if sig == 0 {
		return nil
	}
	if sig < 0 || sig > Nsig {
		return unix.EINVAL
	}
	s := unix.Signal(sig)
	d := t.P.Disposition(sig)
	if d.Handler == sigIgn || (d.Handler == sigDfl && defaultIgnored[s]) {
		return nil
	}
	if t.SigMask&(1<<(sig-1)) != 0 && s != unix.SIGKILL {
		return nil // stays pending: never delivered for now
	}
	if d.Handler != sigDfl && s != unix.SIGKILL && s != unix.SIGSTOP {
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

// ArmForceSignal delivers a synchronous signal raised by the call itself, which
// Linux delivers whether or not it is blocked or ignored (force_sig): the pc
// is put back on the svc, and the process ends by the signal.
func (t *Task) ArmForceSignal(sig unix.Signal) {
	pc := t.CPU.PC()
	if t.CPU.Reg(cpu.ARMCPSR)&(1<<5) != 0 {
		pc -= 2
	} else {
		pc -= 4
	}
	t.CPU.SetReg(cpu.ARMPC, pc)
	t.P.killedBy = sig
	t.P.exited = true
	t.CPU.RequestStop()
}
