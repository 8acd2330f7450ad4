package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIErrors: bad input gets one clear line and a distinct exit status,
// never a Go panic or a stack trace.
func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	hello := compile(t, aarch64, filepath.Join(root, "tests", "guest", "hello.c"), "dynamic")
	full, err := os.ReadFile(compile(t, aarch64, filepath.Join(root, "tests", "guest", "hello.c"), "static"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := write("truncated", full[:100])
	halfSegments := write("half", full[:len(full)/3])
	script := write("script.txt", []byte("hello\n"))
	static := write("hello-static", full)
	cases := []struct {
		name string
		args []string
		exit int
		want string
	}{
		{"wrong architecture", []string{"/bin/true"}, 126, "x86-64 ELF; xemu runs ARM and AArch64 programs"},
		{"not ELF", []string{script}, 126, "not an ELF file"},
		{"truncated header", []string{truncated}, 126, "truncated"},
		{"truncated segments", []string{halfSegments}, 126, ""},
		{"missing program", []string{filepath.Join(dir, "nope")}, 127, "no such file"},
		{"directory", []string{dir}, 126, ""},
		{"missing interpreter", []string{hello}, 125, "needs /lib/ld-linux-aarch64.so.1: pass --sysroot DIR that contains it"},
		{"bad flag", []string{"--frobnicate", hello}, 64, "unknown flag"},
		{"no program", []string{}, 64, "no program given"},
		{"bad sysroot", []string{"--sysroot", filepath.Join(dir, "nope"), hello}, 64, "not a directory"},
		{"bad exec state", []string{"--exec-state=mask=0,ignore=0,rlimit9=10:5", static}, 64, "bad limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCmd(t, dir, "", testEnv, xemu(t), c.args...)
			if r.Exit != c.exit {
				t.Errorf("exit %d, want %d; stderr %q", r.Exit, c.exit, r.Stderr)
			}
			lines := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "xemu: ") {
				t.Errorf("stderr is not one xemu line: %q", r.Stderr)
			}
			if !strings.Contains(r.Stderr, c.want) {
				t.Errorf("stderr %q does not say %q", r.Stderr, c.want)
			}
			if strings.Contains(r.Stderr, "goroutine") || strings.Contains(r.Stderr, "panic") {
				t.Errorf("stack trace: %s", r.Stderr)
			}
		})
	}
}

func TestCLIInfo(t *testing.T) {
	r := runCmd(t, t.TempDir(), "", testEnv, xemu(t), "--version")
	if r.Exit != 0 || !strings.HasPrefix(r.Stdout, "xemu ") {
		t.Errorf("--version: %+v", r)
	}
	r = runCmd(t, t.TempDir(), "", testEnv, xemu(t), "--help")
	for _, want := range []string{"--sysroot", "--strace", "-E", "-U", "--argv0", "125"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// TestStrace: --strace names every call with decoded arguments, and an
// unsupported call is named with ENOSYS.
func TestStrace(t *testing.T) {
	src := filepath.Join(t.TempDir(), "strace.c")
	os.WriteFile(src, []byte(`#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
	int fd = open("/nonexistent-xemu", O_RDONLY);
	long r = syscall(244); /* no such AArch64 call */
	write(1, "hi\n", 3);
	return fd == -1 && r == -1 ? 0 : 1;
}
`), 0o644)
	prog := compile(t, aarch64, src, "static")
	log := filepath.Join(t.TempDir(), "log")
	r := runCmd(t, t.TempDir(), "", testEnv, xemu(t), "--strace-file", log, prog)
	if r.Exit != 0 || r.Stdout != "hi\n" {
		t.Fatalf("run: %+v", r)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, want := range []string{
		`openat(AT_FDCWD, "/nonexistent-xemu", O_RDONLY, 0x0) = -1 ENOENT`,
		`syscall_244(`,
		`= -1 ENOSYS`,
		`write(1, "hi\n", 3) = 3`,
		`exit_group(0)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("strace lacks %q:\n%s", want, out)
		}
	}
}

// TestGuestSignalDeath: a guest killed by a signal kills xemu with it.
func TestGuestSignalDeath(t *testing.T) {
	src := filepath.Join(t.TempDir(), "segv.c")
	os.WriteFile(src, []byte("int main(void) { *(volatile int *)16 = 1; return 0; }\n"), 0o644)
	prog := compile(t, aarch64, src, "static")
	x, q := runBoth(t, aarch64, "", "", prog)
	compare(t, "segv", x, q)
	if !strings.Contains(x.Stderr, "write of unmapped address 0x10") {
		t.Errorf("stderr %q", x.Stderr)
	}
}

// TestEnvironmentOrder: the guest gets xemu's environment as it is, in
// order, whatever its last entries are (xemu borrows one entry while its Go
// runtime starts and sets it and those after it again: cpu/oneproc.c).
func TestEnvironmentOrder(t *testing.T) {
	src := filepath.Join(t.TempDir(), "env.c")
	os.WriteFile(src, []byte(`#include <stdio.h>
extern char **environ;
int main(void) {
	for (char **e = environ; *e; e++)
		puts(*e);
	return 0;
}
`), 0o644)
	prog := compile(t, aarch64, src, "static")
	for _, env := range [][]string{
		{"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C", "TZ=UTC"},
		{"PATH=/usr/bin:/bin", "B=2", "A=1", "GOFLAGS=-x", "XEMU_NOTHING=1", "C=3", "GOFLAGS2=y"},
		{"XEMU_NOTHING=1", "GOFLAGS=-x"},
		{"A=1", "NOEQUALS", "B=2"},
		{"GOMAXPROCS=2", "A=1"},
	} {
		r := runCmd(t, t.TempDir(), "", env, xemu(t), prog)
		if want := strings.Join(env, "\n") + "\n"; r.Exit != 0 || r.Stdout != want {
			t.Errorf("environment %q: exit %d, guest's environment:\n%s", env, r.Exit, r.Stdout)
		}
	}
}
