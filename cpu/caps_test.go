package cpu

import "testing"

// TestCapabilities: on the pinned archive every wrapper proves itself.
func TestCapabilities(t *testing.T) {
	c := Capabilities()
	t.Logf("capabilities: %v", c)
	if !c.NoAccessCheck || !c.InlineBlockCheck || !c.Parallel || !c.AtomicSwap || !c.BusFault || !c.PCAlignment || len(c.Failures) > 0 {
		t.Fatalf("self-test failed on the pinned Unicorn: %v", c)
	}
	for _, a := range []*Arch{AArch64, ARM} {
		if ac := a.Capabilities(); !ac.NoAccessCheck || !ac.InlineBlockCheck || !ac.Parallel || !ac.BusFault || !ac.PCAlignment || ac.SelfTest == 0 {
			t.Errorf("%s: %v", a.Name, ac)
		}
	}
}

// TestDCZVA512: DCZID_EL0 says 512-byte blocks (as qemu's max CPU), and DC
// ZVA zeroes exactly the aligned 512 bytes around its address.
func TestDCZVA512(t *testing.T) {
	code := assemble(t, AArch64, "\tdc zva, x0\n"+exitAsm(AArch64))
	e, s, _ := newMachine(t, AArch64, code)
	if v, err := e.SysReg(3, 3, 0, 0, 7); err != nil || v != 7 {
		t.Fatalf("DCZID_EL0 = %d, %v; want 7", v, err)
	}
	ones := make([]byte, 2048)
	for i := range ones {
		ones[i] = 0xff
	}
	if err := s.Write(dataBase, ones); err != nil {
		t.Fatal(err)
	}
	setReg(t, e, 0, dataBase+512+100)
	wantExit(t, e.Run(codeBase))
	got := make([]byte, 2048)
	if err := s.Read(dataBase, got); err != nil {
		t.Fatal(err)
	}
	for i, b := range got {
		want := byte(0xff)
		if i >= 512 && i < 1024 {
			want = 0
		}
		if b != want {
			t.Fatalf("byte %d = %#x, want %#x", i, b, want)
		}
	}
}
