package kernel

import (
	"fmt"
	"io"
	"math/bits"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
	"xemu/guestfs"
	"xemu/loader"
	"xemu/syscall/abi"
)

// Process is the state a guest process's threads share: memory, descriptors'
// guest-only flags, paths, identity of the program.
type Process struct {
	ABI *ABI
	Mem *mem.AddressSpace
	FS  *guestfs.FS

	ExePath string   // the program as the guest named it
	Argv    []string // for /proc/self/cmdline
	Auxv    [][2]uint64
	// EnvStart and EnvEnd bound the environment strings in guest memory.
	EnvStart, EnvEnd mem.GuestAddr
	Strace           io.Writer
	straceMu         sync.Mutex

	// spareEngine: an engine a zygote opened over Mem ahead, which the
	// main thread's first engine is instead of a new one.
	spareEngine *cpu.Engine

	// reserved are the emulator's own descriptors, which the guest may not
	// close or replace.
	reserved reservedSet
	// reservedFiles are the (dev, ino) of the files behind reserved, made
	// when first asked for (emulatorFile).
	reservedFilesMu sync.Mutex
	reservedFiles   map[[2]uint64]bool
	// Dirs are the directory streams whose offsets the guest sees
	// renumbered (ABI.SmallDirCookies).
	Dirs dirStreams

	// HWCap and HWCap2 are what the CPU implements (AT_HWCAP, /proc/cpuinfo).
	HWCap, HWCap2 uint64
	// CPUID is the emulated CPU's identification register (MIDR).
	CPUID uint64

	Personality uint32
	Limits      map[int]*Rlimit
	// fileLimit is the guest's soft RLIMIT_NOFILE where xemu enforces it
	// (nofile.go); 0: the host does.
	fileLimit atomic.Uint64
	// membarrier is the guest's membarrier registrations, as the
	// MEMBARRIER_CMD_REGISTER_* bits: the host's, made for this process,
	// outlive an execve in it, which Linux's do not (membarrier_exec_mmap).
	membarrier atomic.Uint32
	exitStatus int
	exited     bool

	signalState
	processThreads
	zygoteState
	// tasks are the process's threads by TID.
	tasks       map[int]*Task
	special     specialFiles
	execOptions ExecOptions
	straceFD    int
	stderrFD    int // xemu's own copy of its stderr
	// vforkMem, in a vfork child, is where the pages it writes go back to
	// its parent when it executes or exits (fork.go vforkWriteBack).
	vforkMem int
	// vforkSaved: how many pages the vfork parent saved for it (--strace).
	vforkSaved int64
	// vforkFD, in a vfork child, is the pipe whose closing releases the
	// parent (Fork): at the child's execve or exit.
	vforkFD int
	// sigTrampoline is the page holding the kernel's signal return code
	// (abi.SigFrameLayout.TrampolineCode).
	sigTrampoline mem.GuestAddr
	// noRandomize: xemu's --no-randomize, for every program of the process.
	noRandomize bool
	// execMu keeps other goroutines (the guest-view server) from seeing the
	// process halfway through an execve: it is held while the program's
	// memory, engine and identity are replaced.
	execMu sync.RWMutex
	// timers are the POSIX timers the guest created (host timers), which
	// an execve deletes.
	timersMu sync.Mutex
	timers   map[int32]bool
	// exitSignalSIGCHLD caches exitSignalIsSIGCHLD.
	exitSignalOnce    sync.Once
	exitSignalSIGCHLD bool
}

// Task is one guest thread: its CPU and per-thread kernel state.
type Task struct {
	P   *Process
	CPU *cpu.Engine
	TID int

	ClearChildTID mem.GuestAddr
	RobustList    mem.GuestAddr
	RobustLen     uint64
	// name is the thread's comm as the guest set it (zero: the program's
	// name); other threads read and write it (/proc/PID/task/TID/comm, the
	// guest-view server), so it is replaced whole.
	name   atomic.Pointer[[16]byte]
	args   Args // the arguments of the call being handled
	Time64 bool // the call being handled takes 64-bit timespecs

	taskSignals
	threadState
	// hostTID is the host thread the task runs on (a kick goes there).
	hostTID int
	// lastFault says what the last fault was, for the note printed if
	// its signal kills the process.
	lastFault struct {
		sig unix.Signal
		why string
	}
	// faultDetail is what the frame of a pending fault signal records
	// besides siginfo (AArch64 ESR, ARM trap number and error code).
	faultDetail map[int]faultInfo
	// exec is the execve the thread's call prepared, which Run carries out
	// once the engine has stopped (exec.go).
	exec *execPending
}

// newTask makes a thread of p running on the calling host thread.
func newTask(p *Process) *Task {
	tid := unix.Gettid()
	t := &Task{P: p, TID: tid, hostTID: tid, faultDetail: map[int]faultInfo{}}
	t.wake = make(chan struct{}, 1)
	p.sigMu.Lock()
	if p.tasks == nil {
		p.tasks = map[int]*Task{}
	}
	p.tasks[tid] = t
	p.sigMu.Unlock()
	return t
}

// Config is how a guest process starts.
type Config struct {
	Program string // path as given on the command line (AT_EXECFN)
	Exe     string // absolute host path of the program (/proc/self/exe)
	Argv    []string
	Env     []string
	Sysroot string
	Strace  io.Writer
	// StraceFD is the strace log's descriptor if it is a file (reserved).
	StraceFD int
	// StderrFD is xemu's own copy of its stderr (reserved).
	StderrFD int
	// Exec says how a re-executed xemu is to run the guest's next program.
	Exec ExecOptions
	// Mask and Ignored are the signal state an execve hands over.
	Mask, Ignored SigSet
	// Limits are the resource limits xemu keeps for the guest (RLIMIT_AS,
	// RLIMIT_DATA, RLIMIT_STACK) as an execve hands them over; nil: the
	// defaults.
	Limits map[int]*Rlimit
	// Personality is the personality(2) an execve hands over.
	Personality uint32
	// NoRandomize disables address-space randomization (setarch -R).
	NoRandomize bool
	// ExitAfter: the caller ends the host process as soon as Run returns,
	// so the engine and the guest's memory are left to the host kernel,
	// which frees them at exit anyway; closing them first only costs time.
	ExitAfter bool
	// SelfTested names the CPU architectures whose self-test passed in the
	// xemu that executed this one (cpu.Arch.AdoptSelfTest).
	SelfTested []string
}

// ExitError: the guest ended; Status is the exit status to report, Signal
// the signal that killed it (0 if it exited).
type ExitError struct {
	Status int
	Signal unix.Signal
	Why    string
	// Program is the program that ran last (execve in the process
	// replaces the one xemu started).
	Program string
}

func (e *ExitError) Error() string { return e.Why }

// Run loads and runs a guest program and returns its exit status. An
// execve of a guest program that can be done in this process (exec.go) ends
// the run loop with the next program prepared; Run installs it and goes on.
func Run(cfg Config, f *loader.File, interp *loader.File, abi *ABI) (int, error) {
	// Unicorn's engine must stay on one OS thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, a := range cpu.Arches {
		if slices.Contains(cfg.SelfTested, a.Name) {
			a.AdoptSelfTest()
		}
	}

	p := &Process{FS: &guestfs.FS{Sysroot: cfg.Sysroot, Exe: cfg.Exe}, Strace: cfg.Strace, Limits: cfg.Limits,
		noRandomize: cfg.NoRandomize}
	p.initThreads()
	p.initFileLimit()
	if cfg.StraceFD > 0 {
		p.Reserve(cfg.StraceFD)
		p.straceFD = cfg.StraceFD
	}
	p.execOptions = cfg.Exec
	if cfg.StderrFD > 0 {
		p.Reserve(cfg.StderrFD)
		p.stderrFD = cfg.StderrFD
	}
	for _, fd := range runtimeFDs {
		p.Reserve(fd)
	}
	p.reserveHostSelf()
	t := newTask(p)
	t.mainThread = true
	t.takeExecState(cfg.Mask, cfg.Ignored)
	pr := &program{f: f, interp: interp, abi: abi, argv: cfg.Argv, env: cfg.Env, execfn: cfg.Program, exe: cfg.Exe}
	p.Personality = execPersonality(cfg.Personality, abi)
	img, err := t.loadProgram(pr, !cfg.NoRandomize && p.Personality&addrNoRandomize == 0)
	if err != nil {
		return 0, err
	}
	// The image is mapped: the files' descriptors are not the guest's.
	pr.close()
	t.install(img, pr)
	// Other threads may still run guest code as the process ends: their
	// memory and engines stay until the exit (teardown), as they do when
	// xemu exits right after (ExitAfter).
	defer func() {
		if !cfg.ExitAfter && !p.multi.Load() {
			t.CPU.Close()
			p.Mem.Close()
		}
	}()
	defer cpu.SetSignalTarget(nil)
	if err := catchHostSignals(p); err != nil {
		return 0, fmt.Errorf("catching signals: %w", err)
	}
	p.serveGuestView()
	p.takeParentDeathSignal()
	p.sigMu.Lock()
	p.syncChildReapingLocked()
	p.sigMu.Unlock()
	// Started by a guest's execve, xemu began with every signal blocked
	// (exec.go handOverSignals): what came meanwhile is queued for the
	// guest now, under the mask and dispositions it kept.
	if cpu.StartedBlocked() {
		cpu.UnblockSignals()
	}
	return t.runPrograms(img.entry)
}

// runPrograms runs the main thread from pc, through the execve calls done
// in this process, until the process ends.
func (t *Task) runPrograms(pc uint64) (int, error) {
	for {
		status, err := t.run(pc)
		if t.exec == nil {
			return status, err
		}
		var ok bool
		if pc, ok = t.execPrepared(); !ok {
			return t.exitResult()
		}
	}
}

// startEngine gives the task its CPU.
func (t *Task) startEngine() (*cpu.Engine, error) {
	e, err := t.P.openEngine(t)
	if err != nil {
		return nil, err
	}
	t.CPU = e
	if t.mainThread {
		// A fork child's: its memory is there, so the test (if it was
		// not adopted) takes an engine of its own.
		e.SelfTest()
	}
	if t.P.multi.Load() {
		e.SetCodeBroadcast(true)
	} else {
		// Caught signals stop the main thread's engine straight away.
		cpu.SetSignalTarget(e)
	}
	return e, nil
}

// threadCodeBuffer is the translated-code buffer of a thread's engine other
// than the main thread's (which has cpu.DefaultCodeBuffer). When it fills,
// TCG drops the engine's translations and starts again.
const threadCodeBuffer = 256 << 20

// openEngine makes an engine over the process's memory for handler t.
func (p *Process) openEngine(t *Task) (*cpu.Engine, error) {
	e, err := p.openEngineOn(t, p.ABI, p.Mem)
	if err == nil {
		p.Mem.SetObserver(p)
	}
	return e, err
}

// openEngineOn makes an engine of abi over space for handler t.
func (p *Process) openEngineOn(t *Task, abi *ABI, space *mem.AddressSpace) (*cpu.Engine, error) {
	cfg := cpu.Config{Arch: abi.CPU, Space: space, Handler: t}
	if !t.mainThread {
		// Another thread's engine translates the same program again, and
		// its code buffer is address space reserved whether used or not: a
		// half of the main thread's keeps 64 threads at 16 GiB.
		cfg.CodeBuffer = threadCodeBuffer
	}
	var e *cpu.Engine
	if spare := p.spareEngine; spare != nil && t.mainThread && spare.Space() == space && spare.Arch() == abi.CPU {
		p.spareEngine = nil
		e = spare
		e.SetHandler(t)
	} else {
		var err error
		if e, err = cpu.Open(cfg); err != nil {
			return nil, fmt.Errorf("starting the CPU: %w", err)
		}
	}
	// Each call reads only the registers its arguments occupy; calls the
	// table does not implement read them all, for --strace.
	for _, nr := range abi.Numbers {
		if ent := abi.Lookup(nr); ent != nil && ent.Implemented() {
			e.SetSyscallArgCount(nr, abi.argRegisters(ent.Args))
		}
	}
	return e, nil
}

// run executes the task until the process exits.
func (t *Task) run(pc uint64) (int, error) {
	for {
		t.leaveKernel()
		stop := t.CPU.Run(pc)
		t.enterKernel()
		if t.P.exited {
			return t.exitResult()
		}
		if t.exec != nil {
			return 0, nil // Run carries it out
		}
		if t.threadExited {
			if !t.mainThread {
				return 0, nil
			}
			// The main thread ended alone: the process goes on until
			// its last thread ends (or exit_group).
			<-t.P.done
			return t.exitResult()
		}
		switch stop.Kind {
		case cpu.StopFault:
			// A file mapped before it grew: the page is there now, and
			// the access is simply made again.
			if stop.Fault.Mapped && !stop.Fault.Bus && t.P.Mem.FileGrew(mem.GuestAddr(stop.Fault.Addr)) {
				break
			}
			si, fi, why := t.faultSignal(stop.Fault)
			t.force(si, fi, why+t.P.where(stop.PC))
		case cpu.StopException:
			si, fi, why := t.P.ABI.ExceptionSignal(t, stop.Intno, stop.PC)
			t.force(si, fi, fmt.Sprintf("%s at pc %#x%s", why, stop.PC, t.P.where(stop.PC)))
		case cpu.StopInvalid:
			t.force(abi.SigInfo{Signo: abi.SIGILL, Code: abi.ILL_ILLOPC, Addr: stop.PC}, faultInfo{trapNo: 6},
				fmt.Sprintf("illegal instruction at pc %#x (%v)", stop.PC, stop.Err))
		}
		if !t.deliverSignals(nil) {
			return t.exitResult()
		}
		pc = t.P.ABI.CPU.ResumePC(t.CPU, t.CPU.PC())
	}
}

// exitResult is how Run reports the end of the process.
func (t *Task) exitResult() (int, error) {
	if sig := t.P.killedBy; sig != 0 {
		why := ""
		if t.lastFault.sig == sig {
			why = "guest " + t.lastFault.why
		}
		return 0, &ExitError{Signal: sig, Why: why, Program: t.P.ExePath}
	}
	return t.P.exitStatus, nil
}

// force sends the thread a signal it caused, remembering why for the
// one-line note xemu prints if the signal kills it.
func (t *Task) force(si abi.SigInfo, fi faultInfo, why string) {
	t.faultDetail[int(si.Signo)] = fi
	t.lastFault.sig, t.lastFault.why = unix.Signal(si.Signo), why
	t.ForceSignal(si)
}

// faultSignal is the signal Linux sends for a memory access the guest may
// not make: SIGSEGV (SEGV_MAPERR where nothing is mapped, SEGV_ACCERR where
// the mapping forbids it), or SIGBUS for a file page past the end of its
// file.
func (t *Task) faultSignal(f cpu.Fault) (abi.SigInfo, faultInfo, string) {
	si := abi.SigInfo{Signo: abi.SIGSEGV, Code: abi.SEGV_MAPERR, Addr: f.Addr}
	if f.Mapped {
		si.Code = abi.SEGV_ACCERR
	}
	why := f.String()
	if f.Bus {
		// The host's SIGBUS: the file was truncated under the mapping.
		name := "a file mapping"
		if m, ok := t.P.Mem.Find(mem.GuestAddr(f.Addr)); ok {
			name = m.Name
		}
		si = abi.SigInfo{Signo: abi.SIGBUS, Code: abi.BUS_ADRERR, Addr: f.Addr}
		why = fmt.Sprintf("bus error: access at %#x past the end of %s", f.Addr, name)
	} else if m, ok := t.P.Mem.Find(mem.GuestAddr(f.Addr)); ok && f.Mapped && mem.GuestAddr(f.Addr) >= m.EOF() {
		si = abi.SigInfo{Signo: abi.SIGBUS, Code: abi.BUS_ADRERR, Addr: f.Addr}
		why = fmt.Sprintf("bus error: access at %#x past the end of %s", f.Addr, m.Name)
	}
	return si, t.P.ABI.FaultDetail(f), why
}

// Exception implements cpu.Handler: an exception the kernel emulates (an
// AArch64 MRS of an ID register) is handled in place; every other one stops
// emulation so run can turn it into a signal.
func (t *Task) Exception(e *cpu.Engine, intno uint32) bool {
	if emulate := t.P.ABI.EmulateUndef; emulate != nil && emulate(t, e, intno) {
		return false
	}
	return true
}

// Syscall implements cpu.Handler: decode, dispatch, encode the result, and
// deliver the signals that are due when the call returns.
func (t *Task) Syscall(e *cpu.Engine) {
	t.enterKernel()
	defer t.leaveKernel()
	nr, raw := e.SyscallNr(), e.SyscallArgs()
	abi := t.P.ABI
	ent := abi.Lookup(nr)
	if ent == nil || !ent.Implemented() {
		if t.P.Strace != nil {
			name := fmt.Sprintf("syscall_%d", nr)
			if ent != nil {
				name = ent.Name
			}
			t.tracef("%s(%#x, %#x, %#x, ...) = -1 ENOSYS (not implemented)\n", name, raw[0], raw[1], raw[2])
		}
		t.syscallReturn(e, errnoResult(unix.ENOSYS), CtlReturn, nil)
		return
	}
	defer t.recoverHandler(ent, e)
	arg0 := raw[0]
	// On a 64-bit guest every argument is already what handlers read (Args'
	// accessors narrow C ints themselves); 32-bit guests need register pairs
	// joined and longs sign-extended.
	a := (*Args)(raw)
	if abi.Class == 32 {
		a = &t.args
		abi.Decode(raw, ent.Args, a)
	}
	var pre string
	if t.P.Strace != nil {
		pre = t.formatCall(ent, *a)
		if ent.Ret == RetNone {
			t.tracef("%s\n", pre)
		}
	}
	t.Time64 = ent.Time64
	// No call reaches xemu's own descriptors (EBADF, as if closed): checked
	// here for every descriptor argument the table declares.
	for m := ent.fdArgs; m != 0; m &= m - 1 {
		i := bits.TrailingZeros8(m)
		if fd := a.Int(i); fd >= 0 && t.P.reservedFD(fd) {
			if t.P.Strace != nil && ent.Ret != RetNone {
				t.tracef("%s = -1 EBADF (xemu's own descriptor)\n", pre)
			}
			t.syscallReturn(e, errnoResult(unix.EBADF), CtlReturn, nil)
			return
		}
	}
	var r uint64
	var err error
	ctl := CtlReturn
	// While the handler runs, a signal for the thread interrupts whatever
	// host call it blocks in (notifySignal's kick).
	t.hostCallSeq.Add(1)
	if ent.Ctl != nil {
		r, ctl, err = ent.Ctl(t, *a)
	} else {
		r, err = ent.Fn(t, *a)
	}
	t.hostCallSeq.Add(1)
	if ent.NewFD && err == nil {
		r, err = t.P.NewFD(int(r))
	}
	var call *interruptedCall
	if err == unix.EINTR {
		// A host call was interrupted: by a signal for the guest, which
		// decides what the guest sees, or by one xemu itself got, which the
		// guest must not see at all.
		switch {
		case !t.SignalPending():
			err = ERESTARTNOINTR
		case ent.Restart != 0:
			err = ent.Restart
		case ent.SockTimeout != 0 && socketHasTimeout(a.FD(0), ent.SockTimeout):
			err = ERESTARTNOHAND
		default:
			err = ERESTARTSYS
		}
	}
	if err != nil {
		errno, ok := err.(unix.Errno)
		if !ok {
			errno = unix.EIO
		}
		r = errnoResult(errno)
		if isRestart(errno) {
			call = &interruptedCall{err: errno, arg0: arg0, insnLen: abi.SyscallInsnLen(e)}
		}
	}
	if t.P.Strace != nil && ent.Ret != RetNone {
		t.tracef("%s = %s\n", pre, formatResult(ent, r, err))
	}
	t.syscallReturn(e, r, ctl, call)
}

// syscallReturn puts the result in place and delivers what signals are due
// on the way back to the guest: their handlers run next, as on Linux.
func (t *Task) syscallReturn(e *cpu.Engine, r uint64, ctl Control, call *interruptedCall) {
	if ctl == CtlExec {
		e.SetSyscallResult(r)
		e.RequestStop()
		return
	}
	if ctl == CtlRegsSet {
		e.KeepRegisters()
	}
	// A host signal caught meanwhile has set maybePending through the
	// reader, or stops the engine before the next guest instruction (the C
	// handler interrupts it): no need to look at the ring here.
	if call == nil && !t.maybePending.Load() {
		if ctl != CtlRegsSet {
			e.SetSyscallResult(r)
		}
		return
	}
	if ctl != CtlRegsSet {
		e.SetReg(t.P.ABI.CPU.RetReg, r)
		e.KeepRegisters()
	}
	if t.P.exited || !t.deliverSignals(call) {
		e.RequestStop()
	}
}

func (t *Task) tracef(format string, args ...any) {
	t.P.straceMu.Lock()
	fmt.Fprintf(t.P.Strace, "%d ", t.TID)
	fmt.Fprintf(t.P.Strace, format, args...)
	t.P.straceMu.Unlock()
}

// Exit ends the process with status (exit_group, or exit of the last thread).
func (t *Task) Exit(status int) {
	t.vforkWriteBack()
	t.P.DropZygote(true)
	t.P.exitStatus = status & 0xff
	// Robust futexes of every thread are released as each would at its exit.
	for _, o := range t.P.taskList() {
		o.exitRobustList()
	}
	t.P.exited = true
	t.CPU.RequestStop()
	t.P.endProcess()
	if f, ok := t.P.Strace.(*os.File); ok {
		f.Sync()
	}
}

// errnoResult is how Linux returns an error: -errno in the result register.
func errnoResult(e unix.Errno) uint64 { return uint64(-int64(e)) }

// where names the mapping holding a guest address, for error messages.
func (p *Process) where(a uint64) string {
	m, ok := p.Mem.Find(mem.GuestAddr(a))
	if !ok || m.Name == "" {
		return ""
	}
	return fmt.Sprintf(" (%s+%#x)", m.Name, a-uint64(m.Start)+m.Offset)
}

// recoverHandler turns a bug in a handler (a Go panic) into one line on
// stderr and EFAULT for the guest, instead of a crash with a stack trace.
func (t *Task) recoverHandler(ent *Entry, e *cpu.Engine) {
	if r := recover(); r != nil {
		// To xemu's own stderr, not to whatever the guest put on 2.
		fd := 2
		if t.P.stderrFD > 0 {
			fd = t.P.stderrFD
		}
		unix.Write(fd, fmt.Appendf(nil, "xemu: internal error in %s: %v (please report)\n", ent.Name, r))
		e.SetSyscallResult(errnoResult(unix.EFAULT))
	}
}

// Reserve marks a host descriptor as the emulator's own.
func (p *Process) Reserve(fd int) {
	p.forgetReservedFiles()
	p.reserved.change(fd, true)
}

// Unreserve gives fd back (the emulator closed it).
func (p *Process) Unreserve(fd int) {
	p.reserved.change(fd, false)
	p.forgetReservedFiles()
}

// ReservedFDs lists the emulator's own descriptors in increasing order. The
// slice is shared: do not change it.
func (p *Process) ReservedFDs() []int { return p.reserved.load().sorted }

// reservedSet is read on every system call that takes a descriptor, from
// every guest thread, and changes rarely (a descriptor xemu opens for
// itself): readers take the current snapshot without a lock, and a change
// replaces it.
type reservedSet struct {
	mu  sync.Mutex // serialises changes
	cur atomic.Pointer[reservedSnapshot]
}

type reservedSnapshot struct {
	set    map[int]bool
	sorted []int
	min    int
}

var emptyReserved = &reservedSnapshot{}

func (r *reservedSet) load() *reservedSnapshot {
	if s := r.cur.Load(); s != nil {
		return s
	}
	return emptyReserved
}

func (r *reservedSet) change(fd int, in bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.load()
	if old.set[fd] == in {
		return
	}
	next := &reservedSnapshot{set: make(map[int]bool, len(old.set)+1)}
	for f := range old.set {
		if f != fd {
			next.set[f] = true
		}
	}
	if in {
		next.set[fd] = true
	}
	for f := range next.set {
		next.sorted = append(next.sorted, f)
	}
	slices.Sort(next.sorted)
	if len(next.sorted) > 0 {
		next.min = next.sorted[0]
	}
	r.cur.Store(next)
}

func (p *Process) forgetReservedFiles() {
	p.reservedFilesMu.Lock()
	p.reservedFiles = nil
	p.reservedFilesMu.Unlock()
}

// reservedFD: fd is one of xemu's own (a cheap test first: they all sit high).
func (p *Process) reservedFD(fd int) bool {
	s := p.reserved.load()
	return len(s.sorted) > 0 && fd >= s.min && s.set[fd]
}

type Rlimit struct{ Cur, Max uint64 }

// Name is the thread's comm as the guest set it (prctl PR_SET_NAME, a write
// to comm), or zeros.
func (t *Task) Name() [16]byte {
	if n := t.name.Load(); n != nil {
		return *n
	}
	return [16]byte{}
}

// SetName sets the thread's comm, from any thread.
func (t *Task) SetName(n [16]byte) { t.name.Store(&n) }

// include/uapi/asm-generic/resource.h, the same on ARM and AArch64, and
// include/uapi/linux/personality.h.
const (
	RlimitData      = 2
	RlimitAS        = 9
	ReadImpliesExec = 0x0400000
)

// SyncMemoryRules hands the address space what the guest's limits and
// personality say about its memory: RLIMIT_AS and RLIMIT_DATA, checked when
// a mapping grows, and READ_IMPLIES_EXEC.
func (p *Process) SyncMemoryRules() { p.memoryRules(p.Mem) }

// MembarrierRegistrations are the guest's membarrier registrations for its
// current program, as MEMBARRIER_CMD_REGISTER_* bits.
func (p *Process) MembarrierRegistrations() uint32 { return p.membarrier.Load() }

// RegisterMembarrier records a registration (a MEMBARRIER_CMD_REGISTER_*
// command) the host accepted.
func (p *Process) RegisterMembarrier(cmd uint32) { p.membarrier.Or(cmd) }

// memoryRules applies the process's limits and personality to space.
func (p *Process) memoryRules(space *mem.AddressSpace) {
	l := mem.Limits{AS: mem.Unlimited, Data: mem.Unlimited}
	if r := p.Limits[RlimitAS]; r != nil {
		l.AS = r.Cur
	}
	if r := p.Limits[RlimitData]; r != nil {
		l.Data = r.Cur
	}
	space.SetLimits(l)
	space.SetReadImpliesExec(p.Personality&ReadImpliesExec != 0)
}

// CheckFD refuses the emulator's own descriptors.
func (t *Task) CheckFD(fd int) error {
	if t.P.reservedFD(fd) {
		return unix.EBADF
	}
	return nil
}

// socketHasTimeout: fd is a socket with the timeout opt set.
func socketHasTimeout(fd, opt int) bool {
	tv, err := unix.GetsockoptTimeval(fd, unix.SOL_SOCKET, opt)
	return err == nil && (tv.Sec != 0 || tv.Usec != 0)
}
