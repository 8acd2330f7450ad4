package cpu

import (
	"fmt"
	"testing"

	"xemu/cpu/mem"
)

// Fault paths: every fault must name the exact instruction and the exact
// address, leave the registers of the instructions before it updated, and
// leave the engine able to continue from the faulting instruction.

const (
	unmappedBase = 0x12340000 // nothing is ever mapped here unless a test maps it
	roBase       = 0x900000   // a read-only page, for store faults
	noneBase     = 0xa00000   // a PROT_NONE page
)

// forEachArch runs f for AArch64, ARM and Thumb; f gets the assembler header
// and the bit to add to an entry address.
func forEachArch(t *testing.T, f func(t *testing.T, a *Arch, hdr string, thumb uint64)) {
	t.Run("aarch64", func(t *testing.T) { f(t, AArch64, "", 0) })
	for _, m := range armModes {
		t.Run(m.name, func(t *testing.T) { f(t, ARM, m.header, m.thumb) })
	}
}

// movImm32 loads a 32-bit constant into register n.
func movImm32(a *Arch, n int, v uint32) string {
	if a == ARM {
		return fmt.Sprintf("\tmovw r%d, #%#x\n\tmovt r%d, #%#x\n", n, v&0xffff, n, v>>16)
	}
	return fmt.Sprintf("\tmovz x%d, #%#x, lsl #16\n\tmovk x%d, #%#x\n", n, v>>16, n, v&0xffff)
}

func TestFaultUnmappedLoad(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + movImm32(a, 0, unmappedBase+0x10)
		if a == ARM {
			src += "\tmov r2, #5\nfault:\n\tldr r1, [r0, #8]\n\tmov r3, #6\n"
		} else {
			src += "\tmov x2, #5\nfault:\n\tldr x1, [x0, #8]\n\tmov x3, #6\n"
		}
		code, syms := assembleSyms(t, a, src+exitAsm(a))
		e, s, _ := newMachine(t, a, code)
		setReg(t, e, 1, 0x55)
		setReg(t, e, 3, 0x77)
		stop := e.Run(codeBase | thumb)
		wantFault(t, stop, Fault{PC: sym(t, syms, "fault"), Addr: unmappedBase + 0x18, Access: mem.ProtRead})
		// Earlier instructions ran, the load and everything after it did not.
		wantRegs(t, e, map[int]uint64{0: unmappedBase + 0x10, 1: 0x55, 2: 5, 3: 0x77})
		if got := a.ResumePC(e, stop.PC); got != stop.PC|thumb {
			t.Fatalf("ResumePC = %#x, want %#x", got, stop.PC|thumb)
		}

		// Map the page and continue from the fault.
		page := make([]byte, mem.PageSize)
		copy(page[0x18:], put64(0x1122334455667788))
		mapRegion(t, s, unmappedBase, mem.PageSize, pR, page)
		wantExit(t, e.Run(a.ResumePC(e, stop.PC)))
		want1 := uint64(0x1122334455667788)
		if a == ARM {
			want1 = 0x55667788
		}
		wantRegs(t, e, map[int]uint64{1: want1, 2: 5, 3: 6})
	})
}

func TestFaultStoreReadOnly(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + movImm32(a, 0, roBase) + movImm32(a, 3, 0xbeef)
		if a == ARM {
			src += "\tmov r4, #1\nfault:\n\tstr r3, [r0, #0x20]\n\tmov r4, #2\n"
		} else {
			src += "\tmov x4, #1\nfault:\n\tstr x3, [x0, #0x20]\n\tmov x4, #2\n"
		}
		code, syms := assembleSyms(t, a, src+exitAsm(a))
		e, s, _ := newMachine(t, a, code)
		page := make([]byte, mem.PageSize)
		copy(page[0x20:], put64(0x0102030405060708))
		mapRegion(t, s, roBase, mem.PageSize, pR, page)

		stop := e.Run(codeBase | thumb)
		wantFault(t, stop, Fault{PC: sym(t, syms, "fault"), Addr: roBase + 0x20, Access: mem.ProtWrite, Mapped: true})
		wantRegs(t, e, map[int]uint64{3: 0xbeef, 4: 1})
		if got := readU64(t, s, roBase+0x20); got != 0x0102030405060708 {
			t.Fatalf("read-only memory changed to %#x", got)
		}

		// Allow the store (what a guest's SIGSEGV handler might do) and resume.
		if err := s.Protect(roBase, mem.PageSize, pRW); err != nil {
			t.Fatal(err)
		}
		wantExit(t, e.Run(a.ResumePC(e, stop.PC)))
		wantRegs(t, e, map[int]uint64{4: 2})
		want := uint64(0xbeef)
		if a == ARM {
			want = 0x010203040000beef // a 32-bit store
		}
		if got := readU64(t, s, roBase+0x20); got != want {
			t.Fatalf("after resume memory = %#x, want %#x", got, want)
		}
	})
}

func TestFaultProtNoneLoad(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + movImm32(a, 0, noneBase)
		if a == ARM {
			src += "fault:\n\tldr r1, [r0, #0x44]\n"
		} else {
			src += "fault:\n\tldr x1, [x0, #0x44]\n"
		}
		code, syms := assembleSyms(t, a, src+exitAsm(a))
		e, s, _ := newMachine(t, a, code)
		mapRegion(t, s, noneBase, mem.PageSize, mem.ProtNone, nil)
		// A PROT_NONE page is mapped: Linux reports SEGV_ACCERR, not SEGV_MAPERR.
		wantFault(t, e.Run(codeBase|thumb), Fault{PC: sym(t, syms, "fault"), Addr: noneBase + 0x44, Access: mem.ProtRead, Mapped: true})
	})
}

// execTarget is code placed on a data page: it sets register 5 to 77 and returns.
func execTarget(t testing.TB, a *Arch, hdr string) []byte {
	if a == ARM {
		return insn(t, a, hdr+"\tmov r5, #77\n\tbx lr")
	}
	return insn(t, a, "\tmov x5, #77\n\tret")
}

func TestFaultExecNonExecutable(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + movImm32(a, 0, uint32(dataBase|thumb))
		if a == ARM {
			src += "\tmov r5, #3\ncall:\n\tblx r0\nret:\n"
		} else {
			src += "\tmov x5, #3\ncall:\n\tblr x0\nret:\n"
		}
		code, syms := assembleSyms(t, a, src+exitAsm(a))
		e, s, _ := newMachine(t, a, code)
		if err := s.Write(dataBase, execTarget(t, a, hdr)); err != nil {
			t.Fatal(err)
		}

		stop := e.Run(codeBase | thumb)
		wantFault(t, stop, Fault{PC: dataBase, Addr: dataBase, Access: mem.ProtExec, Mapped: true})
		// The branch itself completed: the link register holds the return address.
		lr := e.Reg(A64X30)
		if a == ARM {
			lr = e.Reg(ARMLR)
		}
		if want := sym(t, syms, "ret") | thumb; lr != want {
			t.Fatalf("lr = %#x, want %#x", lr, want)
		}
		if got := a.ResumePC(e, stop.PC); got != dataBase|thumb {
			t.Fatalf("ResumePC = %#x, want %#x (Thumb state must survive the fault)", got, dataBase|thumb)
		}

		if err := s.Protect(dataBase, mem.PageSize, pRX); err != nil {
			t.Fatal(err)
		}
		wantExit(t, e.Run(a.ResumePC(e, stop.PC)))
		wantRegs(t, e, map[int]uint64{5: 77})
	})
}

func TestFaultExecUnmapped(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + movImm32(a, 0, uint32(unmappedBase|thumb))
		if a == ARM {
			src += "\tmov r5, #3\n\tblx r0\n"
		} else {
			src += "\tmov x5, #3\n\tblr x0\n"
		}
		code := assemble(t, a, src+exitAsm(a))
		e, s, _ := newMachine(t, a, code)
		stop := e.Run(codeBase | thumb)
		wantFault(t, stop, Fault{PC: unmappedBase, Addr: unmappedBase, Access: mem.ProtExec})
		wantRegs(t, e, map[int]uint64{5: 3})

		mapRegion(t, s, unmappedBase, mem.PageSize, pRW, execTarget(t, a, hdr))
		if err := s.Protect(unmappedBase, mem.PageSize, pRX); err != nil {
			t.Fatal(err)
		}
		wantExit(t, e.Run(a.ResumePC(e, stop.PC)))
		wantRegs(t, e, map[int]uint64{5: 77})
	})
}

// TestFaultMidBlock: the store faults on the second trip through a loop body
// that is one translated block; the instructions before it in the block have
// run, those after it have not.
func TestFaultMidBlock(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + movImm32(a, 0, dataBase) + movImm32(a, 5, roBase)
		if a == ARM {
			src += `
	mov r6, #2
	mov r2, #0
	mov r4, #0
loop:
	add r2, r2, #1
	add r3, r2, #7
fault:
	str r3, [r0]
	add r4, r4, #1
	mov r0, r5
	subs r6, r6, #1
	bne loop
`
		} else {
			src += `
	mov x6, #2
	mov x2, #0
	mov x4, #0
loop:
	add x2, x2, #1
	add x3, x2, #7
fault:
	str x3, [x0]
	add x4, x4, #1
	mov x0, x5
	subs x6, x6, #1
	b.ne loop
`
		}
		code, syms := assembleSyms(t, a, src+exitAsm(a))
		e, s, _ := newMachine(t, a, code)
		mapRegion(t, s, roBase, mem.PageSize, pR, nil)

		stop := e.Run(codeBase | thumb)
		wantFault(t, stop, Fault{PC: sym(t, syms, "fault"), Addr: roBase, Access: mem.ProtWrite, Mapped: true})
		wantRegs(t, e, map[int]uint64{0: roBase, 2: 2, 3: 9, 4: 1, 6: 1})
		if got := readU64(t, s, dataBase); got != 8 {
			t.Fatalf("first store wrote %d, want 8", got)
		}

		if err := s.Protect(roBase, mem.PageSize, pRW); err != nil {
			t.Fatal(err)
		}
		wantExit(t, e.Run(a.ResumePC(e, stop.PC)))
		wantRegs(t, e, map[int]uint64{2: 2, 3: 9, 4: 2, 6: 0})
		if got := readU64(t, s, roBase); got != 9 {
			t.Fatalf("resumed store wrote %d, want 9", got)
		}
	})
}

// TestFaultRepeated: the same faulting load, run many times, reports the same
// fault every time (the refused page must not linger in the TLB as a valid
// entry, and a trap entry must not outlive the fix).
func TestFaultRepeated(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + movImm32(a, 0, unmappedBase)
		if a == ARM {
			src += "fault:\n\tldr r1, [r0]\n"
		} else {
			src += "fault:\n\tldr x1, [x0]\n"
		}
		code, syms := assembleSyms(t, a, src+exitAsm(a))
		e, s, _ := newMachine(t, a, code)
		for i := 0; i < 50; i++ {
			wantFault(t, e.Run(codeBase|thumb), Fault{PC: sym(t, syms, "fault"), Addr: unmappedBase, Access: mem.ProtRead})
		}
		mapRegion(t, s, unmappedBase, mem.PageSize, pR, put64(42))
		wantExit(t, e.Run(codeBase|thumb))
		wantRegs(t, e, map[int]uint64{1: 42})
		if err := s.Unmap(unmappedBase, mem.PageSize); err != nil {
			t.Fatal(err)
		}
		wantFault(t, e.Run(codeBase|thumb), Fault{PC: sym(t, syms, "fault"), Addr: unmappedBase, Access: mem.ProtRead})
	})
}

// TestFaultStoreInITBlock: a Thumb store that faults as the second
// instruction of an IT block stops exactly there: the first conditional
// instruction has run, nothing after the store has, memory is unchanged, and
// resuming runs the rest of the block under the same condition.
func TestFaultStoreInITBlock(t *testing.T) {
	src := armModes[1].header + movImm32(ARM, 0, roBase) + movImm32(ARM, 3, 0xbeef) + `
	mov r4, #1
	mov r5, #7
	mov r6, #0
	cmp r4, #1
	itttt eq
	addeq r5, r5, #1
fault:
	streq r3, [r0, #0x20]
	addeq r6, r6, #1
	addeq r5, r5, #10
	mov r4, #2
` + exitAsm(ARM)
	code, syms := assembleSyms(t, ARM, src)
	e, s, _ := newMachine(t, ARM, code)
	page := make([]byte, mem.PageSize)
	copy(page[0x20:], put64(0x0102030405060708))
	mapRegion(t, s, roBase, mem.PageSize, pR, page)

	stop := e.Run(codeBase | 1)
	wantFault(t, stop, Fault{PC: sym(t, syms, "fault"), Addr: roBase + 0x20, Access: mem.ProtWrite, Mapped: true})
	wantRegs(t, e, map[int]uint64{3: 0xbeef, 4: 1, 5: 8, 6: 0})
	if got := readU64(t, s, roBase+0x20); got != 0x0102030405060708 {
		t.Fatalf("read-only memory changed to %#x", got)
	}
	if got := ARM.ResumePC(e, stop.PC); got != stop.PC|1 {
		t.Fatalf("ResumePC = %#x, want %#x (Thumb)", got, stop.PC|1)
	}

	if err := s.Protect(roBase, mem.PageSize, pRW); err != nil {
		t.Fatal(err)
	}
	wantExit(t, e.Run(ARM.ResumePC(e, stop.PC)))
	wantRegs(t, e, map[int]uint64{4: 2, 5: 18, 6: 1})
	if got := readU64(t, s, roBase+0x20); got != 0x010203040000beef {
		t.Fatalf("after resume memory = %#x, want %#x", got, uint64(0x010203040000beef))
	}
}
