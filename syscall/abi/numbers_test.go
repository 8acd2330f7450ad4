package abi

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestGeneratedNumbers: regenerating the syscall numbers from the cross
// headers changes nothing.
func TestGeneratedNumbers(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "../gen")
	cmd.Dir = "."
	cmd.Env = append(os.Environ(), "XEMU_GEN_OUT="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	for _, f := range []string{"aarch64_numbers.go", "arm_numbers.go"} {
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(dir + "/" + f)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from what gen writes now", f)
		}
	}
}
