package kernel

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
	"xemu/guestfs"
	"xemu/loader"
)

// Process is the state a guest process's threads share: memory, descriptors'
// guest-only flags, paths, identity of the program.
type Process struct {
	ABI *ABI
	Mem *mem.AddressSpace
	FS  *guestfs.FS

	ExePath  string   // the program as the guest named it
	Argv     []string // for /proc/self/cmdline
	Auxv     [][2]uint64
	Strace   io.Writer
	straceMu sync.Mutex

	// Reserved are the emulator's own descriptors, which the guest may not
	// close or replace.
	Reserved map[int]bool
	// Dirs are the directory streams whose offsets the guest sees
	// renumbered (ABI.SmallDirCookies).
	Dirs dirStreams

	// HWCap and HWCap2 are what the CPU implements (AT_HWCAP, /proc/cpuinfo).
	HWCap, HWCap2 uint64
	// CPUID is the emulated CPU's identification register (MIDR).
	CPUID uint64

	Personality uint32
	Limits      map[int]*Rlimit
	sigactions  []SigDisposition
	killedBy    unix.Signal
	exitStatus  int
	exited      bool
}

// Task is one guest thread: its CPU and per-thread kernel state.
type Task struct {
	P   *Process
	CPU *cpu.Engine
	TID int

	ClearChildTID mem.GuestAddr
	RobustList    mem.GuestAddr
	RobustLen     uint64
	SigMask       uint64
	Name          [16]byte
	AltStack      AltStack
	args          Args // the arguments of the call being handled
	Time64        bool // the call being handled takes 64-bit timespecs
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
	// NoRandomize disables address-space randomization (setarch -R).
	NoRandomize bool
}

// ExitError: the guest ended; Status is the exit status to report, Signal
// the signal that killed it (0 if it exited).
type ExitError struct {
	Status int
	Signal unix.Signal
	Why    string
}

func (e *ExitError) Error() string { return e.Why }

// Run loads and runs a guest program and returns its exit status.
func Run(cfg Config, f *loader.File, interp *loader.File, abi *ABI) (int, error) {
	// Unicorn's engine must stay on one OS thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	space, err := mem.New(mem.Layout{Limit: mem.GuestAddr(abi.Limit), MinAddr: 0x10000, ArenaSize: abi.CPU.ArenaSize})
	if err != nil {
		return 0, fmt.Errorf("reserving guest memory: %w", err)
	}
	defer space.Close()
	if abi.KernelPages != nil {
		if err := abi.KernelPages(space); err != nil {
			return 0, fmt.Errorf("mapping the kernel's pages: %w", err)
		}
	}
	p := &Process{ABI: abi, Mem: space, FS: &guestfs.FS{Sysroot: cfg.Sysroot, Exe: cfg.Exe},
		ExePath: f.Path, Argv: cfg.Argv, Strace: cfg.Strace, Reserved: map[int]bool{}}
	if cfg.StraceFD > 0 {
		p.Reserve(cfg.StraceFD)
	}
	for _, fd := range runtimeFDs {
		p.Reserve(fd)
	}
	t := &Task{P: p, TID: unix.Gettid()}
	e, err := cpu.Open(cpu.Config{Arch: abi.CPU, Space: space, Handler: t})
	if err != nil {
		return 0, fmt.Errorf("starting the CPU: %w", err)
	}
	defer e.Close()
	t.CPU = e
	// Each call reads only the registers its arguments occupy; calls the
	// table does not implement read them all, for --strace.
	for _, nr := range abi.Numbers {
		if ent := abi.Lookup(nr); ent != nil && ent.Fn != nil {
			e.SetSyscallArgCount(nr, abi.argRegisters(ent.Args))
		}
	}

	target := abi.Target(e)
	target.Randomize = !cfg.NoRandomize
	p.HWCap, p.HWCap2 = target.HWCap, target.HWCap2
	p.CPUID = target.CPUID
	stack, err := loader.MapStack(space, target, false)
	if err != nil {
		return 0, fmt.Errorf("mapping the stack: %w", err)
	}
	img, err := loader.Load(space, target, f, interp)
	if err != nil {
		return 0, err
	}
	// The image is mapped: the files' descriptors are not the guest's.
	f.Close()
	if interp != nil {
		interp.Close()
	}
	if err := loader.BuildStack(space, target, stack, img, cfg.Argv, cfg.Env, cfg.Program); err != nil {
		return 0, fmt.Errorf("building the initial stack: %w", err)
	}
	space.SetBrk(mem.GuestAddr(img.BrkStart))
	p.Auxv = stack.Auxv
	if err := abi.StartThread(e, img.Entry, stack.SP); err != nil {
		return 0, err
	}
	return t.run(img.Entry)
}

// run executes the task until the process exits.
func (t *Task) run(pc uint64) (int, error) {
	for {
		stop := t.CPU.Run(pc)
		if t.P.killedBy != 0 {
			return 0, &ExitError{Signal: t.P.killedBy, Why: "guest killed by " + signalName(int(t.P.killedBy))}
		}
		if t.P.exited {
			return t.P.exitStatus, nil
		}
		switch stop.Kind {
		case cpu.StopFault:
			sig, why := unix.SIGSEGV, "guest "+stop.Fault.String()
			if m, ok := t.P.Mem.Find(mem.GuestAddr(stop.Fault.Addr)); ok && stop.Fault.Mapped && mem.GuestAddr(stop.Fault.Addr) >= m.EOF() {
				sig, why = unix.SIGBUS, fmt.Sprintf("guest bus error: access at %#x past the end of %s", stop.Fault.Addr, m.Name)
			}
			return 0, &ExitError{Signal: sig, Why: why + t.P.where(stop.PC)}
		case cpu.StopException:
			sig, why := t.P.ABI.ExceptionSignal(stop.Intno)
			return 0, &ExitError{Signal: sig, Why: fmt.Sprintf("guest %s at pc %#x%s", why, stop.PC, t.P.where(stop.PC))}
		case cpu.StopInvalid:
			return 0, &ExitError{Signal: unix.SIGILL, Why: fmt.Sprintf("guest illegal instruction at pc %#x (%v)", stop.PC, stop.Err)}
		default:
			pc = t.P.ABI.CPU.ResumePC(t.CPU, stop.PC)
		}
	}
}

// Exception implements cpu.Handler: every exception other than a system call
// stops emulation so run can turn it into a signal.
func (t *Task) Exception(e *cpu.Engine, intno uint32) bool { return true }

// Syscall implements cpu.Handler: decode, dispatch, encode the result.
func (t *Task) Syscall(e *cpu.Engine) {
	nr, raw := e.SyscallNr(), e.SyscallArgs()
	abi := t.P.ABI
	ent := abi.Lookup(nr)
	if ent == nil || ent.Fn == nil {
		if t.P.Strace != nil {
			name := fmt.Sprintf("syscall_%d", nr)
			if ent != nil {
				name = ent.Name
			}
			t.tracef("%s(%#x, %#x, %#x, ...) = -1 ENOSYS (not implemented)\n", name, raw[0], raw[1], raw[2])
		}
		e.SetSyscallResult(errnoResult(unix.ENOSYS))
		return
	}
	defer t.recoverHandler(ent, e)
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
	r, err := ent.Fn(t, *a)
	if err != nil {
		errno, ok := err.(unix.Errno)
		if !ok {
			errno = unix.EIO
		}
		r = errnoResult(errno)
	}
	if t.P.Strace != nil && ent.Ret != RetNone {
		t.tracef("%s = %s\n", pre, formatResult(ent, r, err))
	}
	e.SetSyscallResult(r)
}

func (t *Task) tracef(format string, args ...any) {
	t.P.straceMu.Lock()
	fmt.Fprintf(t.P.Strace, "%d ", t.TID)
	fmt.Fprintf(t.P.Strace, format, args...)
	t.P.straceMu.Unlock()
}

// Exit ends the process with status (exit_group, or exit of the last thread).
func (t *Task) Exit(status int) {
	t.P.exitStatus = status & 0xff
	t.P.exited = true
	t.CPU.RequestStop()
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
		fmt.Fprintf(os.Stderr, "xemu: internal error in %s: %v (please report)\n", ent.Name, r)
		e.SetSyscallResult(errnoResult(unix.EFAULT))
	}
}

// Reserve marks a host descriptor as the emulator's own.
func (p *Process) Reserve(fd int) { p.Reserved[fd] = true }

type Rlimit struct{ Cur, Max uint64 }

// CheckFD refuses the emulator's own descriptors.
func (t *Task) CheckFD(fd int) error {
	if t.P.Reserved[fd] {
		return unix.EBADF
	}
	return nil
}
