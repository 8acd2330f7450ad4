package binfmt

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The probe programs: static ARM and AArch64 programs of a few instructions
// that print ProbeOutput(arch) and exit 0 (probe/*.S, built by
// probe/gen.sh).
var (
	//go:embed probe/aarch64.elf
	probeAArch64 []byte
	//go:embed probe/arm.elf
	probeARM []byte
)

// Probe is the embedded program for an architecture ("aarch64", "arm").
func Probe(arch string) []byte {
	return map[string][]byte{"aarch64": probeAArch64, "arm": probeARM}[arch]
}

// ProbeOutput is what the probe for arch prints when it runs.
func ProbeOutput(arch string) string { return "xemu probe: " + arch + " ok\n" }

// probeTimeout bounds one probe's run: a handler that hangs is a failure.
const probeTimeout = 20 * time.Second

// LiveCheck writes the probe for f to a file in a temporary directory and
// executes it, so that the kernel's binfmt_misc handler for it (if any)
// runs it. It returns nil if the probe printed what it should and exited
// 0, else why not. dirs are tried in turn for the file: a directory on a
// noexec mount fails with EACCES, so the next is tried.
func LiveCheck(f Format, dirs []string) error {
	prog := Probe(f.Arch)
	if prog == nil {
		return fmt.Errorf("no probe program for %s", f.Arch)
	}
	var lastErr error
	for _, d := range dirs {
		err := runProbe(d, f.Arch, prog)
		if !errors.Is(err, errNoExecHere) {
			return err
		}
		lastErr = err
	}
	if lastErr == nil {
		lastErr = errors.New("no directory to write the probe program to")
	}
	return lastErr
}

var errNoExecHere = errors.New("cannot execute files in the directory (noexec mount?)")

// ProbeDirs are the directories LiveCheck tries by default.
func ProbeDirs() []string {
	return []string{os.TempDir(), "/dev/shm", "/run", "/var/tmp"}
}

func runProbe(dir, arch string, prog []byte) error {
	d, err := os.MkdirTemp(dir, "xemu-probe-")
	if err != nil {
		return fmt.Errorf("%w: %v", errNoExecHere, err)
	}
	defer os.RemoveAll(d)
	path := filepath.Join(d, arch)
	if err := os.WriteFile(path, prog, 0o755); err != nil {
		return fmt.Errorf("%w: %v", errNoExecHere, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%w: %v", errNoExecHere, err)
	case errors.Is(err, syscall.ENOEXEC):
		return errors.New("exec format error (no handler took it)")
	case ctx.Err() != nil:
		return fmt.Errorf("did not finish in %v", probeTimeout)
	case errors.As(err, &ee):
		return fmt.Errorf("%s, output %q%s", ee.ProcessState, stdout.String(), firstLine(stderr.String()))
	case err != nil:
		return err
	case stdout.String() != ProbeOutput(arch):
		return fmt.Errorf("printed %q, want %q%s", stdout.String(), ProbeOutput(arch), firstLine(stderr.String()))
	}
	return nil
}

// firstLine is a note of what a failed probe said on stderr, if anything.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if s == "" {
		return ""
	}
	return ", stderr: " + s
}
