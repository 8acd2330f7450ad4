// Command xemu runs ARM and AArch64 Linux programs on an x86-64 Linux host.
//
// The Go runtime must not keep descriptors of its own open: the guest owns the
// descriptor table, and expects 3 to be its first free descriptor.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"xemu/loader"
	"xemu/syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit statuses of xemu itself (the guest's own status is passed through).
const (
	exitUsage     = 64  // bad command line
	exitInternal  = 124 // the emulator could not start (memory, CPU engine)
	exitNoInterp  = 125 // the program's dynamic loader is missing
	exitCannotRun = 126 // not an ELF program xemu runs: wrong architecture, corrupt
	exitNotFound  = 127 // no such program
)

const usage = `usage: xemu [options] PROGRAM [ARGS...]
       xemu binfmt install|uninstall|status [options]   (see xemu binfmt --help)
       xemu explain [--sysroot DIR] FILE

Runs an ARM (32-bit EABI) or AArch64 Linux program on this host.
"binfmt" and "explain" as the first argument are commands; run a program of
that name as ./binfmt or after --.

Options:
%s
Environment:
  XEMU_SYSROOT   default for --sysroot
  XEMU_STRACE    default for --strace-file (programs run through binfmt_misc
                 get no command line, so these are their options; a setuid
                 or setgid program run with flag C ignores both)

When the kernel runs xemu through its binfmt_misc registration (flag P:
xemu FULL-PATH ARGV0 ARGS..., which AT_FLAGS_PRESERVE_ARGV0 in xemu's auxv
announces), it runs FULL-PATH with argv[0] ARGV0 and takes no options.

Exit status: the program's own, or if xemu cannot run it:
  64   bad command line
  124  the emulator could not start (memory, CPU engine)
  125  the program's dynamic loader (interpreter) is missing: pass --sysroot
  126  not a program xemu runs (not ELF, wrong architecture, corrupt)
  127  no such program
A program killed by a signal kills xemu with the same signal.
explain exits as xemu would on FILE (0: it would start it); binfmt exits 1
when it fails (status: when some ARM or AArch64 programs would not run) and
77 without root.
`

// options is the parsed command line.
type options struct {
	sysroot    string
	setEnv     []string
	unsetEnv   []string
	argv0      string
	strace     bool
	straceFile string
	noRandom   bool
	// Set by xemu itself when a guest's execve re-executes it.
	execState string
	execFn    string
	straceFD  int
	forkState int
	selfFDs   string
	chroot    string
	// execFD is the program's descriptor that binfmt_misc passed
	// (AT_EXECFD), or -1.
	execFD     int
	selfTested []string
	// A zygote's socket, its parent, and the machine to get ready for.
	zygote, zygoteParent, zygoteMachine int
}

// The guest runs on the main thread, so that its thread ID is its process ID
// as on Linux: keep the main goroutine there from the start.
func init() { runtime.LockOSThread() }

func main() {
	syscall.PrepareHost()
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	o := options{execFD: -1}
	launched, execFD := binfmtLaunch()
	o.execFD = execFD
	if launched {
		return runBinfmt(o, args, stderr)
	}
	if len(args) > 0 {
		switch args[0] {
		case "binfmt":
			return binfmtCommand(args[1:], os.Stdout, stderr)
		case "explain":
			return explainCommand(args[1:], os.Stdout, stderr)
		}
	}
	fs := pflag.NewFlagSet("xemu", pflag.ContinueOnError)
	fs.SetInterspersed(false)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.chroot, "chroot", "", "change the root directory to `DIR` first (as root): the program, every path and every program it executes are looked up there, without a binfmt_misc registration or a copy of xemu in DIR")
	fs.StringVarP(&o.sysroot, "sysroot", "L", os.Getenv("XEMU_SYSROOT"), "look up absolute paths (the dynamic loader, libraries) under `DIR` first")
	fs.StringArrayVarP(&o.setEnv, "env", "E", nil, "set `VAR=VALUE` in the program's environment")
	fs.StringArrayVarP(&o.unsetEnv, "unset", "U", nil, "remove `VAR` from the program's environment")
	fs.StringVar(&o.argv0, "argv0", "", "pass `NAME` as the program's argv[0]")
	fs.BoolVar(&o.strace, "strace", false, "log every system call to stderr")
	fs.StringVar(&o.straceFile, "strace-file", os.Getenv("XEMU_STRACE"), "log system calls to `FILE` (implies --strace)")
	fs.BoolVarP(&o.noRandom, "no-randomize", "R", false, "disable address-space randomization")
	hiddenFlags(fs, &o)
	showVersion := fs.Bool("version", false, "print the version and exit")
	help := fs.BoolP("help", "h", false, "print this help and exit")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "xemu: %v; see xemu --help\n", err)
		return exitUsage
	}
	if *help {
		fmt.Fprintf(os.Stdout, usage, fs.FlagUsages())
		return 0
	}
	if *showVersion {
		fmt.Fprintf(os.Stdout, "xemu %s (Unicorn 2.1.4)\n", version)
		return 0
	}
	rest := fs.Args()
	if o.forkState > 0 {
		return resumeFork(o.forkState, stderr)
	}
	if o.zygote > 0 {
		info, status, err := syscall.ZygoteMain(o.zygote, o.zygoteParent, o.zygoteMachine)
		if info.Stderr != nil {
			stderr = info.Stderr
		} else if err != nil {
			return exitInternal // nobody to tell: the parent falls back
		}
		return guestEnded(info.Program, status, err, stderr)
	}
	if len(rest) == 0 {
		fmt.Fprintf(stderr, "xemu: no program given; usage: xemu [options] PROGRAM [ARGS...]\n")
		return exitUsage
	}
	inherited, err := syscall.ParseSelfFDs(o.selfFDs)
	if err != nil {
		fmt.Fprintf(stderr, "xemu: --self-fds %q: %v\n", o.selfFDs, err)
		return exitUsage
	}
	// Before any chroot: xemu's binary and /proc are found here.
	syscall.OpenHostSelf(inherited)
	if o.chroot != "" {
		if o.sysroot != "" {
			fmt.Fprintf(stderr, "xemu: --chroot and --sysroot: give one of them\n")
			return exitUsage
		}
		if err := unix.Chroot(o.chroot); err != nil {
			fmt.Fprintf(stderr, "xemu: --chroot %s: %v\n", o.chroot, err)
			return exitUsage
		}
		if err := unix.Chdir("/"); err != nil {
			fmt.Fprintf(stderr, "xemu: --chroot %s: %v\n", o.chroot, err)
			return exitUsage
		}
	}
	return runProgram(o, rest, stderr)
}

// hiddenFlags are the options one xemu passes to the next (execve, fork).
func hiddenFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.execState, "exec-state", "", "signal state handed over by execve (internal)")
	fs.StringVar(&o.execFn, "execfn", "", "the path the program was executed by (internal)")
	fs.IntVar(&o.straceFD, "strace-fd", 0, "log system calls to descriptor `N` (internal)")
	fs.IntVar(&o.forkState, "fork-state", 0, "continue a forked guest process from descriptor `N` (internal)")
	fs.StringVar(&o.selfFDs, "self-fds", "", "descriptors of xemu's binary, /proc and the program (internal)")
	fs.StringSliceVar(&o.selfTested, "self-tested", nil, "CPU self-tests that passed in the xemu that executed this one (internal)")
	fs.IntVar(&o.zygote, "zygote", 0, "wait on socket `N` to become a guest's fork child (internal)")
	fs.IntVar(&o.zygoteParent, "zygote-parent", 0, "the zygote's parent `PID` (internal)")
	fs.IntVar(&o.zygoteMachine, "zygote-machine", 0, "the ELF machine the zygote gets ready for (internal)")
	for _, name := range []string{"exec-state", "execfn", "strace-fd", "fork-state", "self-fds", "self-tested", "zygote", "zygote-parent", "zygote-machine"} {
		fs.MarkHidden(name)
	}
}

// runBinfmt runs a program the kernel handed over through binfmt_misc with
// the P flag: args are FULL-PATH ARGV0 ARGS..., never options (the guest's
// own arguments may look like them); options come from the environment.
func runBinfmt(o options, args []string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "xemu: started by binfmt_misc without a program\n")
		return exitUsage
	}
	// In secure mode (a setuid program, flag C) the caller chose the
	// arguments and the environment: a fork state must come from this
	// user, the privileged one, and the environment gives no options.
	secure := loader.HostSecure()
	// A fork child that re-entered xemu through the registration, having
	// no descriptor of xemu's binary (kernel/selfexe.go).
	if len(args) == 4 && args[1] == "xemu" && args[2] == "--fork-state" {
		if fd, err := strconv.Atoi(args[3]); err == nil && fd > 0 && (!secure || ownForkState(fd)) {
			return resumeFork(fd, stderr)
		}
	}
	if !secure {
		o.sysroot = os.Getenv("XEMU_SYSROOT")
		o.straceFile = os.Getenv("XEMU_STRACE")
	}
	// The hidden options of the guest's execve that started this xemu.
	state, ok := os.LookupEnv(syscall.ExecEnv)
	os.Unsetenv(syscall.ExecEnv)
	if ok && !secure {
		fs := pflag.NewFlagSet("xemu", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		hiddenFlags(fs, &o)
		if err := fs.Parse(strings.Fields(state)); err != nil {
			fmt.Fprintf(stderr, "xemu: %s %q: %v\n", syscall.ExecEnv, state, err)
			return exitUsage
		}
		if o.straceFD > 0 {
			o.straceFile = ""
		}
	}
	syscall.OpenHostSelf(syscall.HostSelf{Exe: -1, Proc: -1, Prog: -1})
	prog := args[0]
	rest := args[1:]
	if len(rest) > 0 {
		o.argv0 = rest[0]
		rest = rest[1:]
	}
	return runProgram(o, append([]string{prog}, rest...), stderr)
}

func runProgram(o options, args []string, stderr io.Writer) int {
	prog := args[0]
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "xemu: "+format+"\n", a...)
		return code
	}
	if o.sysroot != "" {
		abs, err := filepath.Abs(o.sysroot)
		if err != nil {
			return fail(exitUsage, "--sysroot %s: %v", o.sysroot, err)
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return fail(exitUsage, "--sysroot %s: not a directory", o.sysroot)
		}
		o.sysroot = abs
	}
	hostPath := prog
	if !strings.Contains(prog, "/") {
		if _, err := os.Stat(prog); err != nil {
			if p, err := exec.LookPath(prog); err == nil {
				hostPath = p
			}
		}
	}
	var f *loader.File
	var err error
	if o.execFD >= 0 {
		f, err = openExecFD(prog, hostPath, o.execFD)
	} else {
		f, err = loader.Open(prog, hostPath)
	}
	if err != nil {
		return fail(codeFor(err), "%s: %v", prog, describe(err))
	}
	defer f.Close()
	syscall.KeepProgram(f.FD())
	abi, err := syscall.ForMachine(f.Header.Machine)
	if err != nil {
		return fail(exitCannotRun, "%s: %v", prog, err)
	}
	var interp *loader.File
	if ip, err := f.Interp(); err != nil {
		return fail(exitCannotRun, "%s: %v", prog, err)
	} else if ip != "" {
		interp, err = openInterp(ip, o.sysroot)
		if errors.Is(err, loader.ErrNotFound) {
			return fail(exitNoInterp, "%s: needs %s: pass --sysroot DIR that contains it", prog, ip)
		}
		if err != nil {
			return fail(codeFor(err), "%s: interpreter %s: %v", prog, ip, describe(err))
		}
		defer interp.Close()
	}

	exe, err := filepath.Abs(hostPath)
	if err != nil {
		exe = hostPath
	}
	argv := append([]string{prog}, args[1:]...)
	if o.argv0 != "" {
		argv[0] = o.argv0
	}
	cfg := syscall.Config{
		Program:     prog,
		Exe:         exe,
		Argv:        argv,
		Env:         guestEnv(os.Environ(), o.setEnv, o.unsetEnv),
		Sysroot:     o.sysroot,
		NoRandomize: o.noRandom,
		ExitAfter:   true, // main exits with the guest's status
		SelfTested:  o.selfTested,
	}
	if o.execFn != "" {
		cfg.Program = o.execFn
	}
	if o.execState != "" {
		st, err := syscall.ParseExecState(o.execState)
		if err != nil {
			return fail(exitUsage, "--exec-state %q: %v", o.execState, err)
		}
		cfg.Mask, cfg.Ignored, cfg.Limits, cfg.Personality = st.Mask, st.Ignored, st.Limits, st.Personality
	}
	// What a re-executed xemu needs to run the guest's next program alike.
	if o.sysroot != "" {
		cfg.Exec.Args = append(cfg.Exec.Args, "--sysroot", o.sysroot)
	}
	if o.noRandom {
		cfg.Exec.Args = append(cfg.Exec.Args, "--no-randomize")
	}
	if o.straceFD > 0 {
		unix.FcntlInt(uintptr(o.straceFD), unix.F_SETFD, unix.FD_CLOEXEC)
		cfg.StraceFD = o.straceFD
		cfg.Strace = os.NewFile(uintptr(o.straceFD), "strace")
		cfg.Exec.Args = append(cfg.Exec.Args, "--strace-fd", strconv.Itoa(o.straceFD))
	} else if o.straceFile != "" {
		fd, err := unix.Open(o.straceFile, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return fail(exitUsage, "--strace-file %s: %v", o.straceFile, err)
		}
		// Keep the log out of the guest's low descriptors.
		high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 900)
		if err == nil {
			unix.Close(fd)
			fd = high
		}
		cfg.StraceFD = fd
		cfg.Strace = os.NewFile(uintptr(fd), o.straceFile)
		cfg.Exec.Args = append(cfg.Exec.Args, "--strace-fd", strconv.Itoa(fd))
	} else if o.strace {
		cfg.Strace = os.Stderr
		cfg.Exec.Args = append(cfg.Exec.Args, "--strace")
	}
	// xemu's own last words go where its stderr was when it started, never
	// to a file the guest put on descriptor 2.
	if fd, err := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, 900); err == nil {
		cfg.StderrFD = fd
		saved := os.NewFile(uintptr(fd), "stderr")
		stderr = saved
		// The trace too: a guest that redirects its descriptor 2 must not
		// receive it.
		if cfg.Strace == os.Stderr {
			cfg.Strace = saved
		}
	}

	status, err := syscall.Run(cfg, f, interp, abi)
	return guestEnded(prog, status, err, stderr)
}

// guestEnded turns the end of the guest into xemu's own: its exit status,
// or death by the signal that killed it.
func guestEnded(prog string, status int, err error, stderr io.Writer) int {
	if err == nil {
		return status
	}
	var exit *syscall.ExitError
	if errors.As(err, &exit) && exit.Program != "" {
		prog = exit.Program
	}
	if errors.As(err, &exit) && exit.Signal != 0 {
		// A fault gets one line, as it helps; any other signal kills
		// silently, as the kernel does.
		if exit.Why != "" {
			fmt.Fprintf(stderr, "xemu: %s: %s\n", prog, exit.Why)
		}
		syscall.DieBySignal(exit.Signal)
	}
	code := exitInternal
	var fe *loader.FormatError
	var ae *loader.ArchError
	if errors.As(err, &fe) || errors.As(err, &ae) {
		code = exitCannotRun
	}
	fmt.Fprintf(stderr, "xemu: %s: %v\n", prog, err)
	return code
}

// resumeFork runs the child of a guest's fork (kernel/fork.go).
// ownForkState: fd is a memory file (tmpfs: a fork's memfd) owned by this
// process's effective user, so a less privileged caller did not write it.
func ownForkState(fd int) bool {
	var st unix.Stat_t
	var fs unix.Statfs_t
	return unix.Fstat(fd, &st) == nil && unix.Fstatfs(fd, &fs) == nil &&
		st.Uid == uint32(os.Geteuid()) && fs.Type == unix.TMPFS_MAGIC
}

func resumeFork(fd int, stderr io.Writer) int {
	info, status, err := syscall.Resume(fd)
	if info.Stderr != nil {
		stderr = info.Stderr
	}
	return guestEnded(info.Program, status, err, stderr)
}

// openExecFD opens the program on the descriptor binfmt_misc passed (flags
// O and C), which may be all xemu can open of an execute-only program. It
// moves out of the guest's way first: the guest expects its own descriptors
// from 3 up.
func openExecFD(prog, hostPath string, fd int) (*loader.File, error) {
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 900)
	unix.Close(fd)
	if err != nil {
		return nil, err
	}
	return loader.OpenFD(prog, hostPath, high)
}

// openInterp opens the dynamic loader, from the sysroot first.
func openInterp(path, sysroot string) (*loader.File, error) {
	if sysroot != "" {
		f, err := loader.Open(path, filepath.Join(sysroot, path))
		if !errors.Is(err, loader.ErrNotFound) {
			return f, err
		}
	}
	return loader.Open(path, path)
}

func codeFor(err error) int {
	switch {
	case errors.Is(err, loader.ErrNotFound):
		return exitNotFound
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EISDIR):
		return exitCannotRun
	}
	var fe *loader.FormatError
	var ae *loader.ArchError
	if errors.As(err, &fe) || errors.As(err, &ae) {
		return exitCannotRun
	}
	return exitCannotRun
}

func describe(err error) string {
	if errors.Is(err, loader.ErrNotFound) {
		return "no such file"
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e.Error()
	}
	return err.Error()
}

// guestEnv is the host environment with -E and -U applied.
func guestEnv(env, set, unset []string) []string {
	drop := map[string]bool{}
	for _, u := range unset {
		drop[u] = true
	}
	for _, s := range set {
		if i := strings.IndexByte(s, '='); i > 0 {
			drop[s[:i]] = true
		}
	}
	var out []string
	for _, kv := range env {
		name := kv
		if i := strings.IndexByte(kv, '='); i >= 0 {
			name = kv[:i]
		}
		if !drop[name] {
			out = append(out, kv)
		}
	}
	for _, s := range set {
		if strings.IndexByte(s, '=') > 0 {
			out = append(out, s)
		}
	}
	return out
}
