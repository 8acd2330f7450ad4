package kernel

import (
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/loader"
	"xemu/syscall/abi"
)

// execve inside the process, as fs/exec.c does it: the execve call opens and
// checks everything (program, interpreter, architecture) and returns its
// error if one fails; otherwise it returns CtlExec, its engine stops, and Run
// loads the new program into a new address space and engine
// (loadProgram) while the old ones still stand, so a failure there (no
// memory, a segment the loader refuses) also returns to the caller. Then
// comes the point of no return (execPrepared): the old engine and memory
// go, and what Linux resets at exec is reset; the process, its thread, its
// descriptors, its pending signals, its host-side signal plumbing and the
// goroutines that serve it (the guest view, the parent-death watch) stay.

// execPending is an execve prepared by the call, which Run carries out.
type execPending struct {
	prog *program
	path string // as the guest named it (the new comm)
}

// personality(2) flags (include/uapi/linux/personality.h).
const (
	addrNoRandomize  = 0x0040000
	addrCompatLayout = 0x0200000
	mmapPageZero     = 0x0100000
	// perClearOnSetID are the flags an execve that changes credentials
	// clears.
	perClearOnSetID = ReadImpliesExec | addrNoRandomize | addrCompatLayout | mmapPageZero
)

// execPersonality is the personality a program of abi starts with, the
// caller's being per: SET_PERSONALITY, where arm64 clears READ_IMPLIES_EXEC
// for a 64-bit program and the other flags stay.
func execPersonality(per uint32, abi *ABI) uint32 {
	if abi.Class == 64 {
		per &^= ReadImpliesExec
	}
	return per
}

// canExecInProcess: the execve of target can be done in this process
// exactly. Not for a process that has had other threads (their engines and
// goroutines would have to end first, de_thread), a setuid or setgid
// program (the host kernel gives it its credentials, through binfmt_misc),
// a host program, or an xemu that has no descriptor of its own binary
// (started by binfmt_misc without /proc: its fork children re-enter xemu
// through the program it holds, KeepProgram).
func (t *Task) canExecInProcess(target execTarget) bool {
	return !target.native && !target.setID && hostSelf.Exe >= 0 && t.mainThread && !t.P.multi.Load() &&
		t.P.exitSignalIsSIGCHLD()
}

// exitSignalIsSIGCHLD: the host process's exit signal (what its parent
// gets when it ends: a guest's clone chose it for a fork child) is SIGCHLD.
// Linux's de_thread resets it to SIGCHLD at execve, which only the host's
// execve can do for xemu's process.
func (p *Process) exitSignalIsSIGCHLD() bool {
	p.exitSignalOnce.Do(func() {
		// Field 38, exit_signal.
		f := hostStatFields("self")
		p.exitSignalSIGCHLD = len(f) > 35 && f[35] == strconv.Itoa(int(unix.SIGCHLD))
	})
	return p.exitSignalSIGCHLD
}

// prepareExec opens the program and its interpreter, as the checks of
// do_execveat_common and load_elf_binary before begin_new_exec.
func (t *Task) prepareExec(path string, target execTarget, envp []string) error {
	f, err := loader.Open(target.host, target.host)
	if err != nil {
		return openErrno(err)
	}
	a, err := ForMachine(f.Header.Machine)
	if err != nil {
		f.Close()
		return unix.ENOEXEC
	}
	argv := target.argv
	if len(argv) == 0 {
		// fs/exec.c: an empty argv becomes one empty string.
		argv = []string{""}
	}
	pr := &program{f: f, abi: a, argv: argv, env: envp, execfn: target.guest, exe: target.host}
	if strings.HasPrefix(target.host, "/proc/") {
		// fexecve's /proc/self/fd/N: the file itself, which the name may
		// not reach once N is closed.
		if exe, err := ReadlinkHostProc("self/fd/" + strconv.Itoa(f.FD())); err == nil {
			pr.exe = exe
		}
	} else if abs, err := filepath.Abs(target.host); err == nil {
		pr.exe = abs
	}
	ip, err := f.Interp()
	if err != nil {
		f.Close()
		return unix.ENOEXEC
	}
	if ip != "" {
		if pr.interp, err = loader.Open(ip, t.P.FS.Host(ip)); err != nil {
			f.Close()
			if errors.Is(err, loader.ErrNotFound) {
				return unix.ENOENT
			}
			return unix.ELIBBAD
		}
		// load_elf_binary: an interpreter that is not an ELF of the
		// program's kind is ELIBBAD.
		if pr.interp.Header.Machine != f.Header.Machine || pr.interp.Header.Class != f.Header.Class {
			pr.close()
			return unix.ELIBBAD
		}
	}
	t.exec = &execPending{prog: pr, path: path}
	return nil
}

// openErrno is the errno of a failed open of a program.
func openErrno(err error) error {
	var e unix.Errno
	switch {
	case errors.Is(err, loader.ErrNotFound):
		return unix.ENOENT
	case errors.As(err, &e):
		return e
	}
	return unix.ENOEXEC
}

// execPrepared carries out the execve the thread's call prepared, and
// returns where the thread goes on: the new program's entry, or, if the new
// program could not be loaded, the old program after its call, which
// returns the error. ok is false if a signal's default action ended the
// process meanwhile.
func (t *Task) execPrepared() (pc uint64, ok bool) {
	x := t.exec
	t.exec = nil
	p := t.P
	old := t.CPU
	personality := execPersonality(p.Personality, x.prog.abi)
	kept := p.Personality
	p.Personality = personality // for loadProgram's memory rules
	img, err := t.loadProgram(x.prog, !p.noRandomize && personality&addrNoRandomize == 0)
	x.prog.close()
	if err != nil {
		p.Personality = kept
		errno := unix.ENOMEM
		var e unix.Errno
		if errors.As(err, &e) {
			errno = e
		}
		if p.Strace != nil {
			t.tracef("--- execve %q failed: %v ---\n", x.prog.f.Host, err)
		}
		old.SetReg(p.ABI.CPU.RetReg, errnoResult(errno))
		if !t.deliverSignals(nil) {
			return 0, false
		}
		return p.ABI.CPU.ResumePC(old, old.PC()), true
	}

	// The point of no return. exec_mm_release: a vfork parent gets the
	// pages its child wrote and goes on, robust futexes are released as at
	// an exit, clear_child_tid is forgotten.
	t.vforkWriteBack()
	p.releaseVforkParent()
	t.exitRobustList()
	t.RobustList, t.RobustLen, t.ClearChildTID = 0, 0, 0
	if p.Strace != nil {
		t.tracef("--- execve %q: %s ---\n", x.prog.f.Host, strings.Join(x.prog.argv, " "))
	}
	p.execMu.Lock()
	cpu.SetSignalTarget(nil)
	oldSpace := p.Mem
	t.install(img, x.prog)
	old.Close()
	oldSpace.Close()
	p.Personality = personality
	p.execMu.Unlock()
	// membarrier_exec_mmap: the new memory has no registrations; the
	// host's stay, made for the process, and the guest's record says
	// which it may use.
	p.membarrier.Store(0)
	t.codeMu.Lock()
	t.staleCode = nil
	t.codeMu.Unlock()
	t.seenGen.Store(p.mmGen.Load())
	clear(t.faultDetail)
	t.lastFault.sig, t.lastFault.why = 0, ""
	// setup_new_exec: comm is the base name of the path executed.
	var comm [16]byte
	copy(comm[:15], x.path[strings.LastIndexByte(x.path, '/')+1:])
	t.SetName(comm)
	// The host's too, for ps and top, as binfmt_misc's exec would name it.
	unix.RawSyscall(unix.SYS_PRCTL, unix.PR_SET_NAME, uintptr(UnsafePointer(&comm[0])), 0)
	t.flushSignalHandlers()
	p.deleteTimers()
	p.closeOnExec()
	resetDumpable()
	// Signals pending across the exec meet the new program's default
	// dispositions now, before its first instruction.
	if !t.deliverSignals(nil) {
		return 0, false
	}
	return img.entry, true
}

// releaseVforkParent closes what a vfork child holds of its parent: the
// parent's wait ends (Fork). The old memory reads nothing from the parent
// any more: it changes from now on, and may go.
func (p *Process) releaseVforkParent() {
	p.Mem.StopLazy()
	for _, fd := range []*int{&p.vforkFD, &p.vforkMem} {
		if *fd > 0 {
			p.Unreserve(*fd)
			unix.Close(*fd)
			*fd = 0
		}
	}
}

// flushSignalHandlers is flush_signal_handlers(current, 0) and the rest of
// setup_new_exec's signal work: caught signals go back to their default,
// ignored ones stay ignored, every action loses its flags and mask, and the
// alternate stack is gone. The blocked mask and pending signals stay.
func (t *Task) flushSignalHandlers() {
	p := t.P
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	for sig := range p.actions {
		a := &p.actions[sig]
		if a.Handler != abi.SIG_IGN {
			a.Handler = abi.SIG_DFL
		}
		a.Flags, a.Restorer, a.Mask = 0, 0, 0
	}
	p.syncChildReapingLocked()
	// sas_ss_sp and sas_ss_size are cleared; sas_ss_flags stays.
	t.altStack = AltStack{Flags: t.altStack.Flags & abi.SS_AUTODISARM}
	t.restoreMask = false
}

// AddTimer records a POSIX timer the guest created (timer_create).
func (p *Process) AddTimer(id int32) {
	p.timersMu.Lock()
	if p.timers == nil {
		p.timers = map[int32]bool{}
	}
	p.timers[id] = true
	p.timersMu.Unlock()
}

// RemoveTimer forgets a deleted POSIX timer (timer_delete).
func (p *Process) RemoveTimer(id int32) {
	p.timersMu.Lock()
	delete(p.timers, id)
	p.timersMu.Unlock()
}

// deleteTimers is exit_itimers and flush_itimer_signals at execve: the
// POSIX timers go, with their signals still queued; setitimer's and
// alarm's timers stay.
func (p *Process) deleteTimers() {
	p.timersMu.Lock()
	ids := p.timers
	p.timers = nil
	p.timersMu.Unlock()
	if len(ids) == 0 {
		return
	}
	for id := range ids {
		unix.Syscall(unix.SYS_TIMER_DELETE, uintptr(id), 0, 0)
	}
	p.drainHostSignals()
	p.sigMu.Lock()
	p.shared.dropTimerSignals()
	for _, o := range p.tasks {
		o.pending.dropTimerSignals()
	}
	p.rearmSignalFDsLocked()
	p.sigMu.Unlock()
}

// dropTimerSignals removes the POSIX timers' signals (si_code SI_TIMER).
func (q *sigQueue) dropTimerSignals() {
	kept := q.infos[:0]
	q.set = 0
	for _, si := range q.infos {
		if si.Code != abi.SI_TIMER {
			kept = append(kept, si)
			q.set |= sigBit(int(si.Signo))
		}
	}
	q.infos = kept
}

// closeOnExec is do_close_on_exec: the guest's close-on-exec descriptors
// are closed (never xemu's own), with what xemu kept for each of them.
func (p *Process) closeOnExec() {
	var open []int
	for _, fd := range p.guestFDs() {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			continue
		}
		if flags&unix.FD_CLOEXEC == 0 {
			open = append(open, fd)
			continue
		}
		unix.Close(fd)
		p.Dirs.Close(fd)
	}
	p.pruneSpecial(open)
}

// guestFDs lists the open descriptors that are not xemu's own, from the
// host's /proc (every descriptor up to the limit without it).
func (p *Process) guestFDs() []int {
	var dir int
	var err error
	if hostSelf.Proc >= 0 {
		dir, err = unix.Openat(hostSelf.Proc, "self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	} else {
		dir, err = unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	var fds []int
	if err != nil {
		for i, open := range openFDs(0, maxFDScan()) {
			if open && !p.reservedFD(i) {
				fds = append(fds, i)
			}
		}
		return fds
	}
	defer unix.Close(dir)
	buf := make([]byte, 8192)
	var names []string
	for {
		n, err := unix.ReadDirent(dir, buf)
		if err != nil || n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err == nil && fd != dir && !p.reservedFD(fd) {
			fds = append(fds, fd)
		}
	}
	slices.Sort(fds)
	return fds
}

// pruneSpecial forgets the special files no descriptor in open names any
// more, and marks Gone those whose meaning was the old program's memory
// (/proc/self/mem and pagemap, which Linux ties to the memory they were
// opened on; another process's stay its).
func (p *Process) pruneSpecial(open []int) {
	if p.special.n.Load() == 0 {
		return
	}
	live := liveKeys(open)
	p.special.mu.Lock()
	for key, f := range p.special.byKey {
		if live[key] && (f.GuestMem || f.Pagemap) && f.OtherPID == 0 {
			f.Gone = true
			p.special.byKey[key] = f
		}
	}
	gone := p.forgetSpecialLocked(live, nil)
	p.special.mu.Unlock()
	p.closeSignalFDs(gone)
}

// resetDumpable is setup_new_exec's: a process whose real and effective
// IDs agree is dumpable again (PR_SET_DUMPABLE passes to the host, and only
// the host's execve would reset it).
func resetDumpable() {
	d := 0
	if unix.Getuid() == unix.Geteuid() && unix.Getgid() == unix.Getegid() {
		d = 1
	}
	unix.RawSyscall(unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, uintptr(d), 0)
}
