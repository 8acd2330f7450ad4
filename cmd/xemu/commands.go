package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"xemu/binfmt"
	"xemu/explain"
)

// Exit statuses of the commands (besides exitUsage).
const (
	exitFailed = 1  // binfmt: the operation failed, or status: some programs will not run
	exitNoPerm = 77 // binfmt install/uninstall without root
)

const binfmtUsage = `usage: xemu binfmt install [--arch aarch64,arm] [--credential] [--persistent] [--replace] [--name-prefix NAME]
       xemu binfmt uninstall [--arch aarch64,arm] [--name-prefix NAME]
       xemu binfmt status

install registers xemu with the kernel's binfmt_misc (mounting it first if
needed) so that ARM and AArch64 programs run when executed directly, also in
chroots and containers that do not contain xemu (flag F: the kernel opens
xemu now). argv[0] is preserved (flag P). An existing entry of the same name,
or another enabled handler for the same programs (such as qemu's), is a
conflict that --replace resolves: it removes an entry of the same name and
disables the other handlers, which uninstall enables again. binfmt_misc
itself records which (a disabled entry NAME-ARCH.replaced.OTHER that claims
no file), so an uninstall on the host undoes an install that ran in a
container.

  --credential   flag C: setuid and setgid programs (sudo) run with their own
                 credentials, so xemu, which runs them, runs with those
                 privileges too: any flaw in xemu becomes a way to root.
                 Without it, setuid and setgid bits are ignored: programs
                 run with the credentials of whoever executes them.
  --persistent   also copy xemu to /usr/local/lib/xemu/xemu and write
                 /etc/binfmt.d/NAME-ARCH.conf for systemd-binfmt at boot; with
                 --replace, the handlers replaced are kept out of what
                 systemd-binfmt registers at boot (a file of the same name in
                 /etc/binfmt.d without them), until uninstall.
  --name-prefix  names the entries NAME-aarch64 and NAME-arm (default xemu).

status lists every handler for ARM and AArch64 programs and which one the
kernel uses, then executes a tiny embedded program of each architecture (a
live check through the kernel's binfmt_misc path), and exits 1 if one of
them does not run.
Options of a program run through binfmt_misc come from the environment:
XEMU_SYSROOT, XEMU_STRACE.
`

// binfmtCommand runs `xemu binfmt ...`.
func binfmtCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, binfmtUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	sub := args[0]
	fs := pflag.NewFlagSet("xemu binfmt "+sub, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	archs := fs.StringSlice("arch", []string{"aarch64", "arm"}, "architectures")
	prefix := fs.String("name-prefix", "xemu", "entry names' prefix")
	credential := fs.Bool("credential", false, "flag C")
	persistent := fs.Bool("persistent", false, "systemd-binfmt file")
	replace := fs.Bool("replace", false, "replace conflicting entries")
	in := binfmt.DefaultInstaller
	// For tests, which must leave /etc and /usr/local alone, and look at
	// binfmt_misc where it is not mounted.
	fs.StringVar(&in.ConfDir, "conf-dir", in.ConfDir, "")
	fs.StringVar(&in.LibDir, "lib-dir", in.LibDir, "")
	fs.StringVar(&in.Sys.Dir, "binfmt-dir", in.Sys.Dir, "")
	fs.StringSliceVar(&in.BootDirs, "boot-dirs", in.BootDirs, "")
	for _, n := range []string{"conf-dir", "lib-dir", "binfmt-dir", "boot-dirs"} {
		fs.MarkHidden(n)
	}
	help := fs.BoolP("help", "h", false, "")
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "xemu: binfmt %s: "+format+"\n", append([]any{sub}, a...)...)
		return code
	}
	if err := fs.Parse(args[1:]); err != nil {
		return fail(exitUsage, "%v; see xemu binfmt --help", err)
	}
	if *help {
		fmt.Fprint(stdout, binfmtUsage)
		return 0
	}
	if fs.NArg() > 0 {
		return fail(exitUsage, "unexpected argument %q; see xemu binfmt --help", fs.Arg(0))
	}
	switch sub {
	case "install", "uninstall":
		if err := binfmt.CheckArchs(*archs); err != nil {
			return fail(exitUsage, "%v", err)
		}
		if os.Geteuid() != 0 {
			return fail(exitNoPerm, "needs root: binfmt_misc registrations are system-wide; run it as root (sudo xemu binfmt %s)", sub)
		}
		var done []string
		var err error
		if sub == "install" {
			self, serr := os.Executable()
			if serr != nil {
				return fail(exitFailed, "cannot find xemu's own path: %v", serr)
			}
			done, err = in.Install(binfmt.InstallOptions{Archs: *archs, Interpreter: self, Prefix: *prefix,
				Credential: *credential, Persistent: *persistent, Replace: *replace, Marked: !kernelAtLeast(5, 12)})
		} else {
			done, err = in.Uninstall(*archs, *prefix)
		}
		for _, d := range done {
			fmt.Fprintln(stdout, d)
		}
		if err != nil {
			return fail(exitFailed, "%v", err)
		}
		return 0
	case "status":
		return binfmtStatus(in.Sys, stdout, stderr)
	}
	return fail(exitUsage, "unknown command; xemu binfmt install, uninstall or status")
}

func binfmtStatus(sys binfmt.System, stdout, stderr io.Writer) int {
	if !sys.Mounted() {
		// Registrations may still exist (in a container, the host's apply
		// and are not visible): the live checks tell.
		fmt.Fprintf(stdout, "binfmt_misc: not mounted at %s: its handlers cannot be listed\n", sys.Dir)
		code := 0
		for _, f := range binfmt.Formats {
			fmt.Fprintf(stdout, "%s: %s programs\n", f.Arch, f.Describe())
			if !liveCheck(f, stdout) {
				code = exitFailed
			}
		}
		if code != 0 {
			fmt.Fprintln(stdout, "fix: sudo xemu binfmt install (mounts binfmt_misc and registers xemu)")
		}
		return code
	}
	on, err := sys.Enabled()
	if err != nil {
		fmt.Fprintf(stderr, "xemu: binfmt status: %v\n", err)
		return exitFailed
	}
	state := "enabled"
	if !on {
		state = "disabled as a whole (echo 1 > " + filepath.Join(sys.Dir, "status") + ")"
	}
	fmt.Fprintf(stdout, "binfmt_misc: mounted at %s, %s\n", sys.Dir, state)
	formats, err := sys.Status()
	if err != nil {
		fmt.Fprintf(stderr, "xemu: binfmt status: %v\n", err)
		return exitFailed
	}
	code := 0
	for _, f := range formats {
		fmt.Fprintf(stdout, "%s: %s programs\n", f.Format.Arch, f.Format.Describe())
		enabled := 0
		for _, h := range f.Handlers {
			e := h.Entry
			st, mark := "disabled", ""
			if e.Enabled {
				st = "enabled"
				enabled++
			}
			if e == f.Winner {
				mark = "  <- used"
			}
			flags := e.Flags
			if flags == "" {
				flags = "-"
			}
			fmt.Fprintf(stdout, "  %-16s %-8s flags %-4s %-5s %s (%s)%s\n", e.Name, st, flags, h.Kind, e.Interpreter, h.File, mark)
		}
		switch {
		case f.Winner == nil:
			fmt.Fprintf(stdout, "  no enabled handler: these programs fail with \"exec format error\"; fix: sudo xemu binfmt install --arch %s\n", f.Format.Arch)
		case enabled > 1:
			fmt.Fprintf(stdout, "  warning: %d enabled handlers claim these programs; the kernel uses the one registered last, %s\n", enabled, f.Winner.Name)
		}
		if w := f.Winner; w != nil && !strings.ContainsRune(w.Flags, binfmt.FlagPreserveArgv0) {
			fmt.Fprintf(stdout, "  note: %s has no P flag: programs see their full path as argv[0]\n", w.Name)
		}
		if w := f.Winner; w != nil && !strings.ContainsRune(w.Flags, binfmt.FlagFixBinary) {
			fmt.Fprintf(stdout, "  note: %s has no F flag: it fails inside chroots and containers that lack %s\n", w.Name, w.Interpreter)
		}
		if !liveCheck(f.Format, stdout) {
			code = exitFailed
		}
	}
	return code
}

// liveCheck executes the embedded probe program for f as a file, so that
// the kernel's handler runs it, and says how that went.
func liveCheck(f binfmt.Format, stdout io.Writer) bool {
	if err := binfmt.LiveCheck(f, binfmt.ProbeDirs()); err != nil {
		fmt.Fprintf(stdout, "  live check: an %s program executed directly fails: %v\n", f.Name(), err)
		return false
	}
	fmt.Fprintf(stdout, "  live check: an %s program executed directly runs\n", f.Name())
	return true
}

// explainCommand runs `xemu explain [--sysroot DIR] FILE`.
func explainCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("xemu explain", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sysroot := fs.StringP("sysroot", "L", os.Getenv("XEMU_SYSROOT"), "")
	help := fs.BoolP("help", "h", false, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "xemu: explain: %v; usage: xemu explain [--sysroot DIR] FILE\n", err)
		return exitUsage
	}
	if *help {
		fmt.Fprintln(stdout, "usage: xemu explain [--sysroot DIR] FILE\n\nSays what FILE is, whether xemu runs it (and how), and what the kernel does\nwhen it is executed directly. Exits as `xemu FILE` would fail, or 0 if xemu\nwould start it.")
		return 0
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "xemu: explain: give one FILE; usage: xemu explain [--sysroot DIR] FILE")
		return exitUsage
	}
	opts := explain.Options{Sysroot: *sysroot, Binfmt: &binfmt.System{Dir: binfmt.DefaultDir}, CrossRoots: explain.DefaultCrossRoots}
	if opts.Sysroot != "" {
		if abs, err := filepath.Abs(opts.Sysroot); err == nil {
			opts.Sysroot = abs
		}
	}
	r := explain.Explain(fs.Arg(0), opts)
	for _, l := range r.Lines {
		fmt.Fprintln(stdout, l)
	}
	return map[explain.Verdict]int{explain.Runs: 0, explain.NoInterp: exitNoInterp, explain.CannotRun: exitCannotRun,
		explain.NotFound: exitNotFound, explain.BadSysroot: exitUsage}[r.Verdict]
}

// kernelAtLeast compares the running kernel's version.
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return true
	}
	var ma, mi int
	if n, _ := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); n != 2 {
		return true
	}
	return ma > major || ma == major && mi >= minor
}

// Auxiliary vector entries (include/uapi/linux/auxvec.h, binfmts.h).
const (
	atExecFD            = 2
	atFlags             = 8
	atFlagsPreserveArg0 = 1 << 0 // AT_FLAGS_PRESERVE_ARGV0, Linux 5.12
)

// binfmtLaunch tells whether the kernel started xemu through a binfmt_misc
// entry with the P flag, so that its arguments are FULL-PATH ARGV0 ARGS:
// AT_FLAGS_PRESERVE_ARGV0 says so since Linux 5.12, the name xemu-binfmt
// (a link install makes on older kernels) before. execFD is the program's
// descriptor with the O or C flag, else -1.
func binfmtLaunch() (launched bool, execFD int) {
	execFD = -1
	auxv, _ := unix.Auxv()
	for _, kv := range auxv {
		switch kv[0] {
		case atFlags:
			launched = launched || kv[1]&atFlagsPreserveArg0 != 0
		case atExecFD:
			execFD = int(kv[1])
		}
	}
	if len(os.Args) > 0 && filepath.Base(os.Args[0]) == binfmt.MarkerName {
		launched = true
	}
	return launched, execFD
}
