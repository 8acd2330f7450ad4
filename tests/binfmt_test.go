package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"xemu/binfmt"
	"xemu/internal/binfmttest"
	"xemu/internal/testenv"
)

// argvSource prints its arguments, argv[0] included.
const argvSource = `#include <stdio.h>
int main(int argc, char **argv) {
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	return 3;
}
`

func argvProgram(t *testing.T, a guestArch, mode string) string {
	src := filepath.Join(t.TempDir(), "argv.c")
	if err := os.WriteFile(src, []byte(argvSource), 0o644); err != nil {
		t.Fatal(err)
	}
	return compile(t, a, src, mode)
}

// withoutKernelLines drops explain's "kernel:" lines (and the ones that
// continue them), which depend on what this machine has registered.
func withoutKernelLines(out string) string {
	var keep []string
	inKernel := false
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "  kernel:"):
			inKernel = true
			continue
		case inKernel && strings.HasPrefix(l, "           "):
			continue
		}
		inKernel = false
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n") + "\n"
}

// TestExplain pins what `xemu explain` says and its exit status, which is
// `xemu FILE`'s.
func TestExplain(t *testing.T) {
	dir := t.TempDir()
	static := argvProgram(t, aarch64, "static")
	dynamic := argvProgram(t, aarch64, "dynamic")
	armhfDyn := argvProgram(t, armhfARM, "dynamic")
	armelStatic := argvProgram(t, armel, "static")
	full, err := os.ReadFile(static)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := write("truncated", full[:40], 0o755)
	text := write("text", []byte("hello\n"), 0o644)
	shScript := write("sh-script", []byte("#!/bin/sh -e\necho hi\n"), 0o755)
	armScript := write("arm-script", []byte("#!"+static+"\n"), 0o755)
	cases := []struct {
		name string
		args []string
		exit int
		want string // the whole output without kernel lines, or
		has  []string
	}{
		{name: "armel static", args: []string{armelStatic}, exit: 0, want: armelStatic + ": ELF 32-bit little-endian ARM, executable (ET_EXEC)\n" +
			"  ABI:      EABI5, soft-float (armel), ARMv5TE\n" +
			"  linking:  static (no dynamic loader)\n" +
			"  xemu:     runs it: xemu " + armelStatic + "\n"},
		{name: "aarch64 dynamic, no sysroot", args: []string{dynamic}, exit: 125, want: dynamic + ": ELF 64-bit little-endian AArch64, position-independent (ET_DYN)\n" +
			"  ABI:      AArch64 LP64 (AAPCS64)\n" +
			"  linking:  dynamic, loader /lib/ld-linux-aarch64.so.1\n" +
			"  loader:   not found on the host; pass --sysroot /usr/aarch64-linux-gnu (it has one)\n" +
			"  xemu:     cannot start it without its loader: xemu --sysroot /usr/aarch64-linux-gnu " + dynamic + "\n"},
		{name: "aarch64 dynamic, sysroot", args: []string{"--sysroot", "/usr/aarch64-linux-gnu", dynamic}, exit: 0,
			has: []string{"loader:   found in --sysroot: /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1", "runs it: xemu --sysroot /usr/aarch64-linux-gnu " + dynamic}},
		{name: "armhf dynamic, wrong sysroot", args: []string{"-L", "/usr/aarch64-linux-gnu", armhfDyn}, exit: 125,
			has: []string{"EABI5, hard-float (armhf), ARMv7-A, VFPv3-D16", "pass --sysroot /usr/arm-linux-gnueabihf (it has one)"}},
		{name: "aarch64 static", args: []string{static}, exit: 0, has: []string{"AArch64, executable (ET_EXEC)", "static (no dynamic loader)"}},
		{name: "x86-64", args: []string{"/bin/true"}, exit: 126, has: []string{"x86-64", "does not run x86-64 programs: this host runs it natively"}},
		{name: "not ELF", args: []string{text}, exit: 126, want: text + ": not an ELF file; xemu runs ARM and AArch64 ELF programs\n"},
		{name: "truncated", args: []string{truncated}, exit: 126, has: []string{"ELF file xemu cannot run: truncated ELF header"}},
		{name: "missing", args: []string{filepath.Join(dir, "nope")}, exit: 127, want: filepath.Join(dir, "nope") + ": no such file\n"},
		{name: "directory", args: []string{dir}, exit: 126, has: []string{"not a regular file"}},
		{name: "host script", args: []string{shScript}, exit: 126, has: []string{shScript + ": #! script for /bin/sh -e",
			"runs ELF programs, not scripts: the kernel runs /bin/sh", "interpreter:", "/bin/sh: ELF 64-bit little-endian x86-64"}},
		{name: "ARM script", args: []string{armScript}, exit: 126, has: []string{"#! script for " + static, static + ": ELF 64-bit little-endian AArch64"}},
		{name: "no file", args: []string{}, exit: 64},
		{name: "bad sysroot", args: []string{"--sysroot", filepath.Join(dir, "nope"), static}, exit: 64, has: []string{"not a directory"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCmd(t, dir, "", testEnv, xemu(t), append([]string{"explain"}, c.args...)...)
			if r.Exit != c.exit {
				t.Errorf("exit %d, want %d\n%s%s", r.Exit, c.exit, r.Stdout, r.Stderr)
			}
			if c.want != "" && withoutKernelLines(r.Stdout) != c.want {
				t.Errorf("output\n%s\nwant\n%s", r.Stdout, c.want)
			}
			for _, h := range c.has {
				if !strings.Contains(r.Stdout, h) {
					t.Errorf("output lacks %q:\n%s", h, r.Stdout)
				}
			}
		})
	}
}

// TestSubcommandNames: a program named like a command runs as ./binfmt or
// after --; the command names are taken only as the first argument.
func TestSubcommandNames(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(argvProgram(t, aarch64, "static"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "explain"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"./explain", "x"}, {"--", "explain", "x"}} {
		r := runCmd(t, dir, "", testEnv, xemu(t), args...)
		if r.Exit != 3 || !strings.HasSuffix(r.Stdout, "argv[1]=x\n") {
			t.Errorf("xemu %v: %+v", args, r)
		}
	}
	r := runCmd(t, dir, "", testEnv, xemu(t), "binfmt")
	if r.Exit != 64 || !strings.Contains(r.Stdout, "xemu binfmt install") {
		t.Errorf("xemu binfmt: %+v", r)
	}
	r = runCmd(t, dir, "", testEnv, xemu(t), "--help")
	if !strings.Contains(r.Stdout, "run a program of\nthat name as ./binfmt or after --") {
		t.Errorf("--help does not say how to run a program named binfmt:\n%s", r.Stdout)
	}
}

// TestBinfmtRegistration registers xemu with the kernel under names of its
// own, executes ARM and AArch64 programs directly, and unregisters. Other
// handlers for the same programs (qemu-user-binfmt's) are disabled for the
// test and enabled again after; nothing is left registered and /etc is not
// touched (the persistent files go to a temporary directory). Root only.
func TestBinfmtRegistration(t *testing.T) {
	testenv.NeedRoot(t, "binfmt_misc registration")
	sys := binfmt.System{Dir: binfmt.DefaultDir}
	if err := sys.Mount(); err != nil {
		testenv.Unavailable(t, "binfmt_misc: %v", err)
	}
	prefix := fmt.Sprintf("xemu-test-%d", os.Getpid())
	names := []string{prefix + "-aarch64", prefix + "-arm"}
	t.Cleanup(func() {
		for _, n := range names {
			if err := sys.Remove(n); err == nil {
				t.Errorf("%s was left registered", n)
			}
		}
	})
	binfmttest.DisableOthers(t, sys)

	var others []string
	entries, err := sys.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		others = append(others, e.Name)
	}
	// Nothing enabled claims the programs now: status says so, and its live
	// check gets exec format error from the kernel.
	x := xemu(t)
	r := runCmd(t, "/", "", testEnv, x, "binfmt", "status")
	want := "binfmt_misc: mounted at /proc/sys/fs/binfmt_misc, enabled\n"
	for _, f := range binfmt.Formats {
		want += f.Arch + ": " + f.Describe() + " programs\n" +
			"  no enabled handler: these programs fail with \"exec format error\"; fix: sudo xemu binfmt install --arch " + f.Arch + "\n" +
			"  live check: an " + f.Name() + " program executed directly fails: exec format error (no handler took it)\n"
	}
	if got := withoutHandlers(r.Stdout, others); r.Exit != 1 || got != want {
		t.Errorf("status with no handler: exit %d\n%s\nwant (other handlers' lines left out)\n%s", r.Exit, got, want)
	}

	tmp := t.TempDir()
	confDir, libDir := filepath.Join(tmp, "binfmt.d"), filepath.Join(tmp, "lib")
	dirs := []string{"--conf-dir", confDir, "--lib-dir", libDir, "--name-prefix", prefix}
	r = runCmd(t, tmp, "", testEnv, x, append([]string{"binfmt", "install", "--persistent"}, dirs...)...)
	if r.Exit != 0 {
		t.Fatalf("install: %+v", r)
	}
	interp := filepath.Join(libDir, "xemu")
	for i, f := range binfmt.Formats {
		e, err := sys.Entry(names[i])
		if err != nil {
			t.Fatalf("after install: %v", err)
		}
		if !e.Enabled || e.Interpreter != interp || e.Flags != "PF" || !e.Claims(f) {
			t.Errorf("entry %+v", e)
		}
		conf, err := os.ReadFile(filepath.Join(confDir, names[i]+".conf"))
		want := binfmt.ForFormat(names[i], f, interp, "FP").Line()
		if err != nil || !strings.Contains(string(conf), "\n"+want+"\n") {
			t.Errorf("%s.conf: %q, %v; want the line %s", names[i], conf, err, want)
		}
	}

	// Executed directly: the kernel runs xemu, which gets the program's
	// own argv[0], and arguments that look like xemu's options are the
	// program's.
	progs := map[string]string{
		"aarch64 static": argvProgram(t, aarch64, "static"),
		"armhf static":   argvProgram(t, armhfARM, "static"),
		"armhf dynamic":  argvProgram(t, armhfARM, "dynamic"),
	}
	for name, prog := range progs {
		cmd := exec.Command(prog, "--help", "-L", "x")
		cmd.Args[0] = "custom-argv0"
		cmd.Env = append(testEnv, "XEMU_SYSROOT="+armhfARM.Sysroot)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Errorf("%s: %v; stderr %s", name, err, stderr.String())
		}
		want := "argv[0]=custom-argv0\nargv[1]=--help\nargv[2]=-L\nargv[3]=x\n"
		if stdout.String() != want {
			t.Errorf("%s: stdout\n%s\nwant\n%s", name, stdout.String(), want)
		}
	}

	r = runCmd(t, tmp, "", testEnv, x, append([]string{"binfmt", "install"}, dirs...)...)
	if r.Exit != 1 || !strings.Contains(r.Stderr, "entries of the same name exist: "+names[0]) || !strings.Contains(r.Stderr, "--replace") {
		t.Errorf("install again: %+v", r)
	}
	r = runCmd(t, tmp, "", testEnv, x, "binfmt", "status")
	want = "binfmt_misc: mounted at /proc/sys/fs/binfmt_misc, enabled\n"
	for i, f := range binfmt.Formats {
		want += f.Arch + ": " + f.Describe() + " programs\n" +
			fmt.Sprintf("  %-16s %-8s flags %-4s %-5s %s (%s)%s\n", names[i], "enabled", "PF", "xemu", interp, "static", "  <- used") +
			"  live check: an " + f.Name() + " program executed directly runs\n"
	}
	if got := withoutHandlers(r.Stdout, others); r.Exit != 0 || got != want {
		t.Errorf("status: exit %d\n%s\nwant (other handlers' lines left out)\n%s", r.Exit, got, want)
	}
	// Where binfmt_misc is not mounted (a container), the handlers cannot
	// be listed but the kernel still uses them: the live checks tell.
	empty := t.TempDir()
	r = runCmd(t, tmp, "", testEnv, x, "binfmt", "status", "--binfmt-dir", empty)
	want = "binfmt_misc: not mounted at " + empty + ": its handlers cannot be listed\n"
	for _, f := range binfmt.Formats {
		want += f.Arch + ": " + f.Describe() + " programs\n" + "  live check: an " + f.Name() + " program executed directly runs\n"
	}
	if r.Exit != 0 || r.Stdout != want {
		t.Errorf("status where binfmt_misc is not mounted: exit %d\n%s\nwant\n%s", r.Exit, r.Stdout, want)
	}
	r = runCmd(t, tmp, "", testEnv, x, "explain", progs["aarch64 static"])
	if !strings.Contains(r.Stdout, "kernel:   executing it directly runs binfmt_misc handler "+names[0]+": "+interp+", flags \"PF\"") {
		t.Errorf("explain:\n%s", r.Stdout)
	}

	// Without root: one line and 77, nothing changed.
	if err := os.Chmod(filepath.Dir(x), 0o755); err == nil {
		cmd := exec.Command(x, "binfmt", "uninstall", "--name-prefix", prefix)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 77 || !strings.Contains(string(out), "needs root") {
			t.Errorf("uninstall as nobody: %v %s", err, out)
		}
	}

	r = runCmd(t, tmp, "", testEnv, x, append([]string{"binfmt", "uninstall"}, dirs...)...)
	if r.Exit != 0 {
		t.Errorf("uninstall: %+v", r)
	}
	for _, n := range names {
		if _, err := sys.Entry(n); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after uninstall: %v", n, err)
		}
		if _, err := os.Stat(filepath.Join(confDir, n+".conf")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s.conf after uninstall: %v", n, err)
		}
	}
	cmd := exec.Command(progs["aarch64 static"])
	if err := cmd.Run(); err == nil || !strings.Contains(err.Error(), "exec format error") {
		t.Errorf("after uninstall, executing an AArch64 program: %v, want exec format error", err)
	}
}

// withoutHandlers drops status's lines about the entries named (handlers
// this machine has, which the test disabled).
func withoutHandlers(status string, names []string) string {
	var keep []string
	for _, l := range strings.SplitAfter(status, "\n") {
		other := false
		for _, n := range names {
			other = other || strings.HasPrefix(l, "  "+n+" ")
		}
		if !other {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// TestMarkerNameLaunch: run by the name xemu-binfmt (what install registers
// on kernels before 5.12, which set no AT_FLAGS_PRESERVE_ARGV0), xemu takes
// its arguments as the kernel's P flag passes them: FULL-PATH ARGV0 ARGS,
// none of them options.
func TestMarkerNameLaunch(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, binfmt.MarkerName)
	if err := os.Symlink(xemu(t), link); err != nil {
		t.Fatal(err)
	}
	prog := argvProgram(t, aarch64, "static")
	r := runCmd(t, dir, "", testEnv, link, prog, "given-argv0", "--help", "-L")
	if r.Exit != 3 || r.Stdout != "argv[0]=given-argv0\nargv[1]=--help\nargv[2]=-L\n" {
		t.Errorf("%+v", r)
	}
}

// TestBinfmtPersistentReplace: install --persistent --replace keeps the
// handler it replaced out of the files systemd-binfmt registers at boot
// (here a stand-in for qemu-user-binfmt's /usr/lib/binfmt.d file), and
// uninstall brings it back: enabled again where it is still registered,
// registered again where a reboot dropped it. Root only.
func TestBinfmtPersistentReplace(t *testing.T) {
	testenv.NeedRoot(t, "binfmt_misc registration")
	sys := binfmt.System{Dir: binfmt.DefaultDir}
	if err := sys.Mount(); err != nil {
		testenv.Unavailable(t, "binfmt_misc: %v", err)
	}
	binfmttest.DisableOthers(t, sys)
	prefix := fmt.Sprintf("xemu-test-%d", os.Getpid())
	ours := prefix + "-aarch64"
	stand := binfmt.ForFormat(prefix+"-qemu-aarch64", binfmt.Formats[0], "/bin/true", "")
	t.Cleanup(func() {
		for _, n := range []string{ours, stand.Name, ours + ".replaced." + stand.Name} {
			sys.Remove(n)
		}
	})
	tmp := t.TempDir()
	confDir, libDir, bootDir := filepath.Join(tmp, "etc"), filepath.Join(tmp, "lib"), filepath.Join(tmp, "usr")
	os.MkdirAll(bootDir, 0o755)
	unrelated := ":" + prefix + "-unrelated:E::xemutestext::/bin/true:"
	bootFile := filepath.Join(bootDir, "qemu-test.conf")
	bootText := "# qemu\n" + stand.Line() + "\n" + unrelated + "\n"
	if err := os.WriteFile(bootFile, []byte(bootText), 0o644); err != nil {
		t.Fatal(err)
	}
	dirs := []string{"--conf-dir", confDir, "--lib-dir", libDir, "--boot-dirs", bootDir, "--name-prefix", prefix, "--arch", "aarch64"}
	x := xemu(t)
	atBoot := func() string {
		b, err := os.ReadFile(filepath.Join(confDir, "qemu-test.conf"))
		if err != nil {
			b, _ = os.ReadFile(bootFile)
		}
		var names []string
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" && l[0] == ':' {
				names = append(names, strings.Split(l, ":")[1])
			}
		}
		return strings.Join(names, " ")
	}
	for _, reboot := range []bool{false, true} {
		if err := sys.Register(stand); err != nil {
			t.Fatal(err)
		}
		r := runCmd(t, tmp, "", testEnv, x, append([]string{"binfmt", "install", "--persistent", "--replace"}, dirs...)...)
		if r.Exit != 0 {
			t.Fatalf("install: %+v", r)
		}
		if e, err := sys.Entry(stand.Name); err != nil || e.Enabled {
			t.Errorf("the replaced handler after install: %+v, %v; want it disabled", e, err)
		}
		if got := atBoot(); got != prefix+"-unrelated" {
			t.Errorf("registered at boot after install: %q, want the unrelated entry alone\n%s", got, r.Stdout)
		}
		if reboot {
			// What a reboot leaves: xemu's entry from its file, and
			// neither the replaced handler nor install's record of it.
			sys.Remove(stand.Name)
			sys.Remove(ours + ".replaced." + stand.Name)
		}
		r = runCmd(t, tmp, "", testEnv, x, append([]string{"binfmt", "uninstall"}, dirs...)...)
		if r.Exit != 0 {
			t.Fatalf("uninstall: %+v", r)
		}
		if e, err := sys.Entry(stand.Name); err != nil || !e.Enabled || e.Interpreter != "/bin/true" {
			t.Errorf("reboot %v: the replaced handler after uninstall: %+v, %v; want it enabled\n%s", reboot, e, err, r.Stdout)
		}
		if b, err := os.ReadFile(bootFile); string(b) != bootText || err != nil {
			t.Errorf("the boot file changed: %q, %v", b, err)
		}
		if left, _ := filepath.Glob(filepath.Join(confDir, "*")); len(left) != 0 {
			t.Errorf("reboot %v: left in the conf dir after uninstall: %v", reboot, left)
		}
		if err := sys.Remove(stand.Name); err != nil {
			t.Fatal(err)
		}
	}
}
