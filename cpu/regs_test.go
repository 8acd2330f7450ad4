package cpu

import "testing"

// Every register survives a save, a change and a restore, on both
// architectures, and the ARM mode bits cannot be changed through RestoreRegs.
func TestRegsRoundTrip(t *testing.T) {
	for _, a := range []*Arch{AArch64, ARM} {
		t.Run(a.Name, func(t *testing.T) {
			e, _, _ := newMachine(t, a, insn(t, a, "nop"))
			var r Regs
			for i := range r.X {
				r.X[i] = uint64(0x1111*(i+1)) | 0x100000000
			}
			r.SP, r.PC, r.TLS = 0x7f0000, 0x10000, 0xabcdef
			for i := range r.V {
				r.V[i] = [2]uint64{uint64(i) * 0x0101010101010101, ^uint64(i)}
			}
			r.FPSR = 0x8000000 // QC
			r.FPCR = 0x3000000 // DN|FZ
			r.PState = 0x60000000
			if a == ARM {
				r.PState = 0x60000000 | ARMCPSRThumb | 0x10 // user mode asked for
				r.FPSR = 0x3000000 | 0x8000000
			}
			cpsr := e.Reg(ARMCPSR)
			if err := e.RestoreRegs(&r); err != nil {
				t.Fatal(err)
			}
			var got Regs
			if err := e.SaveRegs(&got); err != nil {
				t.Fatal(err)
			}
			want := r
			if a == ARM {
				for i := range want.X {
					want.X[i] &= 0xffffffff
				}
				want.X[13], want.X[15] = 0, 0
				for i := 15; i < len(want.X); i++ {
					want.X[i] = 0
				}
				for i := 16; i < len(want.V); i++ {
					want.V[i] = [2]uint64{} // D0..D31 fill V[0..15]
				}
				want.FPCR = 0
				want.PState = 0x60000000 | ARMCPSRThumb | cpsr&^ARMCPSRUserMask
			}
			if got != want {
				t.Errorf("restored registers differ:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}
