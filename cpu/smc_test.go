package cpu

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// Self-modifying code, code written by xemu, and a JIT's double mapping: in
// every case the code that runs after a change must be the new code, even
// though the old code was translated (and run twice) before.

// smcProgram calls target twice, overwrites target's first instruction with
// the one at newinsn, and calls it twice more. Results: regs 19-22 (AArch64)
// or r4, r5, r6, r8 (ARM).
func smcProgram(a *Arch, hdr string, maint bool, farTarget bool) string {
	pad := ""
	if farTarget {
		pad = "\t.balign 4096\n" // target on its own page
	}
	if a == ARM {
		thumb := hdr == armModes[1].header
		storeNew, body, newInsn := "\tstr r10, [r9]\n", "\tmov r0, #1\n\tbx lr\n", "\tmov r0, #2\n"
		loadNew := "\tldr r10, newinsn\n"
		if thumb {
			// 16-bit instructions: a halfword store.
			storeNew, body, newInsn = "\tstrh r10, [r9]\n", "\tmovs r0, #1\n\tbx lr\n", "\tmovs r0, #2\n"
			loadNew = "\tadr r11, newinsn\n\tldrh r10, [r11]\n"
		}
		sync := ""
		if maint {
			sync = "\tdsb ish\n\tisb\n"
		}
		adr := "\tadr r9, target\n"
		if farTarget && !thumb {
			adr = "\tadrl r9, target\n" // beyond one ARM immediate
		}
		return hdr + adr + loadNew + `
	bl target
	mov r4, r0
	bl target
	mov r5, r0
` + storeNew + sync + `
	bl target
	mov r6, r0
	bl target
	mov r8, r0
	mov r7, #1
	svc 0
	.balign 4
newinsn:
` + newInsn + pad + "\t.balign 4\ntarget:\n" + body
	}
	sync := ""
	if maint {
		sync = "\tdc cvau, x9\n\tdsb ish\n\tic ivau, x9\n\tdsb ish\n\tisb\n"
	}
	return `
	adr x9, target
	ldr w10, newinsn
	bl target
	mov x19, x0
	bl target
	mov x20, x0
	str w10, [x9]
` + sync + `
	bl target
	mov x21, x0
	bl target
	mov x22, x0
	mov x8, #93
	svc #0
newinsn:
	mov x0, #2
` + pad + `target:
	mov x0, #1
	ret
`
}

func smcResults(e *Engine) [4]uint64 {
	if e.Arch() == ARM {
		return [4]uint64{e.Reg(ARMR0 + 4), e.Reg(ARMR0 + 5), e.Reg(ARMR0 + 6), e.Reg(ARMR0 + 8)}
	}
	return [4]uint64{e.Reg(A64X(19)), e.Reg(A64X(20)), e.Reg(A64X(21)), e.Reg(A64X(22))}
}

func TestSelfModifyingCode(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		for _, c := range []struct {
			name       string
			maint, far bool
		}{
			{"samepage", true, false},
			{"otherpage", true, true},
			{"nomaint", false, false}, // stores to RWX pages are seen even without maintenance
		} {
			t.Run(c.name, func(t *testing.T) {
				code := assemble(t, a, smcProgram(a, hdr, c.maint, c.far))
				e, _, _ := newMachineProt(t, a, code, pRWX)
				wantExit(t, e.Run(codeBase|thumb))
				if got, want := smcResults(e), [4]uint64{1, 1, 2, 2}; got != want {
					t.Fatalf("results = %v, want %v (old code ran after the change)", got, want)
				}
			})
		}
	})
}

// xemuProgram calls target and exits; the result is in register 19 (r4).
func xemuProgram(a *Arch, hdr string) string {
	if a == ARM {
		body := "\tmov r0, #1\n\tbx lr\n"
		if hdr == armModes[1].header {
			body = "\tmovs r0, #1\n\tbx lr\n"
		}
		return hdr + "\tbl target\n\tmov r4, r0\n\tmov r7, #1\n\tsvc 0\n\t.balign 4\ntarget:\n" + body
	}
	return "\tbl target\n\tmov x19, x0\n\tmov x8, #93\n\tsvc #0\ntarget:\n\tmov x0, #1\n\tret\n"
}

// movR0 is "set the return register to v" in the test's instruction set.
func movR0(t testing.TB, a *Arch, hdr string, v int) []byte {
	switch {
	case a == AArch64:
		return insn(t, a, "mov x0, #"+itoa(v))
	case hdr == armModes[1].header:
		return insn(t, a, hdr+"movs r0, #"+itoa(v))
	default:
		return insn(t, a, hdr+"mov r0, #"+itoa(v))
	}
}

func itoa(v int) string {
	b := []byte{}
	if v == 0 {
		return "0"
	}
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

// TestCodeWrittenByXemu: code translated once and then replaced by xemu itself
// (Poke into R-X, Write between mprotects, Write into RWX) must run anew.
func TestCodeWrittenByXemu(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		code, syms := assembleSyms(t, a, xemuProgram(a, hdr))
		e, s, _ := newMachine(t, a, code)
		target := mem.GuestAddr(sym(t, syms, "target"))
		res := func() uint64 { return getReg(e, map[bool]int{true: 4, false: 19}[a == ARM]) }
		run := func(want uint64) {
			t.Helper()
			for i := 0; i < 2; i++ {
				wantExit(t, e.Run(codeBase|thumb))
				if got := res(); got != want {
					t.Fatalf("run %d: result %d, want %d", i, got, want)
				}
			}
		}
		run(1)

		// The page is R-X for the guest: Write refuses, Poke does not.
		if err := s.Write(target, movR0(t, a, hdr, 2)); err != unix.EFAULT {
			t.Fatalf("Write to R-X code = %v, want EFAULT", err)
		}
		run(1)
		if err := s.Poke(target, movR0(t, a, hdr, 2)); err != nil {
			t.Fatal(err)
		}
		run(2)

		// W^X flip done from Go.
		if err := s.Protect(codeBase, uint64(len(code)), pRW); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(target, movR0(t, a, hdr, 3)); err != nil {
			t.Fatal(err)
		}
		if err := s.Protect(codeBase, uint64(len(code)), pRX); err != nil {
			t.Fatal(err)
		}
		run(3)

		// Write into RWX code.
		if err := s.Protect(codeBase, uint64(len(code)), pRWX); err != nil {
			t.Fatal(err)
		}
		run(3)
		if err := s.Write(target, movR0(t, a, hdr, 4)); err != nil {
			t.Fatal(err)
		}
		run(4)

		// A host call that wrote through Slice, followed by Wrote.
		buf, err := s.Slice(target, uint64(len(movR0(t, a, hdr, 5))), mem.ProtWrite)
		if err != nil {
			t.Fatal(err)
		}
		copy(buf, movR0(t, a, hdr, 5))
		s.Wrote(target, uint64(len(buf)))
		run(5)
	})
}

// jitSetup maps one memfd page twice: RW at jitRW and RX at jitRX.
const (
	jitRW = 0x10000000
	jitRX = 0x20000000
)

func jitSetup(t testing.TB, s *mem.AddressSpace) {
	t.Helper()
	fd, err := unix.MemfdCreate("xemu-jit-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, mem.PageSize); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Map(mem.MapRequest{Addr: jitRW, Length: mem.PageSize, Prot: pRW, Fixed: true, Shared: true, FD: fd}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Map(mem.MapRequest{Addr: jitRX, Length: mem.PageSize, Prot: pRX, Fixed: true, Shared: true, FD: fd}); err != nil {
		t.Fatal(err)
	}
	if al := s.Aliases(jitRW + 8); len(al) != 1 || al[0] != jitRX+8 {
		t.Fatalf("Aliases(rw+8) = %#x, want [%#x]", al, jitRX+8)
	}
}

// TestJITDoubleMappingAArch64: the guest writes code through the RW view,
// runs IC IVAU on one view, and calls the RX view; each rewrite must be seen.
func TestJITDoubleMappingAArch64(t *testing.T) {
	src := `
	// x19 RW view, x20 RX view, x26 the address given to IC IVAU,
	// x24 the instruction to emit (movz x0, #n), x25 "ret".
	bl emit
	blr x20
	mov x21, x0
	blr x20
	mov x22, x0
	add x24, x24, #(1 << 5) // movz x0, #n+1
	bl emit
	blr x20
	mov x23, x0
	blr x20
	mov x27, x0
	mov x8, #93
	svc #0
emit:
	str w24, [x19]
	str w25, [x19, #4]
	dc cvau, x19
	dsb ish
	ic ivau, x26
	dsb ish
	isb
	ret
`
	ret := binary.LittleEndian.Uint32(insn(t, AArch64, "ret"))
	movz := func(n uint64) uint64 { return 0xd2800000 | n<<5 }
	for _, view := range []struct {
		name string
		addr uint64
	}{{"ivau-rw", jitRW}, {"ivau-rx", jitRX}} {
		t.Run(view.name, func(t *testing.T) {
			e, s, _ := newMachine(t, AArch64, assemble(t, AArch64, src))
			jitSetup(t, s)
			for run, n := range []uint64{1, 10, 20, 21} {
				for r, v := range map[int]uint64{19: jitRW, 20: jitRX, 26: view.addr, 24: movz(n), 25: uint64(ret)} {
					setReg(t, e, r, v)
				}
				wantExit(t, e.Run(codeBase))
				got := [4]uint64{e.Reg(A64X(21)), e.Reg(A64X(22)), e.Reg(A64X(23)), e.Reg(A64X(27))}
				if want := [4]uint64{n, n, n + 1, n + 1}; got != want {
					t.Fatalf("run %d: results %v, want %v (stale code through the RX view)", run, got, want)
				}
			}
		})
	}
}

// TestJITDoubleMappingARM: ARM has no IC IVAU for a hook to see; the guest
// calls cacheflush, whose handler invalidates the range and its aliases.
func TestJITDoubleMappingARM(t *testing.T) {
	const cacheflush = 0xf0002
	for _, m := range armModes {
		t.Run(m.name, func(t *testing.T) {
			// r8 RW view, r9 RX view (|1 for Thumb), r10 the instruction word,
			// r11 the address range to flush (start), r12: 1 to call cacheflush.
			body := "\tmov r0, #1\n\tbx lr\n"
			if m.thumb == 1 {
				body = "\tmovs r0, #1\n\tbx lr\n"
			}
			src := m.header + `
	bl emit
	blx r9
	mov r4, r0
	blx r9
	mov r5, r0
	add r10, r10, #1
	bl emit
	blx r9
	mov r6, r0
	mov r7, #1
	svc 0
emit:
	str r10, [r8]
	cmp r12, #0
	beq 1f
	push {r0-r2, r7, lr}
	mov r0, r11
	add r1, r11, #8
	mov r2, #0
	movw r7, #0x0002
	movt r7, #0x000f
	svc 0
	pop {r0-r2, r7, lr}
1:
	bx lr
	.balign 4
proto:
` + body
			code, syms := assembleSyms(t, ARM, src)
			e, s, h := newMachine(t, ARM, code)
			jitSetup(t, s)
			if err := e.SetReg(ARMSP, dataBase+64*mem.PageSize); err != nil {
				t.Fatal(err)
			}
			// The target's two instructions, written once as one word in Thumb
			// (two halfwords) or the mov alone in ARM (bx lr is written here).
			proto := code[syms["proto"]:]
			var word uint32
			if m.thumb == 1 {
				word = binary.LittleEndian.Uint32(proto[:4]) // movs r0, #1; bx lr
			} else {
				word = binary.LittleEndian.Uint32(proto[:4]) // mov r0, #1
				if err := s.Write(jitRW+4, proto[4:8]); err != nil {
					t.Fatal(err)
				}
			}
			var flushes int
			h.onSyscall = func(e *Engine, nr uint64, args [7]uint64) bool {
				if nr != cacheflush {
					return false
				}
				flushes++
				start, end := mem.GuestAddr(args[0]), mem.GuestAddr(args[1])
				e.InvalidateCode(start, end)
				for _, al := range e.Space().Aliases(start) {
					e.InvalidateCode(al, al+(end-start))
				}
				e.SetSyscallResult(0)
				return true
			}
			for i, c := range []struct {
				name  string
				flush uint64
				n     uint64
			}{
				{"flush-rx", jitRX, 1},
				{"flush-rw", jitRW, 10}, // the handler reaches the RX view through Aliases
				{"flush-rx-again", jitRX, 20},
			} {
				// Immediate of mov r0/movs r0 is the low byte in both encodings.
				w := word&^0xff | uint32(c.n)
				for r, v := range map[int]uint64{8: jitRW, 9: jitRX | m.thumb, 10: uint64(w), 11: c.flush, 12: 1} {
					setReg(t, e, r, v)
				}
				before := flushes
				wantExit(t, e.Run(codeBase|m.thumb))
				if flushes != before+2 {
					t.Fatalf("%s: %d cacheflush calls, want 2", c.name, flushes-before)
				}
				got := [3]uint64{e.Reg(ARMR0 + 4), e.Reg(ARMR0 + 5), e.Reg(ARMR0 + 6)}
				if want := [3]uint64{c.n, c.n, c.n + 1}; got != want {
					t.Fatalf("run %d (%s): results %v, want %v", i, c.name, got, want)
				}
			}

			// Without cacheflush the RX view is expected to run stale code (QEMU
			// cannot see a store through another mapping); only logged.
			setReg(t, e, 12, 0)
			setReg(t, e, 10, uint64(word&^0xff|40))
			wantExit(t, e.Run(codeBase|m.thumb))
			t.Logf("without cacheflush: results %d %d %d (41 41 42 would mean the store was seen)",
				e.Reg(ARMR0+4), e.Reg(ARMR0+5), e.Reg(ARMR0+6))
		})
	}
}
