package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"xemu/internal/testenv"
)

// fuzzPeakRSS bounds xemu's peak resident set (KiB) in a fuzz run, the
// largest of the parent and every batch's child: the program maps at most
// 64 MiB per call and runs 200 calls per child, so a peak past this is the
// emulator's own memory growing.
const fuzzPeakRSS = 256 << 10

// TestSyscallFuzz runs tests/fuzz/sysfuzz.c under xemu, aarch64 and armhf:
// random system calls with random arguments for XEMU_FUZZ_SECONDS seconds
// per architecture (default 12), from seed XEMU_FUZZ_SEED (default: the
// time, logged; ciFuzzSeed under CI); with an even seed aarch64 runs under --strace. xemu must not crash (no Go traceback, no internal error, no
// exit status of its own in any child), must not change what the guest could
// not (the program checks registers, its thread pointer, a read-only canary
// and its code after the calls), and its peak memory (wait4's ru_maxrss,
// through benchmarks/launch) stays under fuzzPeakRSS. Not compared with
// qemu-user: this checks the emulator, not Linux.
// ciFuzzSeed is CI's seed: even, so aarch64 also runs under --strace.
const ciFuzzSeed = 20261204

func TestSyscallFuzz(t *testing.T) {
	seconds := 12
	if s := os.Getenv("XEMU_FUZZ_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("XEMU_FUZZ_SECONDS=%q: want a number of seconds", s)
		}
		seconds = n
	}
	// A new seed each run explores; CI runs one fixed seed, so that its
	// verdict is the code's and a failure there reproduces.
	seed := uint64(time.Now().UnixNano()) % 1000000007
	if testenv.OnCI() {
		seed = ciFuzzSeed
	}
	if s := os.Getenv("XEMU_FUZZ_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			t.Fatalf("XEMU_FUZZ_SEED=%q: want a number", s)
		}
		seed = n
	}
	t.Logf("seed %d (XEMU_FUZZ_SEED=%d reproduces it), %d s per architecture", seed, seed, seconds)
	launch := compile(t, guestArch{Name: "x86-64", CC: "gcc"}, filepath.Join(root, "benchmarks", "launch", "launch.c"), "static")
	src := filepath.Join(root, "tests", "fuzz", "sysfuzz.c")
	// ARM or Thumb code by the seed, and for aarch64 with or without
	// --strace (whose decoding of every argument is fuzzed too), so each is
	// fuzzed over runs.
	arm := armhfARM
	if seed%2 == 1 {
		arm = armhfThumb
	}
	strace := seed%2 == 0
	for _, a := range []guestArch{aarch64, arm} {
		name := a.Name
		if len(a.CFlags) > 0 {
			name += strings.TrimPrefix(a.CFlags[0], "-m")
		}
		t.Run(name, func(t *testing.T) {
			prog := compile(t, a, src, "static")
			var opts []string
			if strace && a.Name == aarch64.Name {
				opts = []string{"--strace-file", filepath.Join(t.TempDir(), "strace.log")}
				t.Logf("with %v", opts)
			}
			runFuzz(t, launch, opts, prog, seed, seconds)
		})
	}
}

func runFuzz(t *testing.T, launch string, opts []string, prog string, seed uint64, seconds int) {
	rssR, rssW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rssR.Close()
	args := append(append([]string{xemu(t)}, opts...), prog, strconv.FormatUint(seed, 10), strconv.Itoa(seconds))
	cmd := exec.Command(launch, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = testEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.ExtraFiles = []*os.File{rssW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Geteuid() == 0 {
		// The System V segments, semaphores and queues the fuzzer makes
		// (random keys and flags, never removed) go with an IPC namespace
		// of its own: on the host they piled up over runs until shmget
		// failed for every other test (kernel.shmmni).
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWIPC
	}
	cmd.WaitDelay = leftOverDelay
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rssW.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(time.Duration(seconds)*time.Second + 2*time.Minute):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("xemu %v: timed out\n%s", args, stdout.String())
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	var rssText bytes.Buffer
	rssText.ReadFrom(rssR)
	t.Logf("%s", strings.TrimSpace(stdout.String()))
	checkXemuStderr(t, args, stderr.String())
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Errorf("xemu %v: %v (reproduce one batch with the arguments SEED 0 BATCH)\n--- stdout\n%s\n--- stderr\n%s", args, err, stdout.String(), stderr.String())
	} else if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("seed %d: ", seed)) {
		t.Errorf("no summary line from the fuzzer")
	}
	rss, err := strconv.ParseInt(strings.TrimSpace(rssText.String()), 10, 64)
	if err != nil {
		t.Fatalf("peak RSS from launch: %q", rssText.String())
	}
	t.Logf("peak RSS %d KiB", rss)
	if rss > fuzzPeakRSS {
		t.Errorf("peak RSS %d KiB, more than %d KiB", rss, fuzzPeakRSS)
	}
}
