package cpu

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestCodeBufferNearBinary: the code buffers of engines open at once (a
// program's and an execve's new one) lie within a direct call of xemu's
// helpers (codebuf.c), which are in this binary's text, below 32 MiB; more
// engines than there are slots still open, their buffers elsewhere.
func TestCodeBufferNearBinary(t *testing.T) {
	for _, a := range Arches {
		t.Run(a.Name, func(t *testing.T) { testCodeBufferNearBinary(t, a) })
	}
}

func testCodeBufferNearBinary(t *testing.T, a *Arch) {
	e1, _, _ := newMachine(t, a, insn(t, a, exitAsm(a)))
	defer e1.Close()
	e2, _, _ := newMachine(t, a, insn(t, a, exitAsm(a)))
	defer e2.Close()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buffers int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[1] != "rwxp" {
			continue
		}
		lo, hi, _ := strings.Cut(fields[0], "-")
		start, _ := strconv.ParseUint(lo, 16, 64)
		end, _ := strconv.ParseUint(hi, 16, 64)
		// (less a guard page at its end on ARM)
		if size := end - start; size > DefaultCodeBuffer || size < DefaultCodeBuffer-1<<16 {
			continue
		}
		if end > 1<<31 {
			t.Errorf("a code buffer at %#x-%#x, beyond a direct call from the binary", start, end)
		}
		buffers++
	}
	if buffers < 2 {
		t.Errorf("%d code buffers of %d MiB with two engines open", buffers, DefaultCodeBuffer>>20)
	}
	for range 4 {
		e, _, _ := newMachine(t, a, insn(t, a, exitAsm(a)))
		defer e.Close()
	}
}
