package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/guestfs"
	"xemu/loader"
	"xemu/syscall/abi"
)

// execve: a program of a guest architecture is run by this xemu, in this
// process, as Linux's begin_new_exec replaces the program of the calling
// process (inexec.go): a new address space and engine, the old ones freed.
// Where that cannot be exact, xemu re-executes itself instead (by its
// descriptor: the same binary even if its file was replaced, and found in a
// chroot without /proc, see selfexe.go) with the options this one was
// started with, in this process (same pid, same descriptors but the
// close-on-exec ones): for a process that has had more than one thread, a
// setuid or setgid program, and an xemu without a descriptor of its own
// binary (binfmt_misc then starts the next one). A host program runs
// directly; a #! script runs its interpreter as the kernel's binfmt_script
// does. Every check that can fail is made before the point of no return, so
// a failing execve returns its error to the guest as Linux does.

// maxScriptNesting is BINPRM_MAX_RECURSION: a fifth #! level is ELOOP.
const maxScriptNesting = loader.MaxScriptNesting

// ExecOptions are the command-line options a re-executed xemu needs to run
// the next program the same way.
type ExecOptions struct {
	Args []string // xemu options, e.g. --sysroot DIR
}

// execTarget is what execve will run once #! scripts are resolved.
type execTarget struct {
	host   string // host path of the program
	guest  string // the path the guest named (AT_EXECFN, /proc/self/exe)
	argv   []string
	native bool // a host program: executed directly
	// setID: a setuid or setgid ELF program that gives other credentials
	// than the caller's. Linux runs it with its owner's; xemu cannot give
	// them to itself, so the kernel executes it, through binfmt_misc, whose
	// registration decides (flag C: xemu binfmt install --credential).
	setID bool
}

// Exec replaces the process's program, as execve(path, argv, envp) does.
// It returns only on failure.
func (t *Task) Exec(path string, argv, envp []string) error {
	target, err := t.resolveExec(path, argv)
	if err != nil {
		return err
	}
	if t.canExecInProcess(target) {
		return t.prepareExec(path, target, envp)
	}
	// A vfork child's writes are its parent's before the parent goes on.
	t.vforkWriteBack()
	if target.native {
		return t.execHost(target.host, target.argv, envp, true)
	}
	p := t.P
	args := []string{"xemu"}
	args = append(args, p.execOptions.Args...)
	if hostSelf.Exe >= 0 {
		args = append(args, "--self-fds", HostSelf{Exe: hostSelf.Exe, Proc: hostSelf.Proc, Prog: -1}.SelfFDsFlag())
	}
	// What survives execve of the thread's signal state: the blocked mask,
	// pending signals aside, and the ignored dispositions.
	p.sigMu.Lock()
	mask := t.mask
	var ignored SigSet
	for sig := 1; sig <= abi.NSIG; sig++ {
		if p.actions[sig].Handler == abi.SIG_IGN {
			ignored |= sigBit(sig)
		}
	}
	p.sigMu.Unlock()
	state := ExecState{Mask: mask, Ignored: ignored, Limits: p.Limits, Personality: p.Personality}
	args = append(args, "--exec-state="+state.String())
	// The next xemu is this binary on this host: a self-test that passed
	// here need not run again there.
	var tested []string
	for _, a := range cpu.Arches {
		if a.SelfTestPassed() {
			tested = append(tested, a.Name)
		}
	}
	if len(tested) > 0 {
		args = append(args, "--self-tested="+strings.Join(tested, ","))
	}
	args = append(args, "--execfn", target.guest)
	if len(target.argv) > 0 {
		args = append(args, "--argv0", target.argv[0])
	}
	// No descriptor of xemu's binary (binfmt_misc started this xemu where
	// /proc is missing), or a setuid program, whose path is the guest's
	// (no --sysroot): the kernel executes the program, and binfmt_misc
	// starts the next xemu. The signal state goes in the environment,
	// which the next xemu takes it out of (XEMU_EXEC).
	if hostSelf.Exe < 0 || target.setID && p.FS.Sysroot == "" {
		kernelState := state
		if target.setID {
			// begin_new_exec: me->personality &= ~bprm->per_clear, which
			// a setuid or setgid program sets (bprm_fill_uid).
			kernelState.Personality &^= perClearOnSetID
		}
		env := fmt.Sprintf("%s=--exec-state=%s", ExecEnv, kernelState)
		if p.straceFD > 0 {
			env += fmt.Sprintf(" --strace-fd=%d", p.straceFD)
		}
		err := t.execHost(target.host, target.argv, append(envp, env), false)
		// No handler registered: xemu runs it, without the bit, as
		// under a registration without C.
		if !errors.Is(err, unix.ENOEXEC) || hostSelf.Exe < 0 {
			return err
		}
	}
	args = append(args, "--", target.host)
	if len(target.argv) > 1 {
		args = append(args, target.argv[1:]...)
	}
	return t.execHost("", args, envp, false)
}

// ExecState is what a guest's execve hands to the xemu it executes
// (--exec-state): the thread's signal state that survives execve, the
// resource limits xemu keeps for the guest, and the personality.
type ExecState struct {
	Mask, Ignored SigSet
	Limits        map[int]*Rlimit
	Personality   uint32
}

// String is the --exec-state value: "mask=HEX,ignore=HEX", then
// ",personality=HEX" and ",rlimitN=CUR:MAX" items.
func (s ExecState) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mask=%x,ignore=%x", uint64(s.Mask), uint64(s.Ignored))
	if s.Personality != 0 {
		fmt.Fprintf(&b, ",personality=%x", s.Personality)
	}
	for _, res := range slices.Sorted(maps.Keys(s.Limits)) {
		if l := s.Limits[res]; l != nil {
			fmt.Fprintf(&b, ",rlimit%d=%x:%x", res, l.Cur, l.Max)
		}
	}
	return b.String()
}

// ParseExecState reads --exec-state (ExecState.String).
func ParseExecState(s string) (ExecState, error) {
	var st ExecState
	items := strings.Split(s, ",")
	if len(items) < 2 {
		return st, fmt.Errorf("want mask=HEX,ignore=HEX")
	}
	var m, ig uint64
	if _, err := fmt.Sscanf(items[0]+","+items[1], "mask=%x,ignore=%x", &m, &ig); err != nil {
		return st, err
	}
	st.Mask, st.Ignored = SigSet(m), SigSet(ig)
	for _, it := range items[2:] {
		if v, ok := strings.CutPrefix(it, "personality="); ok {
			per, err := strconv.ParseUint(v, 16, 32)
			if err != nil {
				return st, fmt.Errorf("bad personality %q", it)
			}
			st.Personality = uint32(per)
			continue
		}
		var res int
		var cur, max uint64
		if _, err := fmt.Sscanf(it, "rlimit%d=%x:%x", &res, &cur, &max); err != nil || res < 0 || res >= 16 || cur > max {
			return st, fmt.Errorf("bad limit %q", it)
		}
		if st.Limits == nil {
			st.Limits = map[int]*Rlimit{}
		}
		st.Limits[res] = &Rlimit{Cur: cur, Max: max}
	}
	return st, nil
}

// ExecEnv carries the hidden options of a guest's execve to an xemu that
// binfmt_misc starts (it has no command line of its own).
const ExecEnv = "XEMU_EXEC"

// execHost replaces xemu's process with a host program (native), or with
// xemu itself (path "", or a guest program binfmt_misc runs).
func (t *Task) execHost(path string, argv, envp []string, native bool) error {
	p := t.P
	if p.Strace != nil {
		t.tracef("--- execve %q: %s ---\n", path, strings.Join(argv, " "))
	}
	if f, ok := p.Strace.(*os.File); ok {
		f.Sync()
	}
	// The strace log must stay open for the next xemu (--strace-fd).
	if p.straceFD > 0 {
		unix.FcntlInt(uintptr(p.straceFD), unix.F_SETFD, 0)
	}
	// A caught host signal would be reset by exec anyway; handlers the
	// guest ignores stay ignored for a native program, as for a guest one.
	// The guest's parent-death signal goes to the host for the exec (see
	// pdeath.go) and comes back if the exec fails.
	// The zygote would be a child the next program did not make.
	p.DropZygote(false)
	undo := handOverParentDeathSignal()
	undoSignals := t.handOverSignals(native)
	var err error
	if path == "" {
		// The next xemu takes the guest's limits from --exec-state.
		err = execSelf(argv, envp)
	} else {
		// A program the kernel runs (a host one, or a guest one through
		// binfmt_misc) starts with the guest's descriptor limit.
		undoLimit := p.HostFileLimit()
		err = unix.Exec(path, argv, envp)
		undoLimit()
	}
	undoSignals()
	undo()
	if p.straceFD > 0 {
		unix.FcntlInt(uintptr(p.straceFD), unix.F_SETFD, unix.FD_CLOEXEC)
	}
	return err
}

// handOverSignals gives the program exec runs the guest's signal state as
// Linux keeps it across execve: the signals pending for the guest become
// the host's, pending on this thread, and the thread's host mask is the
// guest's (native) or blocks everything (xemu again: the next xemu's
// constructor takes what is pending, with what arrives until its handlers
// are in, and unblocks once the guest's mask and dispositions are set up;
// cpu/hostsig.c). A signal caught in the last moments by another of xemu's
// threads is still lost with them. undo puts things back for an exec that
// failed: the signals come back through the host's handler.
func (t *Task) handOverSignals(native bool) (undo func()) {
	p := t.P
	old := cpu.SetSignalMask(^uint64(0))
	p.drainHostSignals()
	p.sigMu.Lock()
	infos := append(append([]abi.SigInfo(nil), p.shared.infos...), t.pending.infos...)
	p.shared.drop(^SigSet(0))
	t.pending.drop(^SigSet(0))
	mask := t.mask
	if t.restoreMask {
		mask = t.savedMask
	}
	p.sigMu.Unlock()
	for _, si := range infos {
		cpu.QueueSelf(int(si.Signo), si.Marshal(64))
	}
	if native {
		cpu.SetSignalMask(uint64(mask &^ abi.SigUnblockable))
	}
	return func() { cpu.SetSignalMask(old) }
}

// resolveExec finds what runs: the program itself, or the interpreters of
// #! scripts, with the errors Linux gives for each step.
func (t *Task) resolveExec(path string, argv []string) (execTarget, error) {
	fs := t.P.FS
	for depth := 0; ; depth++ {
		if path == "" {
			return execTarget{}, unix.ENOENT
		}
		host := fs.Host(path)
		// O_NONBLOCK: a FIFO is refused below (EACCES), not waited on.
		f, err := os.OpenFile(host, os.O_RDONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			return execTarget{}, asErrno(err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return execTarget{}, asErrno(err)
		}
		// Where the path led in the guest's /proc: its own program for
		// exe, nothing for what it may not see.
		sys := st.Sys().(*syscall.Stat_t)
		v, err := t.Landing(unix.AT_FDCWD, path, true, sys.Dev, sys.Ino, int(f.Fd()))
		if err == nil && t.Hidden(v) {
			err = unix.ENOENT
		}
		if err != nil {
			f.Close()
			return execTarget{}, err
		}
		if v.File() == guestfs.ProcExe {
			f.Close()
			host = fs.Exe
			if f, err = os.Open(host); err != nil {
				return execTarget{}, asErrno(err)
			}
			if st, err = f.Stat(); err != nil {
				f.Close()
				return execTarget{}, asErrno(err)
			}
		}
		if !st.Mode().IsRegular() {
			f.Close()
			return execTarget{}, unix.EACCES
		}
		if err := unix.Access(host, unix.X_OK); err != nil {
			f.Close()
			return execTarget{}, err
		}
		head := make([]byte, 256)
		n, _ := f.Read(head)
		f.Close()
		head = head[:n]
		switch {
		case bytes.HasPrefix(head, []byte("#!")):
			if depth >= maxScriptNesting {
				return execTarget{}, unix.ELOOP
			}
			interp, arg, err := loader.ParseShebang(head)
			if err != nil {
				return execTarget{}, err
			}
			// binfmt_script: interpreter, its optional argument, the
			// script's path as given, then the arguments after argv[0].
			next := []string{interp}
			if arg != "" {
				next = append(next, arg)
			}
			next = append(next, path)
			if len(argv) > 1 {
				next = append(next, argv[1:]...)
			}
			path, argv = interp, next
			continue
		case bytes.HasPrefix(head, []byte("\x7fELF")):
			lf, err := loader.Open(path, host)
			if err != nil {
				if errors.Is(err, loader.ErrNotFound) {
					return execTarget{}, unix.ENOENT
				}
				return execTarget{}, unix.ENOEXEC
			}
			machine := lf.Header.Machine
			ip, ierr := lf.Interp()
			lf.Close()
			if machine == loader.EMX86_64 {
				return execTarget{host: host, guest: path, argv: argv, native: true}, nil
			}
			if _, err := ForMachine(machine); err != nil || ierr != nil {
				return execTarget{}, unix.ENOEXEC
			}
			// A missing dynamic loader is ENOENT, as from Linux; checked
			// here so that the new xemu cannot fail after the exec.
			if ip != "" && !t.interpreterExists(ip) {
				return execTarget{}, unix.ENOENT
			}
			return execTarget{host: host, guest: path, argv: argv, setID: changesIDs(st.Mode(), st.Sys().(*syscall.Stat_t))}, nil
		default:
			return execTarget{}, unix.ENOEXEC
		}
	}
}

// changesIDs: executing a file of this mode and owner changes the
// effective user or group (root's own setuid-root mount does not).
func changesIDs(mode os.FileMode, st *syscall.Stat_t) bool {
	return mode&os.ModeSetuid != 0 && int(st.Uid) != unix.Geteuid() ||
		mode&os.ModeSetgid != 0 && int(st.Gid) != unix.Getegid()
}

// interpreterExists: the ELF interpreter is found where the new xemu will
// look for it (the sysroot first, as FS.Host resolves it).
func (t *Task) interpreterExists(ip string) bool {
	st, err := os.Stat(t.P.FS.Host(ip))
	return err == nil && st.Mode().IsRegular()
}

func asErrno(err error) error {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EACCES
}

// takeExecState applies the signal state the previous program left: its
// blocked mask and what it ignored.
func (t *Task) takeExecState(mask, ignored SigSet) {
	t.mask = mask &^ abi.SigUnblockable
	for sig := 1; sig <= abi.NSIG; sig++ {
		if ignored.Has(sig) && sig != abi.SIGKILL && sig != abi.SIGSTOP {
			t.P.actions[sig].Handler = abi.SIG_IGN
		}
	}
}
