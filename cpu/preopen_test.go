package cpu

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestPreopenDefaults(t *testing.T) {
	for _, a := range Arches {
		model, trap, code := preopenParams(a)
		if model != int(a.DefaultModel.uc) || trap != a.TrapBase || code != DefaultCodeBuffer {
			t.Errorf("%s: preopen.c opens model %d, trap base %#x, code buffer %d; Open's defaults are %d, %#x, %d",
				a.Name, model, trap, code, a.DefaultModel.uc, a.TrapBase, DefaultCodeBuffer)
		}
	}
}

// elfHeader is the start of an ELF file: class (1 = 32-bit, 2 = 64-bit),
// little-endian, machine.
func elfHeader(class byte, machine uint16) []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = class, 1, 1
	h[16] = 2 // ET_EXEC
	h[18], h[19] = byte(machine), byte(machine>>8)
	return h
}

func TestPreopenGuess(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a64 := file("a64", elfHeader(2, 183))
	arm := file("arm", elfHeader(1, 40))
	x86 := file("x86", elfHeader(2, 62))
	mixed := file("a64-elf32", elfHeader(1, 183))
	short := file("short", elfHeader(2, 183)[:19])
	script := file("script", []byte("#!/bin/sh\necho hi\n"))
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	many := []string{"xemu"}
	for i := 0; i < 8; i++ {
		many = append(many, filepath.Join(dir, "missing"))
	}
	for _, c := range []struct {
		args []string
		want *Arch
	}{
		{[]string{"xemu", a64}, AArch64},
		{[]string{"xemu", arm, "arg"}, ARM},
		{[]string{"xemu", "-L", dir, "--strace", arm}, ARM},
		{[]string{"xemu", "--strace-file", script, a64, arm}, AArch64},
		{[]string{"xemu", fifo, a64}, AArch64}, // not opened: would block
		{[]string{"xemu", "--execfn", x86, "--argv0", "ls", "--", arm, a64}, ARM},
		{[]string{"xemu", "--", script, a64}, nil},
		{[]string{"xemu", "--zygote", "5", "--zygote-parent", "1", "--zygote-machine", "40"}, ARM},
		{[]string{"xemu", "--zygote-machine=183"}, AArch64},
		{[]string{"xemu", "--zygote-machine=62"}, nil},
		{[]string{"xemu", "binfmt", "status"}, nil},
		{[]string{"xemu", "explain", a64}, nil},
		{[]string{"xemu", mixed}, nil},
		{[]string{"xemu", short}, nil},
		{[]string{"xemu", x86}, nil},
		{[]string{"xemu"}, nil},
		{append(slices.Clone(many), a64), nil}, // gives up after 8 arguments
		{append(slices.Clone(many[:8]), a64), AArch64},
	} {
		if got := preopenGuess(c.args); got != c.want {
			t.Errorf("guess(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}

// An engine opened on another thread runs on this one once Open takes it;
// engines of another kind leave it, and a program's engine of another
// architecture closes it.
func TestPreopenTaken(t *testing.T) {
	for _, a := range Arches {
		preopenStart(a)
		before := preopenTaken()
		// A thread's engine (a smaller code buffer) does not take it.
		h := &testHandler{}
		e, _ := newSpaceEngineConfig(t, a, h, threadTestCodeBuffer)
		e.Close()
		if preopenTaken() != before {
			t.Fatalf("%s: an engine with another code buffer took the preopened one", a.Name)
		}
		code := assemble(t, a, exitProgram(a))
		e, _, h = newMachine(t, a, code)
		if preopenTaken() != before+1 {
			t.Fatalf("%s: Open did not take the preopened engine", a.Name)
		}
		if stop := e.Run(codeBase); stop.Kind != StopRequested || h.calls != 1 {
			t.Fatalf("%s: on the preopened engine: stop %+v, %d system calls", a.Name, stop, h.calls)
		}
		if got := e.Reg(generalReg(a, 0)); got != 43 {
			t.Fatalf("%s: result %d, want 43", a.Name, got)
		}
	}
	// A wrong guess is closed by the program's engine, which opens anew.
	preopenStart(ARM)
	before := preopenTaken()
	newMachine(t, AArch64, assemble(t, AArch64, exitProgram(AArch64)))
	newMachine(t, ARM, assemble(t, ARM, exitProgram(ARM)))
	if preopenTaken() != before {
		t.Fatalf("an engine of another architecture, or a closed one, was taken")
	}
}

const threadTestCodeBuffer = 1 << 20

// exitProgram sets the first argument register to 42 and makes the exit
// system call (the handler returns 43).
func exitProgram(a *Arch) string {
	if a == ARM {
		return "mov r0, #42\n\tmov r7, #1\n\tsvc 0"
	}
	return "mov x0, #42\n\tmov x8, #93\n\tsvc #0"
}
