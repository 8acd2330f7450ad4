package cpu

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"xemu/cpu/mem"
)

// Permission shorthands for the tests.
const (
	pR   = mem.ProtRead
	pRW  = mem.ProtRead | mem.ProtWrite
	pRX  = mem.ProtRead | mem.ProtExec
	pRWX = mem.ProtRead | mem.ProtWrite | mem.ProtExec
)

// dataBase is the RW area newMachine maps (64 pages).
const dataBase = 0x800000

// assembleSyms assembles like assemble and also returns the offset of every
// label in the source, so tests can name exact instruction addresses.
func assembleSyms(t testing.TB, a *Arch, src string) ([]byte, map[string]uint64) {
	t.Helper()
	prefix := "aarch64-linux-gnu-"
	if a == ARM {
		prefix = "arm-linux-gnueabihf-"
	}
	code := assemble(t, a, src)
	// assemble leaves no object behind; assemble the source again for its symbols.
	dir := t.TempDir()
	s := filepath.Join(dir, "a.s")
	o := filepath.Join(dir, "a.o")
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
	out, err := exec.Command(prefix+"nm", o).Output()
	if err != nil {
		t.Fatalf("nm: %v", err)
	}
	syms := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || strings.HasPrefix(f[2], "$") {
			continue
		}
		v, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			t.Fatalf("nm line %q: %v", sc.Text(), err)
		}
		syms[f[2]] = v
	}
	return code, syms
}

// sym is the guest address of a label of code loaded at codeBase.
func sym(t testing.TB, syms map[string]uint64, name string) uint64 {
	t.Helper()
	v, ok := syms[name]
	if !ok {
		t.Fatalf("no label %q in the test program", name)
	}
	return codeBase + v
}

// insn assembles one instruction (or a few) and returns its bytes.
func insn(t testing.TB, a *Arch, src string) []byte {
	t.Helper()
	return assemble(t, a, src)
}

// mapRegion adds a fixed anonymous mapping and fills it through Poke (which
// ignores the guest permissions).
func mapRegion(t testing.TB, s *mem.AddressSpace, addr mem.GuestAddr, size uint64, prot mem.Prot, data []byte) {
	t.Helper()
	got, err := s.Map(mem.MapRequest{Addr: addr, Length: size, Prot: prot, Fixed: true, FD: -1})
	if err != nil {
		t.Fatalf("map %#x+%#x: %v", addr, size, err)
	}
	if got != addr {
		t.Fatalf("map at %#x returned %#x", addr, got)
	}
	if len(data) > 0 {
		if err := s.Poke(addr, data); err != nil {
			t.Fatalf("poke %#x: %v", addr, err)
		}
	}
}

// newMachineProt is newMachine with the code mapping given other permissions
// (RWX for self-modifying code).
func newMachineProt(t testing.TB, a *Arch, code []byte, prot mem.Prot) (*Engine, *mem.AddressSpace, *testHandler) {
	t.Helper()
	e, s, h := newMachine(t, a, code)
	if err := s.Protect(codeBase, uint64(len(code)), prot); err != nil {
		t.Fatal(err)
	}
	return e, s, h
}

// reg is general register n of the engine's architecture (x0-x30 or r0-r12).
func reg(a *Arch, n int) Reg {
	if a == ARM {
		return ARMR0 + Reg(n)
	}
	return A64X(n)
}

func setReg(t testing.TB, e *Engine, n int, v uint64) {
	t.Helper()
	if err := e.SetReg(reg(e.Arch(), n), v); err != nil {
		t.Fatal(err)
	}
}

func getReg(e *Engine, n int) uint64 { return e.Reg(reg(e.Arch(), n)) }

// wantRegs checks general registers by number.
func wantRegs(t testing.TB, e *Engine, want map[int]uint64) {
	t.Helper()
	for n, v := range want {
		if got := getReg(e, n); got != v {
			t.Errorf("r%d = %#x, want %#x", n, got, v)
		}
	}
}

// wantExit checks that the guest reached its exit system call.
func wantExit(t testing.TB, stop Stop) {
	t.Helper()
	if stop.Kind != StopRequested {
		t.Fatalf("stop = %+v (%v), want the exit system call", stop, stop.Fault)
	}
}

// wantFault checks a stop against the exact fault expected.
func wantFault(t testing.TB, stop Stop, want Fault) {
	t.Helper()
	if stop.Kind != StopFault {
		t.Fatalf("stop = %+v, want fault %v", stop, want)
	}
	if stop.Fault != want {
		t.Fatalf("fault = %+v (%v), want %+v (%v)", stop.Fault, stop.Fault, want, want)
	}
	if stop.PC != want.PC {
		t.Fatalf("stop.PC = %#x, want %#x", stop.PC, want.PC)
	}
}

// exitAsm is the guest's exit system call.
func exitAsm(a *Arch) string {
	if a == ARM {
		return "\tmov r7, #1\n\tsvc 0\n"
	}
	return "\tmov x8, #93\n\tsvc #0\n"
}

// armModes are the two ARM instruction sets; entry is pc|1 for Thumb.
var armModes = []struct {
	name   string
	header string
	thumb  uint64
}{
	{"arm", ".syntax unified\n.arm\n", 0},
	{"thumb", ".syntax unified\n.thumb\n", 1},
}

func readU64(t testing.TB, s *mem.AddressSpace, a mem.GuestAddr) uint64 {
	t.Helper()
	var b [8]byte
	if err := s.Read(a, b[:]); err != nil {
		t.Fatalf("read %#x: %v", a, err)
	}
	return le64(b[:])
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func put64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}
