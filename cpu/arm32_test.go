package cpu

import "testing"

// TestARMIDRegisters reads what the hwcaps are derived from: the cp15 ID
// registers and MVFR0/1 (through the vmrs probe) of the Cortex-A15 model,
// with QEMU's cortex_a15_initfn values; the probe leaves no mapping and no
// changed register behind.
func TestARMIDRegisters(t *testing.T) {
	e, s, _ := newMachine(t, ARM, insn(t, ARM, "nop"))
	setReg(t, e, 0, 0x1234)
	before := s.Count()
	mvfr0, mvfr1, err := e.MediaFeatures()
	if err != nil {
		t.Fatal(err)
	}
	if mvfr0 != 0x10110222 || mvfr1 != 0x11111111 {
		t.Errorf("MVFR0 %#x MVFR1 %#x, want 0x10110222 0x11111111", mvfr0, mvfr1)
	}
	if s.Count() != before {
		t.Errorf("%d mappings after the probe, %d before", s.Count(), before)
	}
	if r0 := getReg(e, 0); r0 != 0x1234 {
		t.Errorf("r0 is %#x after the probe", r0)
	}
	for _, r := range []struct {
		name                string
		opc1, crn, crm, op2 int
		want                uint64
	}{
		{"MIDR", 0, 0, 0, 0, 0x412fc0f1},
		{"ID_MMFR0", 0, 0, 1, 4, 0x10201105},
		{"ID_ISAR0", 0, 0, 2, 0, 0x02101110},
	} {
		v, err := e.CoprocReg(15, r.opc1, r.crn, r.crm, r.op2)
		if err != nil || v != r.want {
			t.Errorf("%s: %#x %v, want %#x", r.name, v, err, r.want)
		}
	}
	if _, _, err := (&Engine{arch: AArch64}).MediaFeatures(); err == nil {
		t.Error("MVFR probe on AArch64")
	}
}
