// Package tests runs real guest programs under xemu and compares what they do
// with qemu-user, the oracle.
package tests

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// guestArch is one guest architecture as the tests see it.
type guestArch struct {
	Name    string // as "// xemu-test: arch=" names it
	CC      string
	Qemu    string
	Sysroot string // where the cross toolchain's libraries live
	CFlags  []string
	Modes   []string // the link modes its toolchain can build (nil: all)
}

var aarch64 = guestArch{Name: "aarch64", CC: "aarch64-linux-gnu-gcc", Qemu: "qemu-aarch64", Sysroot: "/usr/aarch64-linux-gnu"}

// linkModes are the ways each guest program is built.
var linkModes = map[string][]string{
	"static":     {"-static"},
	"static-pie": {"-static-pie"},
	"dynamic":    {},
}

var (
	root     string // the repository
	xemuOnce sync.Once
	xemuBin  string
	xemuDir  string // holds xemuBin; removed when the tests end
	xemuErr  error
)

func init() {
	_, file, _, _ := runtime.Caller(0)
	root = filepath.Dir(filepath.Dir(file))
}

// xemu returns the path of the static xemu binary built from this tree: the
// first call runs make build (go build is incremental, so this is quick when
// nothing changed) and copies bin/xemu aside, so a test never runs
// yesterday's binary and another build replacing bin/xemu cannot change the
// binary under a running test. XEMU_BIN names a binary to use instead.
func xemu(t testing.TB) string {
	t.Helper()
	xemuOnce.Do(func() {
		src := os.Getenv("XEMU_BIN")
		if src == "" {
			cmd := exec.Command("make", "-C", root, "build")
			if out, err := cmd.CombinedOutput(); err != nil {
				xemuErr = fmt.Errorf("make build: %v\n%s", err, out)
				return
			}
			src = filepath.Join(root, "bin", "xemu")
		}
		data, err := os.ReadFile(src)
		if err != nil {
			xemuErr = err
			return
		}
		if xemuDir, err = os.MkdirTemp("", "xemu-test-"); err != nil {
			xemuErr = err
			return
		}
		xemuBin = filepath.Join(xemuDir, "xemu")
		xemuErr = os.WriteFile(xemuBin, data, 0o755)
	})
	if xemuErr != nil {
		t.Fatal(xemuErr)
	}
	return xemuBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if xemuDir != "" {
		os.RemoveAll(xemuDir)
	}
	os.Exit(code)
}

// xemuFailure matches what xemu itself prints when it is broken rather than
// the guest: a Go panic or fatal error with its goroutine traceback, or an
// internal error caught by the syscall layer. Guest programs print none of it.
var xemuFailure = regexp.MustCompile(`(?m)goroutine \d+ \[|^panic: |^fatal error: |\bruntime\.[A-Za-z_]+\(|internal error`)

// checkXemuStderr fails the test when xemu's stderr shows xemu failing.
func checkXemuStderr(t testing.TB, args []string, stderr string) {
	t.Helper()
	if loc := xemuFailure.FindStringIndex(stderr); loc != nil {
		t.Errorf("xemu %v: xemu failed (%q):\n%s", args, stderr[loc[0]:loc[1]], stderr)
	}
}

// outDir caches compiled guest programs.
func outDir(t testing.TB) string {
	d := filepath.Join(root, "tests", "out")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// compile builds a guest C program for arch in a link mode, cached by the
// hash of its source and flags.
func compile(t testing.TB, a guestArch, src, mode string, extra ...string) string {
	t.Helper()
	code, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	flags := append([]string{"-O2", "-Wall", "-Wno-unused-result"}, linkModes[mode]...)
	flags = append(flags, a.CFlags...)
	flags = append(flags, extra...)
	h := sha256.New()
	h.Write(code)
	// The headers beside the source (check.h) are part of it.
	headers, _ := filepath.Glob(filepath.Join(filepath.Dir(src), "*.h"))
	for _, hdr := range headers {
		b, err := os.ReadFile(hdr)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	fmt.Fprint(h, a.CC, flags)
	name := strings.TrimSuffix(filepath.Base(src), ".c")
	out := filepath.Join(outDir(t), fmt.Sprintf("%s-%s-%s-%s", name, a.Name, mode, hex.EncodeToString(h.Sum(nil))[:12]))
	if _, err := os.Stat(out); err == nil {
		return out
	}
	tmp := fmt.Sprintf("%s.tmp%d", out, os.Getpid())
	args := append(flags, "-o", tmp, src, "-lm")
	if b, err := exec.Command(a.CC, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", a.CC, args, err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// result is what a program did.
type result struct {
	Stdout, Stderr string
	Exit           int // exit status, or 128+signal
}

// runCmd runs a command in dir with stdin and an environment, with a time
// limit of two minutes.
func runCmd(t testing.TB, dir, stdin string, env []string, name string, args ...string) result {
	t.Helper()
	return runCmdLimit(t, 2*time.Minute, dir, stdin, env, name, args...)
}

// runCmdLimit is runCmd with a time limit of its own.
func runCmdLimit(t testing.TB, limit time.Duration, dir, stdin string, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The program and whatever it starts form a process group of their
	// own, which goes when the run ends: a child left behind (a test that
	// failed before killing it) would otherwise hold the output pipes, and
	// Wait, which reads them to the end, with them.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = leftOverDelay
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	killGroup := func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(limit):
		killGroup()
		<-done
		t.Fatalf("%s %v: timed out", name, args)
	}
	killGroup()
	if errors.Is(err, exec.ErrWaitDelay) {
		t.Errorf("%s %v: a process it started still held its output %v after it exited", name, args, leftOverDelay)
		err = nil
	}
	r := result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.Exit = 128 + int(ws.Signal())
		} else {
			r.Exit = ws.ExitStatus()
		}
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if name == xemuBin {
		checkXemuStderr(t, args, r.Stderr)
	}
	return r
}

// leftOverDelay is how long a run's output may stay open after the program
// exited, held by a process it started.
const leftOverDelay = 10 * time.Second

// testEnv is the environment guest programs get: small and fixed, so xemu and
// qemu see the same.
var testEnv = []string{"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C", "TZ=UTC"}

// runBoth runs a guest program (host path prog, guest args) under xemu and
// under qemu-user, each in a fresh directory of the same shape.
func runBoth(t *testing.T, a guestArch, sysroot, stdin string, prog string, args ...string) (x, q result) {
	t.Helper()
	return runBothNofile(t, a, sysroot, stdin, "", prog, args...)
}

// runBothNofile is runBoth with a soft RLIMIT_NOFILE to start both with
// ("": the test's).
func runBothNofile(t *testing.T, a guestArch, sysroot, stdin, nofile string, prog string, args ...string) (x, q result) {
	t.Helper()
	xdir, qdir := t.TempDir(), t.TempDir()
	xargs := []string{}
	qargs := []string{}
	if sysroot != "" {
		xargs = append(xargs, "--sysroot", sysroot)
		qargs = append(qargs, "-L", sysroot)
	}
	xargs = append(append(xargs, prog), args...)
	qargs = append(append(qargs, prog), args...)
	x = runNofile(t, xdir, stdin, nofile, xemu(t), xargs...)
	q = runNofile(t, qdir, stdin, nofile, a.Qemu, qargs...)
	return x, q
}

// runNofile runs a guest program's command with a soft RLIMIT_NOFILE of
// nofile (prlimit(1) sets it and executes the command), or as it comes.
func runNofile(t *testing.T, dir, stdin, nofile string, name string, args ...string) result {
	t.Helper()
	if nofile == "" {
		return runCmdLimit(t, guestLimit, dir, stdin, testEnv, name, args...)
	}
	r := runCmdLimit(t, guestLimit, dir, stdin, testEnv, "prlimit", append([]string{"--nofile=" + nofile + ":", "--", name}, args...)...)
	if name == xemuBin {
		checkXemuStderr(t, args, r.Stderr)
	}
	return r
}

// guestLimit bounds one run of a guest program: each takes a few seconds at
// most, and one waiting for a signal that never comes should not hold up
// the whole suite.
const guestLimit = time.Minute

// compare reports differences between xemu's and qemu's results.
func compare(t *testing.T, what string, x, q result) {
	t.Helper()
	if x.Stdout != q.Stdout {
		t.Errorf("%s: stdout differs\n--- xemu\n%s\n--- qemu\n%s\n--- xemu stderr\n%s", what, x.Stdout, q.Stdout, x.Stderr)
	}
	if x.Exit != q.Exit {
		t.Errorf("%s: exit status xemu %d, qemu %d\n--- xemu stderr\n%s\n--- qemu stderr\n%s", what, x.Exit, q.Exit, x.Stderr, q.Stderr)
	}
}

// directives are read from "// xemu-test: key=value" lines in a guest source.
type directives struct {
	Args  []string
	Stdin string
	Modes []string
	// Arch lists the architectures the program is written for (arch=);
	// empty means all.
	Arch []string
	// Nofile (nofile=N): xemu and the oracle start with a soft
	// RLIMIT_NOFILE of N, below the hard limit (as on most systems, where
	// the Go runtime raises its own).
	Nofile string
	// SelfCheck (oracle=self): the program knows the right answers itself
	// and exits 0 only if it got them; it runs under xemu alone. For what
	// qemu-user gets wrong.
	SelfCheck bool
}

// runsOn reports whether the program is for architecture a in link mode.
func (d directives) runsOn(a guestArch, mode string) bool {
	if len(d.Arch) > 0 && !slices.Contains(d.Arch, a.Name) {
		return false
	}
	return a.Modes == nil || slices.Contains(a.Modes, mode)
}

func readDirectives(t testing.TB, src string) directives {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	d := directives{Modes: []string{"static", "static-pie", "dynamic"}}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "// xemu-test:")
		if !ok {
			continue
		}
		key, val, _ := strings.Cut(strings.TrimSpace(rest), "=")
		switch key {
		case "args":
			d.Args = strings.Fields(val)
		case "stdin":
			d.Stdin = strings.ReplaceAll(val, `\n`, "\n")
		case "modes":
			d.Modes = strings.Split(val, ",")
		case "arch":
			d.Arch = strings.Split(val, ",")
		case "nofile":
			d.Nofile = val
		case "oracle":
			d.SelfCheck = val == "self"
		}
	}
	return d
}

// TestGuestPrograms builds every tests/guest/*.c program in every link mode and
// checks that xemu prints and exits exactly as qemu-user does.
func TestGuestPrograms(t *testing.T) {
	srcs, _ := filepath.Glob(filepath.Join(root, "tests", "guest", "*.c"))
	if len(srcs) == 0 {
		t.Fatal("no guest programs")
	}
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		d := readDirectives(t, src)
		for _, mode := range d.Modes {
			if !d.runsOn(aarch64, mode) {
				continue
			}
			t.Run(name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				runGuestProgram(t, aarch64, src, name, mode, d)
			})
		}
	}
}

// runGuestProgram builds one guest program for a in a link mode and checks
// it: against qemu-user, or by its own verdict (oracle=self).
func runGuestProgram(t *testing.T, a guestArch, src, name, mode string, d directives) {
	prog := compile(t, a, src, mode)
	sysroot := ""
	if mode == "dynamic" {
		sysroot = a.Sysroot
	}
	if d.SelfCheck {
		var args []string
		if sysroot != "" {
			args = append(args, "--sysroot", sysroot)
		}
		x := runNofile(t, t.TempDir(), d.Stdin, d.Nofile, xemu(t), append(append(args, prog), d.Args...)...)
		if x.Exit != 0 {
			t.Errorf("%s %s: exit status %d\n--- stdout\n%s\n--- stderr\n%s", name, mode, x.Exit, x.Stdout, x.Stderr)
		}
		return
	}
	x, q := runBothNofile(t, a, sysroot, d.Stdin, d.Nofile, prog, d.Args...)
	compare(t, name+" "+mode, x, q)
}

// TestXemuFailurePattern pins what checkXemuStderr takes for xemu failing.
func TestXemuFailurePattern(t *testing.T) {
	failing := []string{
		"panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n",
		"fatal error: unexpected signal during runtime execution\n[signal SIGSEGV: segmentation violation]\n",
		"SIGSEGV: segmentation violation\nPC=0x4a2b3c m=0 sigcode=1\n\ngoroutine 0 [idle]:\n",
		"runtime.sigpanic()\n\t/usr/local/go/src/runtime/signal_unix.go:917 +0x3e5\n",
		"xemu: internal error in openat: boom (please report)\n",
	}
	guest := []string{
		"",
		"xemu: /bin/true: x86-64 ELF; xemu runs ARM and AArch64 programs\n",
		"cat: can't open 'nonexistent': No such file or directory\n",
		"Fatal Python error: Segmentation fault\n\nCurrent thread 0x0000005500b51420 (most recent call first):\n",
		"Traceback (most recent call last):\n  File \"spin.py\", line 9, in <module>\nKeyboardInterrupt\n",
		"qemu: uncaught target signal 11 (Segmentation fault) - core dumped\n",
	}
	for _, s := range failing {
		if !xemuFailure.MatchString(s) {
			t.Errorf("not taken for a failure: %q", s)
		}
	}
	for _, s := range guest {
		if xemuFailure.MatchString(s) {
			t.Errorf("taken for a failure: %q", s)
		}
	}
}
