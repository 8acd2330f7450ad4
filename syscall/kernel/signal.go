package kernel

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
	"xemu/guestfs"
	"xemu/syscall/abi"
)

// Signals: generation (queues per thread and per process), delivery at safe
// points (after a system call, or when the engine stops: a fault, an
// exception, an interrupt from another thread), frames built by the
// architecture's abi.SigFrameLayout, and the kernel's rules for restarting an
// interrupted call.
//
// Locking: Process.sigMu guards the dispositions, the shared queue and every
// thread's queue and mask, because a sender on another goroutine (the host
// signal reader, or later another thread) reads a thread's mask to decide
// whether to wake it. A thread's registers and its alternate stack are its
// own and need no lock.

// SigSet is a set of signals: bit n-1 is signal n.
type SigSet uint64

func sigBit(sig int) SigSet { return 1 << (uint(sig) - 1) }

// Has reports whether sig is in the set.
func (s SigSet) Has(sig int) bool { return sig >= 1 && sig <= abi.NSIG && s&sigBit(sig) != 0 }

// SigAction is one guest struct sigaction, in the kernel's terms.
type SigAction struct {
	Handler, Flags, Restorer uint64
	Mask                     SigSet
}

// synchronousSignals are dequeued first, as the kernel's SYNCHRONOUS_MASK:
// a fault must be handled before anything else arrives on top of it.
const synchronousSignals = SigSet(1<<(abi.SIGSEGV-1) | 1<<(abi.SIGBUS-1) | 1<<(abi.SIGILL-1) |
	1<<(abi.SIGTRAP-1) | 1<<(abi.SIGFPE-1) | 1<<(abi.SIGSYS-1))

// stopSignals are the signals whose default action is to stop.
const stopSignals = SigSet(1<<(abi.SIGSTOP-1) | 1<<(abi.SIGTSTP-1) | 1<<(abi.SIGTTIN-1) | 1<<(abi.SIGTTOU-1))

// sigQueue holds the pending signals of a thread or of the process. A
// standard signal is queued at most once; real-time signals queue each
// instance with its value, in order.
type sigQueue struct {
	set   SigSet
	infos []abi.SigInfo
}

func (q *sigQueue) add(si abi.SigInfo) {
	sig := int(si.Signo)
	if sig < abi.SIGRTMIN && q.set.Has(sig) {
		return // standard signals coalesce
	}
	q.set |= sigBit(sig)
	q.infos = append(q.infos, si)
}

// take removes the oldest instance of sig.
func (q *sigQueue) take(sig int) (abi.SigInfo, bool) {
	for i, si := range q.infos {
		if int(si.Signo) == sig {
			q.infos = append(q.infos[:i], q.infos[i+1:]...)
			still := false
			for _, o := range q.infos {
				if int(o.Signo) == sig {
					still = true
					break
				}
			}
			if !still {
				q.set &^= sigBit(sig)
			}
			return si, true
		}
	}
	return abi.SigInfo{}, false
}

// drop discards every instance of the signals in set.
func (q *sigQueue) drop(set SigSet) {
	if q.set&set == 0 {
		return
	}
	kept := q.infos[:0]
	for _, si := range q.infos {
		if !set.Has(int(si.Signo)) {
			kept = append(kept, si)
		}
	}
	q.infos = kept
	q.set &^= set
}

// next is the signal to dequeue among allowed: synchronous ones first, then
// the lowest number (kernel/signal.c next_signal).
func (q *sigQueue) next(allowed SigSet) int {
	s := q.set & allowed
	if s == 0 {
		return 0
	}
	if sync := s & synchronousSignals; sync != 0 {
		s = sync
	}
	for sig := 1; sig <= abi.NSIG; sig++ {
		if s.Has(sig) {
			return sig
		}
	}
	return 0
}

// signalState is a process's signal state.
type signalState struct {
	sigMu   sync.Mutex
	actions [abi.NSIG + 1]SigAction
	shared  sigQueue
	// killedBy is the signal that ended the process, if one did.
	killedBy  unix.Signal
	hostSigMu sync.Mutex
	// signalFDs are the process's signalfds (signalfd.go).
	signalFDs []*SignalFD
	// childReaping is how the host treats ended children now.
	childReaping cpu.ChildReaping
}

// Action returns a copy of the disposition of sig.
func (p *Process) Action(sig int) SigAction {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	return p.actions[sig]
}

// SetAction changes the disposition of sig and returns the old one. Setting
// a signal to be ignored discards it where it is pending (kernel/signal.c
// do_sigaction).
func (p *Process) SetAction(sig int, act SigAction) SigAction {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	old := p.actions[sig]
	act.Mask &^= abi.SigUnblockable
	p.actions[sig] = act
	if p.ignoredLocked(sig) {
		p.dropPendingLocked(sigBit(sig))
	}
	if sig == abi.SIGCHLD {
		p.syncChildReapingLocked()
	}
	return old
}

// syncChildReapingLocked makes the host treat ended children as the guest's
// SIGCHLD disposition asks: ignored (SIG_IGN) or SA_NOCLDWAIT means no
// zombies, reaped by the kernel.
func (p *Process) syncChildReapingLocked() {
	a := p.actions[abi.SIGCHLD]
	mode := cpu.ChildrenWaited
	switch {
	case a.Handler == abi.SIG_IGN:
		mode = cpu.ChildrenIgnored
	case a.Flags&abi.SA_NOCLDWAIT != 0:
		mode = cpu.ChildrenNoWait
	}
	if a.Flags&abi.SA_NOCLDSTOP != 0 {
		mode |= cpu.ChildStopsUnreported
	}
	if mode != p.childReaping {
		if cpu.SetChildReaping(mode) == nil {
			p.childReaping = mode
		}
		if mode&(cpu.ChildrenIgnored|cpu.ChildrenNoWait) != 0 {
			// A wait would block for the zygote once the kernel has reaped
			// the rest (zygote.go). Not here: the caller holds sigMu.
			go p.DropZygote(false)
		}
	}
}

// dropPendingLocked discards the signals of set from every queue.
func (p *Process) dropPendingLocked(set SigSet) {
	p.shared.drop(set)
	for _, t := range p.tasks {
		t.pending.drop(set)
	}
}

// ignoredByDefault: SIG_DFL does nothing with sig when it is delivered
// (SIGCONT's work is done when it is sent).
func ignoredByDefault(sig int) bool {
	d := abi.DefaultAction(sig)
	return d == abi.SigDefaultIgnore || d == abi.SigDefaultContinue
}

// ignoredLocked: the signal would be discarded when delivered.
func (p *Process) ignoredLocked(sig int) bool {
	h := p.actions[sig].Handler
	return h == abi.SIG_IGN || (h == abi.SIG_DFL && ignoredByDefault(sig))
}

// taskSignals is a thread's signal state.
type taskSignals struct {
	mask    SigSet // guarded by P.sigMu for writers other than the thread
	pending sigQueue
	// savedMask is the mask to put back when the call that changed it
	// temporarily (sigsuspend, ppoll, pselect6, epoll_pwait) returns, or
	// for the frame of the handler that interrupts it.
	savedMask   SigSet
	restoreMask bool
	altStack    AltStack
	// maybePending is set whenever a signal may have become deliverable:
	// the system call path checks it with one load.
	maybePending atomic.Bool
	// wake is signalled when a signal is queued for a thread that waits
	// in Go (sigsuspend, sigtimedwait, pause).
	wake chan struct{}
	// hostCallSeq goes up by one as a handler starts and again as it ends:
	// odd while it runs (and may block in a host call, which a sender must
	// interrupt with a kick), and never the same for two calls.
	hostCallSeq atomic.Uint64
}

// Mask is the thread's blocked set.
func (t *Task) Mask() SigSet {
	t.P.sigMu.Lock()
	defer t.P.sigMu.Unlock()
	return t.mask
}

// SetMask changes the blocked set (SIGKILL and SIGSTOP never block).
func (t *Task) SetMask(m SigSet) {
	t.P.sigMu.Lock()
	t.mask = m &^ abi.SigUnblockable
	t.P.sigMu.Unlock()
	t.maybePending.Store(true)
}

// SetTemporaryMask installs mask until the current call returns: ppoll,
// pselect6, epoll_pwait and sigsuspend. A handler that runs meanwhile saves
// the thread's real mask in its frame.
func (t *Task) SetTemporaryMask(m SigSet) {
	t.P.sigMu.Lock()
	if !t.restoreMask {
		t.savedMask = t.mask
		t.restoreMask = true
	}
	t.mask = m &^ abi.SigUnblockable
	t.P.sigMu.Unlock()
	t.maybePending.Store(true)
}

// Pending is what is pending for the thread: its own and the process's.
func (t *Task) Pending() SigSet {
	t.P.sigMu.Lock()
	defer t.P.sigMu.Unlock()
	return t.pending.set | t.P.shared.set
}

// SignalPending reports whether a signal the thread does not block is
// pending: what makes a blocking call return EINTR.
func (t *Task) SignalPending() bool {
	t.P.drainHostSignals()
	t.P.sigMu.Lock()
	defer t.P.sigMu.Unlock()
	return t.deliverableLocked()
}

func (t *Task) deliverableLocked() bool {
	return (t.pending.set|t.P.shared.set)&^t.mask != 0
}

// Send generates a signal for the process (t == nil) or for thread t, as
// kernel/signal.c send_signal does: discarded if ignored and not blocked,
// coalesced if standard and already pending.
func (p *Process) Send(t *Task, si abi.SigInfo) {
	sig := int(si.Signo)
	if sig < 1 || sig > abi.NSIG {
		return
	}
	p.sigMu.Lock()
	// SIGCONT discards pending stop signals, and a stop signal discards a
	// pending SIGCONT (prepare_signal).
	if sig == abi.SIGCONT {
		p.dropPendingLocked(stopSignals)
	} else if stopSignals.Has(sig) {
		p.dropPendingLocked(sigBit(abi.SIGCONT))
	}
	target := t
	if target == nil {
		// A thread that does not block it takes it (complete_signal); with
		// none, it waits in the shared queue.
		for _, o := range p.tasks {
			if !o.mask.Has(sig) {
				target = o
				break
			}
		}
	}
	blocked := target == nil || target.mask.Has(sig)
	if p.ignoredLocked(sig) && !blocked && sig != abi.SIGKILL {
		p.sigMu.Unlock()
		return
	}
	if t != nil {
		t.pending.add(si)
	} else {
		p.shared.add(si)
	}
	p.rearmSignalFDsLocked()
	// A signal that will kill the process kills it now, whatever its
	// threads are doing (kernel/signal.c complete_signal, sig_fatal).
	fatal := !blocked && p.actions[sig].Handler == abi.SIG_DFL && !stopSignals.Has(sig) && !ignoredByDefault(sig)
	// A blocked signal still ends a wait for it (sigtimedwait, sigwait,
	// a signalfd's read), which Linux unblocks for the wait.
	var waiters []*Task
	if blocked {
		if t != nil {
			waiters = append(waiters, t)
		} else {
			for _, o := range p.tasks {
				waiters = append(waiters, o)
			}
		}
	}
	p.sigMu.Unlock()
	if fatal {
		p.die(unix.Signal(sig))
	}
	if target != nil && !blocked {
		target.notifySignal()
	}
	for _, o := range waiters {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
}

// die ends the process by sig at once.
func (p *Process) die(sig unix.Signal) {
	if f, ok := p.Strace.(*os.File); ok {
		f.Sync()
	}
	DieBySignal(sig)
}

// notifySignal makes the thread look at its signals soon: at its next
// system call exit if it is running one, at once if it waits for a signal,
// by an EINTR if it is blocked in a host call, and by stopping its engine if
// it runs guest code.
func (t *Task) notifySignal() {
	t.maybePending.Store(true)
	select {
	case t.wake <- struct{}{}:
	default:
	}
	// An execve on the thread replaces its engine under sigMu.
	t.P.sigMu.Lock()
	e := t.CPU
	t.P.sigMu.Unlock()
	if e != nil {
		e.Interrupt()
	}
	if seq := t.hostCallSeq.Load(); seq&1 != 0 && t.hostTID != unix.Gettid() {
		cpu.KickThread(t.hostTID)
		// A kick that lands just before the call starts is lost: keep
		// kicking while the same call stays blocked with the signal there.
		go func() {
			d := time.Millisecond
			for {
				time.Sleep(d)
				if t.hostCallSeq.Load() != seq || !t.SignalPending() {
					return
				}
				cpu.KickThread(t.hostTID)
				d = min(2*d, 20*time.Millisecond)
			}
		}()
	}
}

// Kill sends sig from this thread to its own process (kill(getpid(), sig)).
func (t *Task) Kill(sig int, target *Task) {
	code := int32(abi.SI_USER)
	if target != nil {
		code = abi.SI_TKILL
	}
	t.P.Send(target, abi.SigInfo{Signo: int32(sig), Code: code, Pid: uint32(unix.Getpid()), Uid: uint32(unix.Getuid())})
}

// ForceSignal sends a signal the thread caused (a fault, an exception, a
// bad frame): if it is blocked or ignored the thread cannot take it, so its
// default action applies (kernel/signal.c force_sig_info_to_task).
func (t *Task) ForceSignal(si abi.SigInfo) {
	sig := int(si.Signo)
	p := t.P
	p.sigMu.Lock()
	act := &p.actions[sig]
	if act.Handler == abi.SIG_IGN || t.mask.Has(sig) {
		t.mask &^= sigBit(sig)
		if act.Handler == abi.SIG_IGN {
			act.Handler = abi.SIG_DFL
		}
	}
	t.pending.add(si)
	p.sigMu.Unlock()
	t.maybePending.Store(true)
}

// dequeueLocked takes the next deliverable signal: the thread's own first,
// then the process's.
func (t *Task) dequeueLocked(allowed SigSet) (si abi.SigInfo, ok bool) {
	if sig := t.pending.next(allowed); sig != 0 {
		si, ok = t.pending.take(sig)
	} else if sig := t.P.shared.next(allowed); sig != 0 {
		si, ok = t.P.shared.take(sig)
	}
	if ok {
		t.P.rearmSignalFDsLocked()
	}
	return si, ok
}

// Restart errors: a handler returns them when a signal interrupted it; the
// signal delivery decides, as the kernel does, between EINTR and running
// the call again (include/linux/errno.h).
const (
	ERESTARTSYS           = unix.Errno(512) // restart if SA_RESTART
	ERESTARTNOINTR        = unix.Errno(513) // always restart
	ERESTARTNOHAND        = unix.Errno(514) // restart only if no handler runs
	ERESTART_RESTARTBLOCK = unix.Errno(516) // like NOHAND (the call is redone whole)
)

func isRestart(err error) bool {
	e, ok := err.(unix.Errno)
	return ok && (e == ERESTARTSYS || e == ERESTARTNOINTR || e == ERESTARTNOHAND || e == ERESTART_RESTARTBLOCK)
}

// interruptedCall is a system call that returned a restart error.
type interruptedCall struct {
	err     unix.Errno
	arg0    uint64 // the first argument, which the result register overwrote
	insnLen uint64 // the svc instruction's length, to go back over it
}

// restart makes the thread execute the call again.
func (t *Task) restart(regs *cpu.Regs, c *interruptedCall) {
	regs.X[0] = c.arg0
	regs.PC -= c.insnLen
}

// deliverSignals delivers every deliverable signal to the thread, whose
// registers are in its engine and exact. call, if not nil, is the system
// call that just returned a restart error. It returns false if the process
// ended (by a signal's default action).
func (t *Task) deliverSignals(call *interruptedCall) bool {
	p := t.P
	p.drainHostSignals()
	t.maybePending.Store(false)
	var regs cpu.Regs
	loaded := false
	load := func() {
		if !loaded {
			t.CPU.SaveRegs(&regs)
			loaded = true
		}
	}
	for {
		p.sigMu.Lock()
		si, ok := t.dequeueLocked(^t.mask)
		if !ok {
			if t.restoreMask {
				t.mask, t.restoreMask = t.savedMask, false
			}
			p.sigMu.Unlock()
			break
		}
		sig := int(si.Signo)
		act := p.actions[sig]
		p.sigMu.Unlock()

		if act.Handler == abi.SIG_IGN {
			continue
		}
		if act.Handler == abi.SIG_DFL {
			switch {
			case ignoredByDefault(sig):
				continue
			case stopSignals.Has(sig):
				stopProcess(sig)
				continue
			default:
				p.killedBy = unix.Signal(sig)
				p.exited = true
				if loaded {
					t.CPU.RestoreRegs(&regs)
				}
				return false
			}
		}
		load()
		if call != nil {
			switch {
			case call.err == ERESTARTNOINTR || (call.err == ERESTARTSYS && act.Flags&abi.SA_RESTART != 0):
				t.restart(&regs, call)
			default:
				regs.X[0] = errnoResult(unix.EINTR) // a 32-bit R0 takes the low half
			}
			call = nil
		}
		if !t.setupFrame(sig, si, act, &regs) {
			// The frame could not be written: SIGSEGV, by force; if that
			// was SIGSEGV's own frame, with its default action, or it
			// would fail forever (kernel/signal.c force_sigsegv).
			if sig == abi.SIGSEGV {
				p.sigMu.Lock()
				p.actions[abi.SIGSEGV] = SigAction{}
				p.sigMu.Unlock()
			}
			t.lastFault.sig, t.lastFault.why = unix.SIGSEGV, fmt.Sprintf("cannot write the frame for %s below sp %#x", abi.SignalName(sig), regs.SP)
			t.ForceSignal(abi.SigInfo{Signo: abi.SIGSEGV, Code: abi.SI_KERNEL})
			continue
		}
	}
	if call != nil {
		// No handler ran: the call goes on as if nothing happened.
		load()
		t.restart(&regs, call)
	}
	if loaded {
		t.CPU.RestoreRegs(&regs)
	}
	return true
}

// stopProcess stops xemu with sig, as the kernel stops a process with a
// stop signal: the parent sees it stopped by that very signal.
func stopProcess(sig int) {
	s := unix.Signal(sig)
	cpu.ReleaseSignal(s)
	unix.Tgkill(unix.Getpid(), unix.Gettid(), s)
	// The stop takes effect as the signal is delivered, on the way out of
	// tgkill; we get here after SIGCONT.
	cpu.CatchSignal(s)
}

// onAltStack: sp is on the thread's alternate signal stack (on_sig_stack).
func (t *Task) onAltStack(sp uint64) bool {
	a := t.altStack
	return a.Size != 0 && sp > uint64(a.SP) && sp-uint64(a.SP) <= a.Size
}

// setupFrame builds the handler's frame on the right stack, writes it and
// points regs at the handler (kernel's handle_signal and signal_setup_done).
func (t *Task) setupFrame(sig int, si abi.SigInfo, act SigAction, regs *cpu.Regs) bool {
	p := t.P
	sp := regs.SP
	alt := t.altStack
	stack := t.CurrentAltStack(sp) // uc_stack, as __save_altstack records it
	if act.Flags&abi.SA_ONSTACK != 0 && alt.Size != 0 && !t.onAltStack(sp) {
		sp = uint64(alt.SP) + alt.Size
	}
	p.sigMu.Lock()
	mask := t.mask
	if t.restoreMask {
		mask, t.restoreMask = t.savedMask, false
	}
	p.sigMu.Unlock()
	req := abi.SigFrameRequest{
		Regs:       *regs,
		Mask:       uint64(mask),
		Info:       si,
		RT:         act.Flags&abi.SA_SIGINFO != 0,
		Stack:      stack,
		SP:         sp,
		Handler:    act.Handler,
		Trampoline: uint64(p.sigTrampoline),
		FaultAddr:  si.Addr,
	}
	if act.Flags&abi.SA_RESTORER != 0 {
		req.Restorer = act.Restorer
	}
	if f, ok := t.faultDetail[sig]; ok {
		req.ESR, req.TrapNo, req.ErrorCode = f.esr, f.trapNo, f.errorCode
		delete(t.faultDetail, sig)
	}
	frame, err := p.ABI.SigFrame.Build(&req)
	if err != nil {
		return false
	}
	if err := p.Mem.Write(mem.GuestAddr(frame.Addr), frame.Bytes); err != nil {
		return false
	}
	*regs = frame.Regs
	p.sigMu.Lock()
	t.mask = (mask | act.Mask) &^ abi.SigUnblockable
	if act.Flags&abi.SA_NODEFER == 0 {
		t.mask |= sigBit(sig) &^ abi.SigUnblockable
	}
	if act.Flags&abi.SA_RESETHAND != 0 && sig != abi.SIGKILL && sig != abi.SIGSTOP {
		p.actions[sig] = SigAction{}
	}
	p.sigMu.Unlock()
	// __save_altstack disarms the stack as it saves it in uc_stack: in
	// every AArch64 frame, but only in ARM's rt frames.
	if alt.Flags&abi.SS_AUTODISARM != 0 && alt.Size != 0 && (req.RT || p.ABI.Class == 64) {
		t.altStack = AltStack{Flags: abi.SS_DISABLE}
	}
	if t.P.Strace != nil {
		t.tracef("--- %s {si_signo=%s, si_code=%d, si_pid=%d, si_addr=%#x} ---\n",
			abi.SignalName(sig), abi.SignalName(sig), si.Code, si.Pid, si.Addr)
	}
	return true
}

// faultInfo is what a frame records of a fault besides siginfo.
type faultInfo struct{ esr, trapNo, errorCode uint64 }

// SigReturn is rt_sigreturn (rt) and ARM's sigreturn: the registers, mask
// and alternate stack saved in the frame at SP come back.
func (t *Task) SigReturn(rt bool) {
	var cur cpu.Regs
	t.CPU.SaveRegs(&cur)
	read := func(a uint64, n int) ([]byte, error) {
		b := make([]byte, n)
		return b, t.P.Mem.Read(mem.GuestAddr(a), b)
	}
	regs, mask, stack, err := t.P.ABI.SigFrame.ReturnFrame(cur.SP, rt, &cur, read)
	if err != nil {
		if bad, ok := err.(*abi.BadSigFrameError); ok && bad.MaskRead {
			t.SetMask(SigSet(bad.Mask))
		}
		t.ForceSignal(abi.SigInfo{Signo: abi.SIGSEGV, Code: abi.SI_KERNEL})
		return
	}
	t.SetMask(SigSet(mask))
	if rt {
		// restore_altstack: the saved stack comes back; an error is ignored.
		t.SetAltStack(AltStack{SP: mem.GuestAddr(stack.SP), Size: stack.Size, Flags: uint32(stack.Flags)}, regs.SP)
	}
	t.CPU.RestoreRegs(&regs)
}

// AltStack is the thread's sigaltstack.
type AltStack struct {
	SP    mem.GuestAddr
	Size  uint64
	Flags uint32 // as the guest set them (SS_AUTODISARM is reported back)
}

// CurrentAltStack is the alternate stack as sigaltstack reports it for a
// thread whose stack pointer is sp.
func (t *Task) CurrentAltStack(sp uint64) abi.StackT {
	a := t.altStack
	s := abi.StackT{SP: uint64(a.SP), Size: a.Size, Flags: int32(a.Flags & abi.SS_AUTODISARM)}
	switch {
	case t.onAltStack(sp):
		s.Flags |= abi.SS_ONSTACK
	case a.Size == 0:
		s.Flags |= abi.SS_DISABLE
	}
	return s
}

// SetAltStack is do_sigaltstack: EPERM while running on the current one,
// EINVAL for bad flags, ENOMEM for a stack below MINSIGSTKSZ.
func (t *Task) SetAltStack(a AltStack, sp uint64) error {
	if t.onAltStack(sp) {
		return unix.EPERM
	}
	switch a.Flags &^ abi.SS_AUTODISARM {
	case abi.SS_DISABLE:
		t.altStack = AltStack{Flags: a.Flags}
	case 0, abi.SS_ONSTACK:
		if a.Size < t.P.ABI.MinAltStack {
			return unix.ENOMEM
		}
		t.altStack = AltStack{SP: a.SP, Size: a.Size, Flags: a.Flags &^ abi.SS_ONSTACK}
	default:
		return unix.EINVAL
	}
	return nil
}

// WaitForSignal blocks until a signal in want is pending or one the thread
// does not block arrives, or until the deadline (zero: none). It returns the
// signal taken from want, or 0 with EAGAIN at the deadline or EINTR-style
// ERESTARTNOHAND when another signal is to be delivered.
func (t *Task) WaitForSignal(want SigSet, deadline time.Time) (abi.SigInfo, error) {
	var timer <-chan time.Time
	if !deadline.IsZero() {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timer = tm.C
	}
	for {
		t.P.drainHostSignals()
		t.P.sigMu.Lock()
		if want != 0 {
			if si, ok := t.dequeueLocked(want); ok {
				t.P.sigMu.Unlock()
				return si, nil
			}
		}
		deliverable := t.deliverableLocked()
		t.P.sigMu.Unlock()
		if deliverable {
			t.maybePending.Store(true)
			return abi.SigInfo{}, ERESTARTNOHAND
		}
		select {
		case <-t.wake:
		case <-timer:
			return abi.SigInfo{}, unix.EAGAIN
		}
	}
}

// The host signal side: every signal the guest may receive is caught by a C
// handler (cpu.CatchSignal) and read here.

// hostSignalsCaught: every host signal except SIGKILL and SIGSTOP, which
// cannot be caught, and 32 and 33, which the C library of xemu itself uses
// (SIGCANCEL, SIGSETXID: setuid must reach every host thread). A guest
// cannot receive those two from another process.
func hostSignalsCaught() []unix.Signal {
	var out []unix.Signal
	for s := 1; s <= abi.NSIG; s++ {
		if s == abi.SIGKILL || s == abi.SIGSTOP || s == 32 || s == 33 {
			continue
		}
		out = append(out, unix.Signal(s))
	}
	return out
}

var (
	hostSignalsOnce sync.Once
	// currentProcess receives host signals (one guest process per xemu).
	currentProcess atomic.Pointer[Process]
)

// catchHostSignals routes every host signal to the guest process p.
func catchHostSignals(p *Process) error {
	currentProcess.Store(p)
	var err error
	hostSignalsOnce.Do(func() {
		var fds [2]int
		if err = unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
			return
		}
		r, w := highFD(fds[0]), highFD(fds[1])
		p.Reserve(r)
		p.Reserve(w)
		unix.SetNonblock(w, true)
		cpu.SetSignalWakeFD(w)
		for _, s := range hostSignalsCaught() {
			if e := cpu.CatchSignal(s); e != nil {
				err = e
				return
			}
		}
		go func() {
			buf := make([]byte, 64)
			for {
				if _, e := unix.Read(r, buf); e != nil && e != unix.EINTR {
					return
				}
				if p := currentProcess.Load(); p != nil {
					p.drainHostSignals()
				}
			}
		}()
	})
	// Signals caught before (a fork child catches them from its start,
	// cpu/hostsig.c) go to the guest now.
	p.drainHostSignals()
	return err
}

// highFD moves a descriptor of xemu's to hostFDBase or above.
func highFD(fd int) int {
	h, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, hostFDBase)
	if err != nil {
		return fd
	}
	unix.Close(fd)
	return h
}

// TakeHostSignals queues now the host signals caught so far, for a call
// whose result the kernel orders after a signal: a SIGCHLD is pending by the
// time wait returns the child that sent it.
func (t *Task) TakeHostSignals() { t.P.drainHostSignals() }

// drainHostSignals queues every host signal caught so far. The lock makes a
// drain on the guest thread wait for one the reader goroutine has begun, so
// that a signal taken from the ring is queued before anyone asks whether
// it is pending.
func (p *Process) drainHostSignals() {
	p.hostSigMu.Lock()
	defer p.hostSigMu.Unlock()
	for {
		hs, ok := cpu.NextHostSignal()
		if !ok {
			return
		}
		si := abi.UnmarshalSigInfo(hs.Info[:], 64)
		if si.Signo == abi.SIGCHLD && si.Code > 0 && p.zygoteSignal(int(si.Pid), si.Code) {
			continue
		}
		var target *Task
		p.sigMu.Lock()
		// SA_NOCLDSTOP: a child's stop or continuation sends no SIGCHLD.
		if si.Signo == abi.SIGCHLD && (si.Code == abi.CLD_STOPPED || si.Code == abi.CLD_CONTINUED) &&
			p.actions[abi.SIGCHLD].Flags&abi.SA_NOCLDSTOP != 0 {
			p.sigMu.Unlock()
			continue
		}
		if si.Code == abi.SI_TKILL || (si.Code == abi.SI_USER && int(si.Pid) == unix.Getpid()) {
			// tgkill aimed at a thread, or a signal the host kernel sent
			// to the thread that caused it (SIGPIPE, SIGXFSZ).
			target = p.tasks[hs.TID]
		}
		p.sigMu.Unlock()
		p.Send(target, si)
	}
}

// ForceFromSyscall raises a signal caused by the system call itself, as
// ARM's private calls do (arch/arm/kernel/traps.c arm_syscall): si_addr is
// the svc; with rewind the pc goes back onto it (the breakpoint call).
func (t *Task) ForceFromSyscall(sig, code int, rewind bool, why string) {
	pc := t.CPU.PC() - t.P.ABI.SyscallInsnLen(t.CPU)
	if rewind {
		t.CPU.SetReg(t.P.ABI.CPU.PCReg, t.P.ABI.CPU.ResumePC(t.CPU, pc))
	}
	t.force(abi.SigInfo{Signo: int32(sig), Code: int32(code), Addr: pc}, faultInfo{}, why)
}

// Thread returns the process's thread with guest TID tid, or nil.
func (p *Process) Thread(tid int) *Task {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	return p.tasks[tid]
}

// mapSigTrampoline maps the page with the kernel's signal return code, which
// a handler installed without SA_RESTORER returns through: ARM's [sigpage],
// the sigreturn of arm64's vDSO.
func mapSigTrampoline(space *mem.AddressSpace, a *ABI) (mem.GuestAddr, error) {
	code := a.SigFrame.TrampolineCode()
	at, err := space.Map(mem.MapRequest{Length: uint64(len(code)), Prot: mem.ProtRead | mem.ProtWrite, FD: -1, Name: "[sigpage]"})
	if err != nil {
		return 0, err
	}
	if err := space.Write(at, code); err != nil {
		return 0, err
	}
	if err := space.Protect(at, uint64(len(code)), mem.ProtRead|mem.ProtExec); err != nil {
		return 0, err
	}
	return at, nil
}

// DieBySignal ends xemu with sig, so that its parent sees what it would
// have seen from the program itself.
func DieBySignal(sig unix.Signal) {
	cpu.ReleaseSignal(sig)
	sa := hostSigaction{handler: abi.SIG_DFL}
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(UnsafePointer(&sa)), 0, 8, 0, 0)
	var set unix.Sigset_t
	set.Val[0] = 1 << (uint(sig) - 1)
	unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
	unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
	// A signal whose default is to continue or stop does not end us.
	os.Exit(128 + int(sig))
}

// hostSigaction is the kernel's struct sigaction on x86-64.
type hostSigaction struct {
	handler, flags, restorer uintptr
	mask                     uint64
}

// StatusSignals are the thread's signal sets as /proc/PID/status shows them.
func (t *Task) StatusSignals() guestfs.StatusSignals {
	p := t.P
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	s := guestfs.StatusSignals{Pending: uint64(t.pending.set), SharedPending: uint64(p.shared.set), Blocked: uint64(t.mask)}
	for sig := 1; sig <= abi.NSIG; sig++ {
		switch p.actions[sig].Handler {
		case abi.SIG_IGN:
			s.Ignored |= abi.SigMask(sig)
		case abi.SIG_DFL:
		default:
			s.Caught |= abi.SigMask(sig)
		}
	}
	return s
}
