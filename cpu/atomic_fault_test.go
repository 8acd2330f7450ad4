package cpu

import (
	"testing"

	"xemu/cpu/mem"
)

// Atomics and exclusives on memory the guest may not write: in parallel mode
// they are host atomics, which must meet a refused fill (an exact fault), never
// a trap slot (Unicorn has no cpu_exec_step_atomic: that livelocks).
func TestFaultAtomics(t *testing.T) {
	cases := []struct {
		name   string
		a      *Arch
		hdr    string
		thumb  uint64
		body   string
		base   uint64
		access mem.Prot
		mapped bool
	}{
		{"aarch64/stlxr-readonly", AArch64, "", 0, "\tldaxr w1, [x0]\nfault:\n\tstlxr w2, w1, [x0]\n", roBase, mem.ProtWrite, true},
		{"aarch64/ldaddal-readonly", AArch64, ".arch armv8.1-a\n", 0, "\tmov w1, #1\nfault:\n\tldaddal w1, w3, [x0]\n", roBase, mem.ProtWrite, true},
		{"aarch64/casal-unmapped", AArch64, ".arch armv8.1-a\n", 0, "fault:\n\tcasal x1, x3, [x0]\n", unmappedBase, mem.ProtWrite, false},
		{"aarch64/ldaxr-unmapped", AArch64, "", 0, "fault:\n\tldaxr x1, [x0]\n", unmappedBase, mem.ProtRead, false},
		{"arm/strex-readonly", ARM, armModes[0].header, 0, "\tldrex r1, [r0]\nfault:\n\tstrex r2, r1, [r0]\n", roBase, mem.ProtWrite, true},
		{"thumb/strex-readonly", ARM, armModes[1].header, 1, "\tldrex r1, [r0]\nfault:\n\tstrex r2, r1, [r0]\n", roBase, mem.ProtWrite, true},
		{"thumb/ldrex-unmapped", ARM, armModes[1].header, 1, "fault:\n\tldrex r1, [r0]\n", unmappedBase, mem.ProtRead, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := c.hdr + movImm32(c.a, 0, uint32(c.base+0x40)) + c.body + exitAsm(c.a)
			code, syms := assembleSyms(t, c.a, src)
			e, s, _ := newMachine(t, c.a, code)
			page := make([]byte, mem.PageSize)
			copy(page[0x40:], put64(5))
			mapRegion(t, s, roBase, mem.PageSize, pR, page)
			for i := 0; i < 3; i++ {
				wantFault(t, e.Run(codeBase|c.thumb), Fault{PC: sym(t, syms, "fault"), Addr: c.base + 0x40, Access: c.access, Mapped: c.mapped})
			}
			if got := readU64(t, s, roBase+0x40); got != 5 {
				t.Fatalf("read-only memory changed to %d", got)
			}
		})
	}
}
