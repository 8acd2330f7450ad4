package cpu

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// assemble turns guest assembly into raw machine code with Debian's cross
// binutils, placed to run at address 0 of its own section.
func assemble(t testing.TB, a *Arch, src string) []byte {
	t.Helper()
	prefix := "aarch64-linux-gnu-"
	if a == ARM {
		prefix = "arm-linux-gnueabihf-"
	}
	dir := t.TempDir()
	s := filepath.Join(dir, "a.s")
	o := filepath.Join(dir, "a.o")
	bin := filepath.Join(dir, "a.bin")
	if err := os.WriteFile(s, []byte(src+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-o", o, s}
	if a == ARM {
		args = append([]string{"-march=armv7-a", "-mfpu=neon-vfpv4"}, args...)
	}
	if out, err := exec.Command(prefix+"as", args...).CombinedOutput(); err != nil {
		t.Fatalf("as: %v\n%s", err, out)
	}
	if out, err := exec.Command(prefix+"objcopy", "-O", "binary", "-j", ".text", o, bin).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
