package kernel

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
	"xemu/guestfs"
)

// fork: the Go runtime cannot go on in a forked child (only the forking
// thread survives), so a child is a new xemu. The parent clones the host
// process from C (cpu.Fork); the child, running no Go code, writes the guest
// memory that exists only in its copy-on-write image (pages the guest wrote)
// into a memfd, keeps the guest's descriptors open across exec, and executes
// xemu (/proc/self/exe) with --fork-state naming the memfd. The new xemu
// (Resume) maps the same mappings at the same guest addresses, reading the
// saved pages back, and goes on from the registers the parent saw, with 0
// in the result register. Pages of files the guest never wrote are mapped
// from their files again, not copied; shared memory is mapped again from its
// object, so both processes keep seeing each other's writes.
//
// The memfd: a header (length, then the JSON forkState), the guest
// descriptors the child kept open (forkFDListSize bytes), then the saved
// pages at DataBase + arena offset, sparse.

const forkFDListSize = 2 * mem.PageSize

// Clone flags (include/uapi/linux/sched.h).
const (
	CLONE_VM             = 0x00000100
	CLONE_FS             = 0x00000200
	CLONE_FILES          = 0x00000400
	CLONE_SIGHAND        = 0x00000800
	CLONE_PIDFD          = 0x00001000
	CLONE_PTRACE         = 0x00002000
	CLONE_VFORK          = 0x00004000
	CLONE_PARENT         = 0x00008000
	CLONE_THREAD         = 0x00010000
	CLONE_NEWNS          = 0x00020000
	CLONE_SYSVSEM        = 0x00040000
	CLONE_SETTLS         = 0x00080000
	CLONE_PARENT_SETTID  = 0x00100000
	CLONE_CHILD_CLEARTID = 0x00200000
	CLONE_DETACHED       = 0x00400000
	CLONE_UNTRACED       = 0x00800000
	CLONE_CHILD_SETTID   = 0x01000000
	CLONE_NEWCGROUP      = 0x02000000
	CLONE_NEWUTS         = 0x04000000
	CLONE_NEWIPC         = 0x08000000
	CLONE_NEWUSER        = 0x10000000
	CLONE_NEWPID         = 0x20000000
	CLONE_NEWNET         = 0x40000000
	CLONE_IO             = 0x80000000
	CLONE_CLEAR_SIGHAND  = 0x100000000
	CLONE_INTO_CGROUP    = 0x200000000
	CLONE_NEWTIME        = 0x00000080

	// cloneHostFlags are passed on to the host's clone as they are.
	cloneHostFlags = CLONE_PARENT | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
		CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME
	// cloneIgnored change nothing a user-mode process can see here.
	cloneIgnored = CLONE_PTRACE | CLONE_UNTRACED | CLONE_DETACHED | CLONE_IO | CLONE_SYSVSEM
)

// CloneArgs are clone's arguments, decoded (clone, clone3, fork, vfork).
type CloneArgs struct {
	Flags      uint64 // without the exit signal
	ExitSignal int
	Stack      uint64 // the child's stack pointer, 0 to keep the parent's
	TLS        uint64
	ParentTID  mem.GuestAddr // CLONE_PARENT_SETTID (clone3: also where CLONE_PIDFD goes is PidFD)
	ChildTID   mem.GuestAddr
	PidFD      mem.GuestAddr
}

// forkState is everything the child xemu needs besides the saved pages.
type forkState struct {
	Machine     int
	Sysroot     string
	Exe         string
	ExePath     string
	Argv        []string
	Auxv        [][2]uint64
	EnvStart    uint64
	EnvEnd      uint64
	HWCap       uint64
	HWCap2      uint64
	CPUID       uint64
	Personality uint32
	Limits      map[int]*Rlimit
	ExecArgs    []string
	StraceFD    int
	Strace      bool // to xemu's stderr
	StderrFD    int
	Trampoline  mem.GuestAddr
	Self        HostSelf

	Regs          cpu.Regs
	Mask          SigSet
	Actions       []SigAction
	AltStack      AltStack
	Name          [16]byte
	ClearChildTID mem.GuestAddr
	SetChildTID   mem.GuestAddr
	VforkFD       int
	// VforkMem: a vfork child hands the pages it writes back through this
	// memfd (cpu/mem/vfork.go).
	VforkMem int
	// ParentMem: the vfork parent's /proc/PID/mem, for the memory it did
	// not save (Mem.Lazy), with its arena at ParentArena.
	ParentMem   int
	ParentArena uint64

	Mem      mem.ForkState
	DataBase uint64
	// SelfTested: the CPU self-tests that passed in the parent (the same
	// binary on the same host) and need not run again.
	SelfTested []string
}

// Fork creates a child process as clone without CLONE_VM does, and returns
// its pid. vfork and clone(CLONE_VM|CLONE_VFORK) (posix_spawn's) make the
// same kind of child, but the parent waits until the child executes or
// exits, and what the child wrote to private memory meanwhile is then
// copied into the parent (vforkWriteBack): for what programs observe, the
// memory was shared. An exec that follows copies no memory beyond the pages
// the child wrote: the child maps its snapshot, it does not read it in.
//
// A vfork child of a single-threaded guest need not have its private
// memory saved at all: the parent waits, stopped, so the child reads each
// page from the parent's memory the first time it touches it (cpu/lazy.go,
// mem/lazy.go), and a child that executes at once costs the pages it
// touched, not the parent's size.
func (t *Task) Fork(c CloneArgs) (int, error) {
	if err := checkForkFlags(c.Flags); err != nil {
		return 0, err
	}
	p := t.P
	// A lazy vfork child's memory must be whole before it is copied on.
	if err := p.Mem.Materialize(); err != nil {
		return 0, unix.EAGAIN
	}
	var regs cpu.Regs
	if err := t.CPU.SaveRegs(&regs); err != nil {
		return 0, unix.EAGAIN
	}
	regs.X[0] = 0 // the child's fork returns 0
	if c.Stack != 0 {
		regs.SP = c.Stack
	}
	if c.Flags&CLONE_SETTLS != 0 {
		regs.TLS = c.TLS
	}
	st := forkState{
		Machine: p.ABI.Machine, Sysroot: p.FS.Sysroot, Exe: p.FS.Exe, ExePath: p.ExePath,
		Argv: p.Argv, Auxv: p.Auxv, EnvStart: uint64(p.EnvStart), EnvEnd: uint64(p.EnvEnd), HWCap: p.HWCap, HWCap2: p.HWCap2, CPUID: p.CPUID,
		Personality: p.Personality, Limits: p.Limits, ExecArgs: p.execOptions.Args,
		StraceFD: p.straceFD, Strace: p.Strace != nil && p.straceFD <= 0, StderrFD: p.stderrFD,
		Trampoline: p.sigTrampoline, Regs: regs, Name: t.Name(), Self: hostSelf,
	}
	p.sigMu.Lock()
	st.Mask = t.mask
	if t.restoreMask {
		st.Mask = t.savedMask
	}
	st.Actions = append([]SigAction(nil), p.actions[:]...)
	st.AltStack = t.altStack
	p.sigMu.Unlock()
	if c.Flags&CLONE_CHILD_CLEARTID != 0 {
		st.ClearChildTID = c.ChildTID
	}
	if c.Flags&CLONE_CHILD_SETTID != 0 {
		st.SetChildTID = c.ChildTID
	}
	for _, a := range cpu.Arches {
		if a.SelfTestPassed() {
			st.SelfTested = append(st.SelfTested, a.Name)
		}
	}
	parentMem := -1
	if c.Flags&CLONE_VFORK != 0 && !p.multi.Load() && hostSelf.Proc >= 0 && cpu.UserfaultfdUsable() {
		// Opened by this process on itself, the descriptor reads this
		// memory from any process it is given to (the access check is
		// the open's).
		if fd, err := unix.Openat(hostSelf.Proc, "self/mem", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			parentMem = highFD(fd)
			defer unix.Close(parentMem)
			arena, _ := p.Mem.Arena()
			st.ParentMem, st.ParentArena = parentMem, uint64(arena)
		}
	}
	memState, saves := p.Mem.Snapshot(parentMem >= 0)
	st.Mem = memState
	// The pages the child is given of private file mappings (their data
	// and bss, relocations) are mapped from the data file, not read in:
	// a child that executes soon, as most do, touches few of them, and a
	// copy of each cost it a page fault and a copy before its first
	// instruction.
	st.Mem.MapSaved = true

	memfd, err := unix.MemfdCreate("xemu-fork", unix.MFD_CLOEXEC)
	if err != nil {
		return 0, unix.EAGAIN
	}
	memfd = highFD(memfd)
	defer unix.Close(memfd)
	keep := []int{memfd}
	if parentMem >= 0 {
		keep = append(keep, parentMem)
	}
	vforkRead, vforkWrite := -1, -1
	if c.Flags&CLONE_VFORK != 0 {
		// The parent waits until the child executes or exits: both close
		// the write end, which the child holds close-on-exec.
		var fds [2]int
		if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
			return 0, unix.EAGAIN
		}
		vforkRead, vforkWrite = highFD(fds[0]), highFD(fds[1])
		st.VforkFD = vforkWrite
		keep = append(keep, vforkWrite)
		defer func() {
			unix.Close(vforkRead)
			if vforkWrite >= 0 {
				unix.Close(vforkWrite)
			}
		}()
	}
	vforkMem := -1
	if c.Flags&(CLONE_VFORK|CLONE_VM) == CLONE_VFORK|CLONE_VM {
		// Memory shared until the child executes or exits: what the child
		// writes meanwhile comes back (vforkWriteBack).
		fd, err := unix.MemfdCreate("xemu-vfork", unix.MFD_CLOEXEC)
		if err != nil {
			return 0, unix.EAGAIN
		}
		vforkMem = highFD(fd)
		defer unix.Close(vforkMem)
		st.VforkMem = vforkMem
		keep = append(keep, vforkMem)
	}
	header, err := json.Marshal(&st)
	if err != nil {
		return 0, unix.EAGAIN
	}
	fdListOff := pageUp(uint64(8 + len(header)))
	st.DataBase = fdListOff + forkFDListSize
	// DataBase is part of the header: encode again now that it is known.
	header, _ = json.Marshal(&st)
	for pageUp(uint64(8+len(header))) != fdListOff {
		fdListOff = pageUp(uint64(8 + len(header)))
		st.DataBase = fdListOff + forkFDListSize
		header, _ = json.Marshal(&st)
	}
	buf := make([]byte, 8+len(header))
	binary.LittleEndian.PutUint64(buf, uint64(len(header)))
	copy(buf[8:], header)
	if _, err := unix.Pwrite(memfd, buf, 0); err != nil {
		return 0, unix.ENOMEM
	}
	// The child maps its anonymous memory from here, holes included.
	if err := unix.Ftruncate(memfd, int64(st.DataBase+memState.DataEnd)); err != nil {
		return 0, unix.ENOMEM
	}
	req := cpu.ForkRequest{
		MemFD: memfd, FDListOff: fdListOff,
		ExeFD: hostSelf.Exe, Argv: []string{"xemu", "--fork-state", strconv.Itoa(memfd)},
		Env: os.Environ(), ErrFD: p.stderrFD,
		CloneFlags: uint64(c.ExitSignal) | c.Flags&cloneHostFlags,
		ProcFD:     hostSelf.Proc, MaxFD: maxFDScan(),
	}
	if req.ExeFD < 0 {
		// binfmt_misc runs xemu for the guest's program (selfexe.go).
		req.ExeFD = hostSelf.Prog
	}
	if req.ExeFD < 0 {
		return 0, unix.ENOEXEC
	}
	if req.ErrFD <= 0 {
		req.ErrFD = 2
	}
	for _, s := range saves {
		req.Ranges = append(req.Ranges, cpu.SnapRange{Host: s.Host, Len: s.Len, Off: st.DataBase + s.Phys, Mode: cpu.SnapMode(s.Mode)})
	}
	req.Skip = append(req.Skip, p.ReservedFDs()...)
	keep = append(keep, p.Mem.BackingFDs()...)
	keep = append(keep, hostSelf.fds()...)
	if p.straceFD > 0 {
		keep = append(keep, p.straceFD)
	}
	if p.stderrFD > 0 {
		keep = append(keep, p.stderrFD)
	}
	req.Keep = keep
	req.Skip = append(req.Skip, keep...)
	if vforkRead >= 0 {
		req.Skip = append(req.Skip, vforkRead)
	}
	if f, ok := p.Strace.(*os.File); ok {
		f.Sync()
	}
	if c.Flags&CLONE_PARENT == 0 {
		p.zygoteBeforeFork()
	}
	pid := 0
	if z := p.takeZygote(c); z != nil {
		// The memory is saved here, with the guest stopped in its call, and
		// the zygote becomes the child.
		err := cpu.SaveRanges(req.Ranges, memfd, hostSelf.Proc)
		if err == nil {
			pid, err = p.handOff(z, memfd, req.Keep, req.Skip)
		}
		if err != nil {
			if p.Strace != nil {
				t.tracef("--- fork: the zygote failed (%v) ---\n", err)
			}
			p.putBack(z)
			z.kill()
			pid = 0
		} else {
			z.close()
			if p.Strace != nil {
				t.tracef("--- fork: child %d is a zygote ---\n", pid)
			}
		}
	}
	if pid == 0 {
		if pid, err = cpu.Fork(&req); err != nil {
			return 0, err
		}
	}
	if c.Flags&CLONE_PARENT == 0 {
		p.forkedChild(pid)
		p.startZygoteAfterFork()
	}
	if c.Flags&CLONE_PARENT_SETTID != 0 {
		t.writeU32(c.ParentTID, uint32(pid))
	}
	if c.Flags&CLONE_PIDFD != 0 {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			unix.CloseOnExec(fd)
			t.writeU32(c.PidFD, uint32(fd))
		}
	}
	if vforkRead >= 0 {
		unix.Close(vforkWrite)
		vforkWrite = -1
		var b [1]byte
		for {
			if _, err := unix.Read(vforkRead, b[:]); err != unix.EINTR {
				break
			}
		}
		if vforkMem >= 0 {
			p.Mem.TakeWritten(vforkMem)
		}
	}
	return pid, nil
}

// savedPages counts the pages saved in a fork's memfd from dataBase on
// (before the child runs: a private mapping's write to a hole of the memfd
// puts a page there).
func savedPages(memfd int, dataBase uint64) int64 {
	var n int64
	off := int64(dataBase)
	for {
		start, err := unix.Seek(memfd, off, unix.SEEK_DATA)
		if err != nil {
			return n
		}
		stop, err := unix.Seek(memfd, start, unix.SEEK_HOLE)
		if err != nil {
			return n
		}
		n += (stop - start) / mem.PageSize
		off = stop
	}
}

// vforkWriteBack gives a vfork child's parent the pages the child wrote,
// before it executes or exits (and so lets the parent go on): Linux's
// vfork child writes the parent's own memory. Only whole pages go back, so
// a write another thread of the parent made meanwhile to such a page is
// lost; a child killed by a signal gives nothing back, nor does one that
// cannot read its pagemap (no /proc).
func (t *Task) vforkWriteBack() {
	p := t.P
	if p.vforkMem <= 0 {
		return
	}
	var pm int
	var err error
	if hostSelf.Proc >= 0 {
		pm, err = unix.Openat(hostSelf.Proc, "self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	} else {
		pm, err = unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return
	}
	defer unix.Close(pm)
	n, _ := p.Mem.WrittenPrivate(pm, p.vforkMem)
	if p.Strace != nil {
		read, _ := p.Mem.LazyPages()
		t.tracef("--- vfork: %d pages saved, %d read from the parent, %d written back ---\n", p.vforkSaved, read, n)
	}
}

// lazySource is a vfork child's cpu.Lazy, its descriptors kept from the
// guest.
type lazySource struct {
	*cpu.Lazy
	p   *Process
	fds []int
}

func (l *lazySource) Stop() {
	l.Lazy.Stop()
	for _, fd := range l.fds {
		l.p.Unreserve(fd)
	}
}

// lazyFromParent gives a vfork child the memory its parent did not save
// (ForkState.Lazy): read from the parent as the child touches it, or where
// the child cannot have a userfaultfd after all, copied now.
func (p *Process) lazyFromParent(st *forkState) error {
	defer unix.Close(st.ParentMem)
	arena, _ := p.Mem.Arena()
	if dup, err := unix.FcntlInt(uintptr(st.ParentMem), unix.F_DUPFD_CLOEXEC, hostFDBase); err == nil {
		l, err := cpu.StartLazy(dup, uintptr(st.ParentArena)-arena, hostFDBase)
		if err != nil {
			unix.Close(dup)
		} else {
			src := &lazySource{Lazy: l, p: p, fds: l.FDs()}
			for _, fd := range src.fds {
				p.Reserve(fd)
			}
			if err := p.Mem.SetLazy(st.Mem, src); err == nil {
				return nil
			}
			src.Stop()
		}
	}
	return p.Mem.FillLazy(st.Mem, st.ParentMem, st.ParentArena)
}

func (t *Task) writeU32(a mem.GuestAddr, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	t.P.Mem.Write(a, b[:])
}

// checkForkFlags refuses what a new process cannot honour: sharing memory,
// descriptors or the file-system context with its parent (a child here is
// another xemu, and exec unshares them anyway). Threads are another matter
// (CLONE_THREAD), not handled here.
func checkForkFlags(flags uint64) error {
	rest := flags &^ (cloneHostFlags | cloneIgnored | CLONE_SETTLS | CLONE_PARENT_SETTID |
		CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PIDFD)
	// CLONE_VM|CLONE_VFORK is posix_spawn's: the child only sets up and
	// executes, with its writes handed back to the parent (as vfork).
	if rest&CLONE_VFORK != 0 {
		rest &^= CLONE_VFORK | CLONE_VM
	}
	if rest&(CLONE_SIGHAND|CLONE_THREAD) != 0 && rest&CLONE_VM == 0 {
		return unix.EINVAL // Linux: CLONE_SIGHAND needs CLONE_VM, CLONE_THREAD needs CLONE_SIGHAND
	}
	if rest != 0 {
		return unix.ENOSYS
	}
	return nil
}

// maxFDScan bounds the fork child's search for the guest's descriptors
// where it cannot list them (no /proc): the descriptor limit, within reason.
func maxFDScan() int {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil || lim.Cur > 1<<16 {
		return 1 << 16
	}
	return int(lim.Cur)
}

func pageUp(a uint64) uint64 { return (a + mem.PageSize - 1) &^ (mem.PageSize - 1) }

// Resumed says how a fork child's xemu was started, for its own messages.
type Resumed struct {
	Program string
	Stderr  *os.File
}

// Resume runs a fork child: the state the parent's Fork wrote to fd.
func Resume(fd int) (Resumed, int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var info Resumed
	st, err := readForkState(fd)
	if err != nil {
		return info, 0, fmt.Errorf("fork: reading the parent's state: %w", err)
	}
	info.Program = st.ExePath
	if st.StderrFD > 0 {
		info.Stderr = os.NewFile(uintptr(st.StderrFD), "stderr")
	}
	abi, err := ForMachine(st.Machine)
	if err != nil {
		return info, 0, err
	}
	for _, a := range cpu.Arches {
		if slices.Contains(st.SelfTested, a.Name) {
			a.AdoptSelfTest()
		}
	}
	abi.CPU.StartSelfTest()
	space, warmEngine := takeWarmSpace(st.Machine)
	if space == nil {
		space, err = mem.New(mem.Layout{Limit: mem.GuestAddr(abi.Limit), MinAddr: 0x10000, ArenaSize: abi.CPU.ArenaSize})
		if err != nil {
			return info, 0, fmt.Errorf("reserving guest memory: %w", err)
		}
	}
	// No teardown: xemu exits as Resume returns.
	var p *Process
	if abi.KernelPages != nil {
		if err := abi.KernelPages(space); err != nil {
			return info, 0, fmt.Errorf("mapping the kernel's pages: %w", err)
		}
	}
	p = &Process{ABI: abi, Mem: space, FS: &guestfs.FS{Sysroot: st.Sysroot, Exe: st.Exe},
		ExePath: st.ExePath, Argv: st.Argv, Auxv: st.Auxv, EnvStart: mem.GuestAddr(st.EnvStart), EnvEnd: mem.GuestAddr(st.EnvEnd),
		HWCap: st.HWCap, HWCap2: st.HWCap2, CPUID: st.CPUID, Personality: st.Personality,
		Limits: st.Limits, sigTrampoline: st.Trampoline}
	p.initThreads()
	p.spareEngine = warmEngine
	p.initFileLimit()
	p.execOptions.Args = st.ExecArgs
	p.stderrFD = st.StderrFD
	p.setupMemFDs(space)
	// The guest's descriptors the fork child kept open across its exec are
	// close-on-exec again, as the guest had them.
	if err := restoreCloseOnExec(fd, st.DataBase-forkFDListSize); err != nil {
		return info, 0, err
	}
	// The space keeps fd (the snapshot behind its anonymous memory) while
	// a mapping uses it.
	if err := space.Restore(st.Mem, fd, st.DataBase); err != nil {
		return info, 0, err
	}
	if st.VforkMem > 0 && (st.Strace || st.StraceFD > 0) {
		p.vforkSaved = savedPages(fd, st.DataBase)
	}
	if st.Mem.Lazy {
		// Before anything touches the memory the parent did not save.
		if err := p.lazyFromParent(st); err != nil {
			return info, 0, fmt.Errorf("vfork: reading the parent's memory: %w", err)
		}
	}
	p.SyncMemoryRules()
	if st.StraceFD > 0 {
		unix.CloseOnExec(st.StraceFD)
		p.Reserve(st.StraceFD)
		p.straceFD = st.StraceFD
		p.Strace = os.NewFile(uintptr(st.StraceFD), "strace")
	} else if st.Strace && info.Stderr != nil {
		p.Strace = info.Stderr
	}
	if st.StderrFD > 0 {
		unix.CloseOnExec(st.StderrFD)
		p.Reserve(st.StderrFD)
	}
	OpenHostSelf(st.Self)
	p.reserveHostSelf()
	if st.VforkFD > 0 {
		unix.CloseOnExec(st.VforkFD)
		p.Reserve(st.VforkFD)
		p.vforkFD = st.VforkFD
	}
	if st.VforkMem > 0 {
		unix.CloseOnExec(st.VforkMem)
		p.Reserve(st.VforkMem)
		p.vforkMem = st.VforkMem
	}
	for _, fd := range runtimeFDs {
		p.Reserve(fd)
	}
	t := newTask(p)
	t.mainThread = true
	copy(p.actions[:], st.Actions)
	t.mask = st.Mask
	t.altStack = st.AltStack
	t.SetName(st.Name)
	t.ClearChildTID = st.ClearChildTID
	e, err := t.startEngine()
	if err != nil {
		return info, 0, err
	}
	defer cpu.SetSignalTarget(nil)
	if err := e.RestoreRegs(&st.Regs); err != nil {
		return info, 0, err
	}
	if st.SetChildTID != 0 {
		t.writeU32(st.SetChildTID, uint32(t.TID))
	}
	if err := catchHostSignals(p); err != nil {
		return info, 0, fmt.Errorf("catching signals: %w", err)
	}
	p.serveGuestView()
	p.sigMu.Lock()
	p.syncChildReapingLocked()
	p.sigMu.Unlock()
	// Signals sent while the child was on its way here were held, blocked.
	cpu.UnblockSignals()
	if p.Strace != nil {
		t.tracef("--- forked from %d ---\n", unix.Getppid())
	}
	status, err := t.runPrograms(abi.CPU.ResumePC(e, e.PC()))
	info.Program = p.ExePath // the last program's, after an execve
	return info, status, err
}

// setupMemFDs keeps the descriptors behind shared memory out of the
// guest's reach and its low numbers.
func (p *Process) setupMemFDs(space *mem.AddressSpace) {
	space.FDBase = hostFDBase
	space.FDHook = func(fd int, open bool) {
		if open {
			p.Reserve(fd)
		} else {
			p.Unreserve(fd)
		}
	}
}

func readForkState(fd int) (*forkState, error) {
	var n [8]byte
	if _, err := unix.Pread(fd, n[:], 0); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint64(n[:])
	if size > 64<<20 {
		return nil, fmt.Errorf("state of %d bytes", size)
	}
	buf := make([]byte, size)
	if err := mem.PreadFull(fd, buf, 8); err != nil {
		return nil, err
	}
	var st forkState
	if err := json.Unmarshal(buf, &st); err != nil {
		return nil, err
	}
	for _, m := range st.Mem.Mappings {
		if m.BackingFD > 0 {
			unix.CloseOnExec(m.BackingFD)
		}
		if m.SnapFD > 0 {
			unix.CloseOnExec(m.SnapFD)
		}
	}
	return &st, nil
}

func restoreCloseOnExec(fd int, off uint64) error {
	buf := make([]byte, forkFDListSize)
	if err := mem.PreadFull(fd, buf, int64(off)); err != nil {
		return err
	}
	n := binary.LittleEndian.Uint32(buf)
	if n > (forkFDListSize-4)/4 {
		return fmt.Errorf("fork: %d descriptors listed", n)
	}
	for i := uint32(0); i < n; i++ {
		unix.CloseOnExec(int(int32(binary.LittleEndian.Uint32(buf[4+4*i:]))))
	}
	return nil
}
