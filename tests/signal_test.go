package tests

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// spinner waits for a signal from outside, in one of three ways (argv[1]):
// "branch" spins on a branch to itself and "count" on a register counter,
// neither making a system call nor touching memory, so an emulator must
// interrupt translated code to deliver; "read" blocks in read(2) on stdin.
// With argv[2] "handler" a SIGINT handler prints and exits 0; with
// "resume" SIGINT and SIGCONT handlers print and return, and the program
// exits 0 after the third SIGINT; with "restart" it reads stdin twice with
// an SA_RESTART handler for SIGINT and a plain one for SIGUSR1, printing
// what each read returns; with "sleep" it ignores SIGUSR1 and sleeps 700 ms
// in nanosleep; otherwise the default actions apply.
const spinner = `
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void on_int(int sig) {
	static const char msg[] = "SIGINT handled\n";
	(void)sig;
	write(1, msg, sizeof msg - 1);
	_exit(0);
}

static volatile int ints;

static void count_int(int sig) {
	char msg[] = "SIGINT n\n";
	(void)sig;
	msg[7] = '0' + ++ints;
	write(1, msg, sizeof msg - 1);
}

static void on_cont(int sig) {
	(void)sig;
	write(1, "SIGCONT handled\n", 16);
}

int main(int argc, char **argv) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	if (argc > 2 && strcmp(argv[2], "handler") == 0) {
		sa.sa_handler = on_int;
		sigaction(SIGINT, &sa, NULL);
	}
	if (argc > 2 && strcmp(argv[2], "restart") == 0) {
		sa.sa_handler = count_int;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGINT, &sa, NULL);
		sa.sa_flags = 0;
		sigaction(SIGUSR1, &sa, NULL);
		write(1, "ready\n", 6);
		for (int i = 0; i < 2; i++) {
			char c[2], msg[] = "read returned ?\n";
			long r = read(0, c, 2);
			msg[14] = r < 0 ? (errno == EINTR ? 'I' : 'E') : '0' + r;
			write(1, msg, sizeof msg - 1);
		}
		return 0;
	}
	if (argc > 2 && strcmp(argv[2], "sleep") == 0) {
		signal(SIGUSR1, SIG_IGN);
		struct timespec t0, t1, req = {0, 700000000};
		clock_gettime(CLOCK_MONOTONIC, &t0);
		write(1, "ready\n", 6);
		int r = nanosleep(&req, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		write(1, r == 0 && ms >= 700 ? "slept 700 ms\n" : "woken early\n", r == 0 && ms >= 700 ? 13 : 12);
		return 0;
	}
	if (argc > 2 && strcmp(argv[2], "resume") == 0) {
		sa.sa_handler = count_int;
		sigaction(SIGINT, &sa, NULL);
		sa.sa_handler = on_cont;
		sigaction(SIGCONT, &sa, NULL);
		write(1, "ready\n", 6);
		unsigned long n = 0;
		while (ints < 3)
			__asm__ volatile("add %0, %0, #1" : "+r"(n));
		write(1, "done\n", 5);
		return 0;
	}
	write(1, "ready\n", 6);
	if (strcmp(argv[1], "branch") == 0) {
		__asm__ volatile("1: b 1b");
	} else if (strcmp(argv[1], "count") == 0) {
		unsigned long n = 0;
		for (;;)
			__asm__ volatile("add %0, %0, #1" : "+r"(n));
	} else {
		char c;
		read(0, &c, 1);
		write(1, "read returned\n", 14);
	}
	return 3;
}
`

// running is a guest started under an emulator whose output is read line
// by line.
type running struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr bytes.Buffer
	stdin  io.WriteCloser
	done   chan error
}

func start(t *testing.T, name string, args ...string) *running {
	t.Helper()
	r := &running{cmd: exec.Command(name, args...), lines: make(chan string, 16), done: make(chan error, 1)}
	r.cmd.Dir = t.TempDir()
	r.cmd.Env = testEnv
	// A process group of its own whose parent (this test) is in the same
	// session: not an orphaned group, so SIGTSTP's default action stops
	// it however the tests were started (Linux ignores SIGTSTP, SIGTTIN
	// and SIGTTOU in orphaned groups, as under setsid or nohup).
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r.cmd.Stderr = &r.stderr
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
		r.done <- r.cmd.Wait()
	}()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		r.stdin.Close()
	})
	return r
}

// line waits up to d for the next line of output ("" and false at EOF or
// on timeout).
func (r *running) line(d time.Duration) (string, bool) {
	select {
	case l, ok := <-r.lines:
		return l, ok
	case <-time.After(d):
		return "", false
	}
}

// wait waits up to d for the process to end and returns its wait status.
func (r *running) wait(t *testing.T, d time.Duration) (syscall.WaitStatus, bool) {
	t.Helper()
	for {
		select {
		case _, ok := <-r.lines:
			if ok {
				continue
			}
			select {
			case <-r.done:
				return r.cmd.ProcessState.Sys().(syscall.WaitStatus), true
			case <-time.After(d):
				return 0, false
			}
		case <-time.After(d):
			return 0, false
		}
	}
}

// spinnerRun is one emulator running the spinner built for one guest.
type spinnerRun struct {
	name, emu string
	a         guestArch
}

// spinnerRuns are the emulators and guests the signal tests run: xemu and,
// as a check on the test itself, qemu-user.
func spinnerRuns() []spinnerRun {
	var runs []spinnerRun
	for _, a := range []guestArch{aarch64, armhfThumb} {
		isa := a.Name + strings.Join(a.CFlags, "")
		for _, emu := range []string{"xemu", a.Qemu} {
			runs = append(runs, spinnerRun{isa + "/" + emu, emu, a})
		}
	}
	return runs
}

func emulator(t *testing.T, emu string) string {
	if emu == "xemu" {
		return xemu(t)
	}
	return emu
}

// TestSignalFromOutside: SIGINT sent to xemu reaches the guest's handler
// while the guest spins in translated code or blocks in a system call, and
// the guest exits through it within 5 s. The time from kill to the
// handler's output is logged, never asserted.
func TestSignalFromOutside(t *testing.T) {
	src := filepath.Join(t.TempDir(), "spinner.c")
	if err := os.WriteFile(src, []byte(spinner), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range spinnerRuns() {
		for _, how := range []string{"branch", "count", "read"} {
			t.Run(r.name+"/"+how, func(t *testing.T) {
				prog := compile(t, r.a, src, "static")
				g := start(t, emulator(t, r.emu), prog, how, "handler")
				if l, ok := g.line(30 * time.Second); l != "ready" {
					t.Fatalf("first line %q (%v), want ready; stderr %s", l, ok, g.stderr.String())
				}
				time.Sleep(50 * time.Millisecond) // into the loop or the read
				sent := time.Now()
				if err := g.cmd.Process.Signal(syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				l, ok := g.line(5 * time.Second)
				latency := time.Since(sent)
				if l != "SIGINT handled" {
					if !ok {
						ws, _ := g.wait(t, time.Second)
						t.Fatalf("after SIGINT: no handler output; wait status %#x (signaled %v: %v); stderr %q",
							uint32(ws), ws.Signaled(), ws.Signal(), g.stderr.String())
					}
					t.Fatalf("after SIGINT: line %q, want the handler's; stderr %q", l, g.stderr.String())
				}
				t.Logf("%s: kill to handler output %v", r.name, latency)
				ws, ok := g.wait(t, 5*time.Second)
				if !ok {
					t.Fatalf("still running 5 s after the handler printed")
				}
				if ws.Signaled() || ws.ExitStatus() != 0 {
					t.Errorf("wait status %#x (signaled %v, exit %d), want exit 0", ws, ws.Signaled(), ws.ExitStatus())
				}
				if r.emu == "xemu" {
					checkXemuStderr(t, []string{prog, how}, g.stderr.String())
				}
			})
		}
	}
}

// TestSignalDeathFromOutside: a guest without handlers killed by SIGTERM
// from outside makes xemu die of SIGTERM itself (as a native process would,
// so a shell sees 143), printing nothing.
func TestSignalDeathFromOutside(t *testing.T) {
	src := filepath.Join(t.TempDir(), "spinner.c")
	if err := os.WriteFile(src, []byte(spinner), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range spinnerRuns() {
		for _, how := range []string{"count", "read"} {
			t.Run(r.name+"/"+how, func(t *testing.T) {
				prog := compile(t, r.a, src, "static")
				g := start(t, emulator(t, r.emu), prog, how)
				if l, ok := g.line(30 * time.Second); l != "ready" {
					t.Fatalf("first line %q (%v), want ready; stderr %s", l, ok, g.stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
				if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				ws, ok := g.wait(t, 5*time.Second)
				if !ok {
					t.Fatalf("still running 5 s after SIGTERM")
				}
				if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
					t.Errorf("wait status %#x, want death by SIGTERM", ws)
				}
				if g.stderr.Len() != 0 {
					t.Errorf("stderr: %q, want nothing", g.stderr.String())
				}
			})
		}
	}
}

// processState is the state letter of /proc/PID/stat ("R", "S", "T", ...).
func processState(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	_, after, ok := strings.Cut(string(b), ") ")
	if !ok || after == "" {
		return ""
	}
	return after[:1]
}

// waitState waits up to 5 s for the process to be in state want.
func waitState(pid int, want string) bool {
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if processState(pid) == want {
			return true
		}
	}
	return false
}

// TestSignalResume: handlers that return let the spinning guest go on:
// three SIGINTs from outside, each handled and returned from; SIGSTOP
// stops xemu and SIGCONT resumes it and runs the guest's SIGCONT handler;
// SIGTSTP, whose default action is to stop, stops xemu too.
func TestSignalResume(t *testing.T) {
	src := filepath.Join(t.TempDir(), "spinner.c")
	if err := os.WriteFile(src, []byte(spinner), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range spinnerRuns() {
		t.Run(r.name, func(t *testing.T) {
			prog := compile(t, r.a, src, "static")
			g := start(t, emulator(t, r.emu), prog, "count", "resume")
			pid := g.cmd.Process.Pid
			expect := func(want string) {
				t.Helper()
				if l, ok := g.line(5 * time.Second); l != want {
					t.Fatalf("line %q (%v), want %q; stderr %q", l, ok, want, g.stderr.String())
				}
			}
			if l, ok := g.line(30 * time.Second); l != "ready" {
				t.Fatalf("first line %q (%v), want ready; stderr %s", l, ok, g.stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
			g.cmd.Process.Signal(syscall.SIGINT)
			expect("SIGINT 1")
			g.cmd.Process.Signal(syscall.SIGSTOP)
			if !waitState(pid, "T") {
				t.Fatalf("not stopped by SIGSTOP: state %q", processState(pid))
			}
			g.cmd.Process.Signal(syscall.SIGCONT)
			expect("SIGCONT handled")
			g.cmd.Process.Signal(syscall.SIGINT)
			expect("SIGINT 2")
			g.cmd.Process.Signal(syscall.SIGTSTP)
			if !waitState(pid, "T") {
				t.Fatalf("not stopped by SIGTSTP: state %q", processState(pid))
			}
			g.cmd.Process.Signal(syscall.SIGCONT)
			expect("SIGCONT handled")
			g.cmd.Process.Signal(syscall.SIGINT)
			expect("SIGINT 3")
			expect("done")
			ws, ok := g.wait(t, 5*time.Second)
			if !ok {
				t.Fatalf("still running 5 s after done")
			}
			if ws.Signaled() || ws.ExitStatus() != 0 {
				t.Errorf("wait status %#x, want exit 0", uint32(ws))
			}
			if r.emu == "xemu" {
				checkXemuStderr(t, []string{prog}, g.stderr.String())
			}
		})
	}
}

// TestSignalRestartFromOutside: a signal from outside interrupts a guest
// blocked in read(2) inside xemu. With SA_RESTART the handler runs and the
// read goes on (and returns the bytes written later); without it the read
// fails with EINTR ("read returned I").
func TestSignalRestartFromOutside(t *testing.T) {
	src := filepath.Join(t.TempDir(), "spinner.c")
	if err := os.WriteFile(src, []byte(spinner), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range spinnerRuns() {
		t.Run(r.name, func(t *testing.T) {
			prog := compile(t, r.a, src, "static")
			g := start(t, emulator(t, r.emu), prog, "read", "restart")
			expect := func(want string) {
				t.Helper()
				if l, ok := g.line(5 * time.Second); l != want {
					t.Fatalf("line %q (%v), want %q; stderr %q", l, ok, want, g.stderr.String())
				}
			}
			if l, ok := g.line(30 * time.Second); l != "ready" {
				t.Fatalf("first line %q (%v), want ready; stderr %s", l, ok, g.stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
			g.cmd.Process.Signal(syscall.SIGINT)
			expect("SIGINT 1")
			time.Sleep(50 * time.Millisecond)
			g.cmd.Process.Signal(syscall.SIGINT)
			expect("SIGINT 2")
			g.stdin.Write([]byte("ab"))
			expect("read returned 2")
			time.Sleep(50 * time.Millisecond)
			g.cmd.Process.Signal(syscall.SIGUSR1)
			expect("SIGINT 3") // SIGUSR1 has the same counting handler

			expect("read returned I")
			ws, ok := g.wait(t, 5*time.Second)
			if !ok {
				t.Fatalf("still running 5 s after the reads")
			}
			if ws.Signaled() || ws.ExitStatus() != 0 {
				t.Errorf("wait status %#x, want exit 0", uint32(ws))
			}
			if r.emu == "xemu" {
				checkXemuStderr(t, []string{prog}, g.stderr.String())
			}
		})
	}
}

// TestSignalIgnoredFromOutside: signals the guest ignores (SIG_IGN, or by
// default like SIGWINCH) and a stop and continue do not cut the guest's
// nanosleep short: Linux restarts it for the remaining time
// (ERESTART_RESTARTBLOCK) when no handler runs.
func TestSignalIgnoredFromOutside(t *testing.T) {
	src := filepath.Join(t.TempDir(), "spinner.c")
	if err := os.WriteFile(src, []byte(spinner), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range spinnerRuns() {
		t.Run(r.name, func(t *testing.T) {
			prog := compile(t, r.a, src, "static")
			g := start(t, emulator(t, r.emu), prog, "sleep", "sleep")
			if l, ok := g.line(30 * time.Second); l != "ready" {
				t.Fatalf("first line %q (%v), want ready; stderr %s", l, ok, g.stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
			for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGWINCH, syscall.SIGSTOP} {
				g.cmd.Process.Signal(sig)
				time.Sleep(50 * time.Millisecond)
			}
			g.cmd.Process.Signal(syscall.SIGCONT)
			if l, ok := g.line(5 * time.Second); l != "slept 700 ms" {
				t.Fatalf("line %q (%v), want %q; stderr %q", l, ok, "slept 700 ms", g.stderr.String())
			}
			ws, ok := g.wait(t, 5*time.Second)
			if !ok {
				t.Fatalf("still running 5 s after the sleep")
			}
			if ws.Signaled() || ws.ExitStatus() != 0 {
				t.Errorf("wait status %#x, want exit 0", uint32(ws))
			}
			if r.emu == "xemu" {
				checkXemuStderr(t, []string{prog}, g.stderr.String())
			}
		})
	}
}

// TestSignalBadStack: a signal that finds the stack pointer pointing at
// nothing and no alternate stack kills the guest with SIGSEGV (the kernel
// cannot write the frame, forces SIGSEGV, cannot write that frame either),
// and xemu with it. Not compared with qemu-user 7.2, which spins forever
// there; tests/guest/sig_badstack.c without "bare" is compared as usual.
func TestSignalBadStack(t *testing.T) {
	src := filepath.Join(root, "tests", "guest", "sig_badstack.c")
	for _, a := range []guestArch{aarch64, armhfARM, armhfThumb} {
		t.Run(a.Name+strings.Join(a.CFlags, ""), func(t *testing.T) {
			prog := compile(t, a, src, "static")
			x := runCmdLimit(t, 20*time.Second, t.TempDir(), "", testEnv, xemu(t), prog, "bare")
			want := "with an alternate stack: calls=3 on it: 1\nwithout: "
			if x.Exit != 128+int(syscall.SIGSEGV) || x.Stdout != want {
				t.Errorf("exit %d, stdout %q; want %d, %q; stderr %q", x.Exit, x.Stdout, 128+int(syscall.SIGSEGV), want, x.Stderr)
			}
		})
	}
}
