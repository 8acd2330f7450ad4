package cpu

import (
	"testing"

	"xemu/cpu/mem"
)

// TestFaultCrossingPage: an unaligned 8-byte load or store whose second half
// is on an unmapped page faults at the exact instruction, reports an address
// inside the access, and completes once the page is mapped.
func TestFaultCrossingPage(t *testing.T) {
	const page = 0x12300000 // RW; the page after it is not mapped
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		for _, store := range []bool{false, true} {
			name := map[bool]string{false: "load", true: "store"}[store]
			t.Run(name, func(t *testing.T) {
				src := hdr + movImm32(a, 0, page+mem.PageSize-4)
				switch {
				case a == ARM && store:
					src += movImm32(a, 2, 0x11223344) + movImm32(a, 3, 0x55667788) + "fault:\n\tstrd r2, r3, [r0]\n"
				case a == ARM:
					src += "fault:\n\tldrd r2, r3, [r0]\n"
				case store:
					src += "\tmovz x2, #0x5566, lsl #48\n\tmovk x2, #0x1122\nfault:\n\tstr x2, [x0]\n"
				default:
					src += "fault:\n\tldr x2, [x0]\n"
				}
				code, syms := assembleSyms(t, a, src+exitAsm(a))
				e, s, _ := newMachine(t, a, code)
				mapRegion(t, s, page, mem.PageSize, pRW, nil)
				if err := s.Write(page+mem.PageSize-4, []byte{1, 2, 3, 4}); err != nil {
					t.Fatal(err)
				}
				stop := e.Run(codeBase | thumb)
				if stop.Kind != StopFault {
					t.Fatalf("stop = %+v, want a fault", stop)
				}
				f := stop.Fault
				acc := mem.ProtRead
				if store {
					acc = mem.ProtWrite
				}
				if f.PC != sym(t, syms, "fault") || f.Access != acc || f.Mapped ||
					f.Addr < page+mem.PageSize-4 || f.Addr >= page+mem.PageSize+4 {
					t.Fatalf("fault = %+v (%v)", f, f)
				}
				t.Logf("fault address %#x for an access at %#x", f.Addr, page+mem.PageSize-4)

				mapRegion(t, s, page+mem.PageSize, mem.PageSize, pRW, []byte{5, 6, 7, 8})
				wantExit(t, e.Run(a.ResumePC(e, stop.PC)))
				got := make([]byte, 8)
				if err := s.Read(page+mem.PageSize-4, got); err != nil {
					t.Fatal(err)
				}
				switch {
				case store:
					want := []byte{0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55}
					if a == AArch64 {
						want = []byte{0x22, 0x11, 0, 0, 0, 0, 0x66, 0x55}
					}
					if string(got) != string(want) {
						t.Fatalf("stored % x, want % x", got, want)
					}
				case a == ARM:
					wantRegs(t, e, map[int]uint64{2: 0x04030201, 3: 0x08070605})
				default:
					wantRegs(t, e, map[int]uint64{2: 0x0807060504030201})
				}
			})
		}
	})
}

// TestSyscallArgs: the handler sees the number and every argument register
// exactly (32-bit registers zero-extended), and the result lands in x0/r0.
func TestSyscallArgs(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + "\tmov x8, #77\n\tsvc #0\n\tmov x19, x0\n"
		nargs, nr := 6, uint64(77)
		if a == ARM {
			src = hdr + movImm32(a, 7, 0xf0005) + "\tsvc 0\n\tmov r8, r0\n"
			nargs, nr = 7, 0xf0005
		}
		e, _, h := newMachine(t, a, assemble(t, a, src+exitAsm(a)))
		var want [7]uint64
		for i := 0; i < nargs; i++ {
			want[i] = 0xfedcba9876543210 + uint64(i)
			if a == ARM {
				want[i] = 0xfffffff0 + uint64(i)
			}
			setReg(t, e, i, want[i])
		}
		var gotNr uint64
		var gotArgs [7]uint64
		h.onSyscall = func(e *Engine, n uint64, args [7]uint64) bool {
			if n == 1 || n == 93 {
				return false
			}
			gotNr, gotArgs = n, args
			e.SetSyscallResult(0xdeadbeefcafef00d)
			return true
		}
		wantExit(t, e.Run(codeBase|thumb))
		if gotNr != nr || gotArgs != want {
			t.Fatalf("syscall %#x %#x, want %#x %#x", gotNr, gotArgs, nr, want)
		}
		if a == ARM {
			wantRegs(t, e, map[int]uint64{8: 0xcafef00d})
		} else {
			wantRegs(t, e, map[int]uint64{19: 0xdeadbeefcafef00d})
		}
	})
}

// TestSyscallRedirect: a handler that sets the PC (as signal delivery and
// sigreturn do) and keeps the registers sends the guest there, in the
// instruction set the new PC says.
func TestSyscallRedirect(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + "\tmov x8, #200\n\tsvc #0\n\tmov x19, #1\n" + exitAsm(a) + "elsewhere:\n\tmov x19, #2\n\tmov x20, x0\n" + exitAsm(a)
		res, r0 := 19, 20
		if a == ARM {
			src = hdr + "\tmov r7, #200\n\tsvc 0\n\tmov r8, #1\n" + exitAsm(a) + "elsewhere:\n\tmov r8, #2\n\tmov r9, r0\n" + exitAsm(a)
			res, r0 = 8, 9
		}
		code, syms := assembleSyms(t, a, src)
		e, _, h := newMachine(t, a, code)
		h.onSyscall = func(e *Engine, n uint64, args [7]uint64) bool {
			if n != 200 {
				return false
			}
			if err := e.SetReg(a.PCReg, sym(t, syms, "elsewhere")|thumb); err != nil {
				t.Error(err)
			}
			e.KeepRegisters()
			return true
		}
		setReg(t, e, 0, 0x1234)
		wantExit(t, e.Run(codeBase|thumb))
		// KeepRegisters: x0/r0 was not overwritten by a result.
		wantRegs(t, e, map[int]uint64{res: 2, r0: 0x1234})
	})
}
