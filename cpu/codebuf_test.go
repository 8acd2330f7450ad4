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
// helpers (codebuf.c), which are in this binary's text, below 32 MiB.
func TestCodeBufferNearBinary(t *testing.T) {
	for _, a := range Arches {
		e1, _, _ := newMachine(t, a, insn(t, a, exitAsm(a)))
		e2, _, _ := newMachine(t, a, insn(t, a, exitAsm(a)))
		var starts []uint64
		f, err := os.Open("/proc/self/maps")
		if err != nil {
			t.Fatal(err)
		}
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
				t.Errorf("%s: a code buffer at %#x-%#x, beyond a direct call from the binary", a.Name, start, end)
			}
			starts = append(starts, start)
		}
		f.Close()
		if len(starts) < 2 {
			t.Errorf("%s: %d code buffers of %d MiB with two engines open", a.Name, len(starts), DefaultCodeBuffer>>20)
		}
		e1.Close()
		e2.Close()
	}
}
