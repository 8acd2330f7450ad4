package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Python's signal machinery on real Debian arm64 binaries: python3.11-minimal
// and its run-time dependencies, unpacked by make fixtures into
// .cache/python-arm64, which is also the sysroot. Expected outputs follow
// Python's documentation (signal, faulthandler, PEP 475); qemu-aarch64 runs
// the same scripts as a check.

func pythonSysroot(t *testing.T) string {
	t.Helper()
	d := filepath.Join(root, ".cache", "python-arm64")
	requireFile(t, filepath.Join(d, ".done"), "make fixtures downloads it")
	return d
}

// pythonScripts writes scripts into a fresh directory.
func pythonScripts(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const pyAlarm = `import signal, time
def on_alarm(sig, frame):
    print("handler:", signal.Signals(sig).name, "in", frame.f_code.co_name, flush=True)
signal.signal(signal.SIGALRM, on_alarm)
print("alarm(1) returns", signal.alarm(1))
def waiting():
    signal.pause()
waiting()
print("pause returned")
# PEP 475: a sleep interrupted by a handler that returns goes on sleeping.
signal.setitimer(signal.ITIMER_REAL, 0.05)
t = time.monotonic()
time.sleep(0.3)
print("sleep ran to its end:", time.monotonic() - t >= 0.3)
class Timeout(Exception):
    pass
def raiser(sig, frame):
    raise Timeout()
signal.signal(signal.SIGALRM, raiser)
signal.setitimer(signal.ITIMER_REAL, 0.05)
try:
    time.sleep(5)
    print("not reached")
except Timeout:
    print("handler's exception interrupted the sleep")
signal.signal(signal.SIGALRM, signal.SIG_DFL)
print("getsignal default:", signal.getsignal(signal.SIGALRM) == signal.SIG_DFL)
`

const pyAlarmWant = `alarm(1) returns 0
handler: SIGALRM in waiting
pause returned
handler: SIGALRM in <module>
sleep ran to its end: True
handler's exception interrupted the sleep
getsignal default: True
`

// faulthandler.register dumps the stack on a signal and lets the program go
// on; enable() dumps it on a fatal signal (run on faulthandler's own
// alternate stack) and then lets the signal kill the process.
const pyFault = `import faulthandler, os, signal, sys
if sys.argv[1] == "register":
    faulthandler.register(signal.SIGUSR1, file=sys.stdout, all_threads=False)
    def dump():
        os.kill(os.getpid(), signal.SIGUSR1)
    dump()
    print("still running", flush=True)
    sys.exit(0)
faulthandler.enable()
print("enabled:", faulthandler.is_enabled(), flush=True)
def crash():
    if sys.argv[1] == "sigsegv":
        faulthandler._sigsegv()
    else:
        os.kill(os.getpid(), signal.SIGSEGV)
crash()
`

// TestPythonSignals runs signal.alarm/pause/setitimer and faulthandler
// scripts under xemu and qemu-aarch64.
func TestPythonSignals(t *testing.T) {
	sysroot := pythonSysroot(t)
	py := filepath.Join(sysroot, "usr", "bin", "python3.11")
	dir := pythonScripts(t, map[string]string{"alarm.py": pyAlarm, "fault.py": pyFault})
	// Each script takes a few seconds; a minute is plenty even when a
	// signal never comes.
	runBothIn := func(t *testing.T, _ guestArch, dir, sysroot, prog string, args ...string) (x, q result) {
		t.Helper()
		x = runCmdLimit(t, time.Minute, dir, "", testEnv, xemu(t), append([]string{"--sysroot", sysroot, prog}, args...)...)
		q = runCmdLimit(t, time.Minute, dir, "", testEnv, aarch64.Qemu, append([]string{"-L", sysroot, prog}, args...)...)
		return x, q
	}

	t.Run("alarm", func(t *testing.T) {
		x, q := runBothIn(t, aarch64, dir, sysroot, py, "-I", "alarm.py")
		compare(t, "alarm.py", x, q)
		if x.Stdout != pyAlarmWant || x.Exit != 0 {
			t.Errorf("xemu: exit %d, stdout\n%s\nwant\n%s\nstderr\n%s", x.Exit, x.Stdout, pyAlarmWant, x.Stderr)
		}
	})

	script := filepath.Join(dir, "fault.py")
	t.Run("faulthandler.register", func(t *testing.T) {
		x, q := runBothIn(t, aarch64, dir, sysroot, py, "-I", "fault.py", "register")
		compare(t, "fault.py register", x, q)
		want := "Stack (most recent call first):\n" +
			`  File "` + script + `", line 5 in dump` + "\n" +
			`  File "` + script + `", line 6 in <module>` + "\n" +
			"still running\n"
		if x.Stdout != want || x.Exit != 0 {
			t.Errorf("xemu: exit %d, stdout\n%s\nwant\n%s\nstderr\n%s", x.Exit, x.Stdout, want, x.Stderr)
		}
	})

	// The traceback faulthandler writes to stderr, less its thread ID.
	thread := regexp.MustCompile(`Current thread 0x[0-9a-f]+`)
	for how, line := range map[string]int{"sigsegv": 13, "kill": 15} {
		t.Run("faulthandler.enable/"+how, func(t *testing.T) {
			x, q := runBothIn(t, aarch64, dir, sysroot, py, "-I", "fault.py", how)
			compare(t, "fault.py "+how, x, q)
			want := "Fatal Python error: Segmentation fault\n\n" +
				"Current thread (most recent call first):\n" +
				`  File "` + script + `", line ` + strconv.Itoa(line) + " in crash\n" +
				`  File "` + script + `", line 16 in <module>` + "\n"
			for _, r := range []struct {
				who string
				res result
			}{{"xemu", x}, {"qemu", q}} {
				got := thread.ReplaceAllString(r.res.Stderr, "Current thread")
				if !strings.HasPrefix(got, want) {
					t.Errorf("%s stderr:\n%s\nwant it to start with\n%s", r.who, r.res.Stderr, want)
				}
			}
			if x.Exit != 128+int(syscall.SIGSEGV) || x.Stdout != "enabled: True\n" {
				t.Errorf("xemu: exit %d stdout %q", x.Exit, x.Stdout)
			}
		})
	}
}

// pyInterrupt spins in the interpreter until SIGINT: caught as
// KeyboardInterrupt, handled by a Python handler, or not caught at all.
const pyInterrupt = `import signal, sys
if sys.argv[1] == "handler":
    def on_int(sig, frame):
        print("handler:", signal.Signals(sig).name, flush=True)
        sys.exit(0)
    signal.signal(signal.SIGINT, on_int)
print("ready", flush=True)
if sys.argv[1] == "uncaught":
    while True:
        pass
try:
    while True:
        pass
except KeyboardInterrupt:
    print("KeyboardInterrupt caught", flush=True)
`

// TestPythonKeyboardInterrupt sends SIGINT to a Python loop of pure
// bytecode: the default handler raises KeyboardInterrupt, a Python handler
// runs, and an uncaught KeyboardInterrupt makes Python die of SIGINT after
// its traceback (Python 3.8 and later: "exit by signal" so the shell sees
// the interrupt).
func TestPythonKeyboardInterrupt(t *testing.T) {
	sysroot := pythonSysroot(t)
	py := filepath.Join(sysroot, "usr", "bin", "python3.11")
	dir := pythonScripts(t, map[string]string{"spin.py": pyInterrupt})
	cases := []struct {
		how, want string
	}{
		{"caught", "KeyboardInterrupt caught"},
		{"handler", "handler: SIGINT"},
		{"uncaught", ""},
	}
	for _, c := range cases {
		for _, emu := range []string{"xemu", aarch64.Qemu} {
			t.Run(c.how+"/"+emu, func(t *testing.T) {
				var args []string
				if emu == "xemu" {
					args = []string{"--sysroot", sysroot}
				} else {
					args = []string{"-L", sysroot}
				}
				g := start(t, emulator(t, emu), append(args, py, "-I", filepath.Join(dir, "spin.py"), c.how)...)
				if l, ok := g.line(60 * time.Second); l != "ready" {
					t.Fatalf("first line %q (%v), want ready; stderr %s", l, ok, g.stderr.String())
				}
				time.Sleep(100 * time.Millisecond)
				sent := time.Now()
				if err := g.cmd.Process.Signal(syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				if c.want != "" {
					l, ok := g.line(5 * time.Second)
					if l != c.want {
						t.Fatalf("after SIGINT: line %q (%v), want %q; stderr %q", l, ok, c.want, g.stderr.String())
					}
					t.Logf("kill to output: %v", time.Since(sent))
				}
				ws, ok := g.wait(t, 5*time.Second)
				if !ok {
					t.Fatalf("still running 5 s after SIGINT")
				}
				if c.how == "uncaught" {
					if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
						t.Errorf("wait status %#x, want death by SIGINT", uint32(ws))
					}
					if !strings.Contains(g.stderr.String(), "Traceback (most recent call last):") ||
						!strings.HasSuffix(g.stderr.String(), "KeyboardInterrupt\n") {
						t.Errorf("stderr %q, want a traceback ending in KeyboardInterrupt", g.stderr.String())
					}
				} else if ws.Signaled() || ws.ExitStatus() != 0 {
					t.Errorf("wait status %#x, want exit 0; stderr %q", uint32(ws), g.stderr.String())
				}
				if emu == "xemu" {
					checkXemuStderr(t, args, g.stderr.String())
				}
			})
		}
	}
}
