package cpu

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// System call numbers the handlers below implement.
func munmapNr(a *Arch) uint64 {
	if a == ARM {
		return 91
	}
	return 215
}

func mprotectNr(a *Arch) uint64 {
	if a == ARM {
		return 125
	}
	return 226
}

// memSyscalls makes h implement munmap and mprotect on the engine's space.
func memSyscalls(h *testHandler, a *Arch) *int {
	n := new(int)
	h.onSyscall = func(e *Engine, nr uint64, args [7]uint64) bool {
		var err error
		switch nr {
		case munmapNr(a):
			err = e.Space().Unmap(mem.GuestAddr(args[0]), args[1])
		case mprotectNr(a):
			err = e.Space().Protect(mem.GuestAddr(args[0]), args[1], mem.Prot(args[2]))
		default:
			return false
		}
		*n++
		ret := uint64(0)
		if err != nil {
			ret = -uint64(err.(unix.Errno))
		}
		e.SetSyscallResult(ret)
		return true
	}
	return n
}

// TestUnmapProtectBetweenRuns: Go unmaps or write-protects a page the guest
// has just used (so it is in the TLB); the next access faults.
func TestUnmapProtectBetweenRuns(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr
		if a == ARM {
			src += "load:\n\tldr r1, [r0]\nstore:\n\tstr r1, [r0, #8]\n"
		} else {
			src += "load:\n\tldr x1, [x0]\nstore:\n\tstr x1, [x0, #8]\n"
		}
		code, syms := assembleSyms(t, a, src+exitAsm(a))
		e, s, _ := newMachine(t, a, code)
		run := func() Stop {
			setReg(t, e, 0, dataBase)
			return e.Run(codeBase | thumb)
		}
		if err := s.Write(dataBase, put64(0x42)); err != nil {
			t.Fatal(err)
		}
		wantExit(t, run())
		if got := readU64(t, s, dataBase+8); got != 0x42 {
			t.Fatalf("store wrote %#x", got)
		}

		if err := s.Unmap(dataBase, mem.PageSize); err != nil {
			t.Fatal(err)
		}
		wantFault(t, run(), Fault{PC: sym(t, syms, "load"), Addr: dataBase, Access: mem.ProtRead})

		mapRegion(t, s, dataBase, mem.PageSize, pRW, put64(0x43))
		wantExit(t, run())
		wantRegs(t, e, map[int]uint64{1: 0x43})

		if err := s.Protect(dataBase, mem.PageSize, pR); err != nil {
			t.Fatal(err)
		}
		wantFault(t, run(), Fault{PC: sym(t, syms, "store"), Addr: dataBase + 8, Access: mem.ProtWrite, Mapped: true})

		if err := s.Protect(dataBase, mem.PageSize, mem.ProtNone); err != nil {
			t.Fatal(err)
		}
		wantFault(t, run(), Fault{PC: sym(t, syms, "load"), Addr: dataBase, Access: mem.ProtRead, Mapped: true})

		if err := s.Protect(dataBase, mem.PageSize, pRW); err != nil {
			t.Fatal(err)
		}
		wantExit(t, run())
	})
}

// warmAsm loads from and stores to the page at register 19 (r8 on ARM) a
// hundred times, so its translation is in the TLB when the system call comes.
func warmAsm(a *Arch) string {
	if a == ARM {
		return "\tmov r9, #100\nwarm:\n\tldr r1, [r8]\n\tstr r1, [r8, #8]\n\tsubs r9, r9, #1\n\tbne warm\n"
	}
	return "\tmov x9, #100\nwarm:\n\tldr x1, [x19]\n\tstr x1, [x19, #8]\n\tsubs x9, x9, #1\n\tb.ne warm\n"
}

// syscallAsm calls nr with arguments (page register, 4096, prot), then keeps
// the result in x20 (r10); after_svc labels the instruction after the svc.
func syscallAsm(a *Arch, nr uint64, page string, prot int) string {
	if a == ARM {
		return fmt.Sprintf("\tmov r0, %s\n\tmov r1, #4096\n\tmov r2, #%d\n\tmov r7, #%d\n\tsvc 0\nafter_svc:\n\tmov r10, r0\n", page, prot, nr)
	}
	return fmt.Sprintf("\tmov x0, %s\n\tmov x1, #4096\n\tmov x2, #%d\n\tmov x8, #%d\n\tsvc #0\nafter_svc:\n\tmov x20, x0\n", page, prot, nr)
}

// TestUnmapInSyscall: the guest's munmap, handled inside the hook, takes effect
// for the very next instruction.
func TestUnmapInSyscall(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		pageReg, res, load := "x19", 20, "\tldr x3, [x19, #8]\n"
		if a == ARM {
			pageReg, res, load = "r8", 10, "\tldr r3, [r8, #8]\n"
		}
		src := hdr + movImm32(a, map[bool]int{true: 8, false: 19}[a == ARM], dataBase) + warmAsm(a) +
			syscallAsm(a, munmapNr(a), pageReg, 0) + "fault:\n" + load + exitAsm(a)
		code, syms := assembleSyms(t, a, src)
		e, s, h := newMachine(t, a, code)
		calls := memSyscalls(h, a)
		setReg(t, e, res, 0x99)
		wantFault(t, e.Run(codeBase|thumb), Fault{PC: sym(t, syms, "fault"), Addr: dataBase + 8, Access: mem.ProtRead})
		if *calls != 1 || getReg(e, res) != 0 {
			t.Fatalf("munmap calls %d, result %#x", *calls, getReg(e, res))
		}
		if _, ok := s.Find(dataBase); ok {
			t.Fatal("page still mapped")
		}
		if m, ok := s.Find(dataBase + mem.PageSize); !ok || m.Start != dataBase+mem.PageSize {
			t.Fatalf("rest of the data area: %+v %v", m, ok)
		}
	})
}

// TestProtectInSyscall: mprotect(PROT_READ) in the hook; the next load works,
// the next store faults, and the program resumes once Go allows writing again.
func TestProtectInSyscall(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		pageReg, res, body := "x19", 20, "\tldr x3, [x19, #8]\nfault:\n\tstr x3, [x19, #16]\n"
		if a == ARM {
			pageReg, res, body = "r8", 10, "\tldr r3, [r8, #8]\nfault:\n\tstr r3, [r8, #16]\n"
		}
		src := hdr + movImm32(a, map[bool]int{true: 8, false: 19}[a == ARM], dataBase) + warmAsm(a) +
			syscallAsm(a, mprotectNr(a), pageReg, int(mem.ProtRead)) + body + exitAsm(a)
		code, syms := assembleSyms(t, a, src)
		e, s, h := newMachine(t, a, code)
		memSyscalls(h, a)
		if err := s.Write(dataBase, put64(0x1234)); err != nil {
			t.Fatal(err)
		}
		stop := e.Run(codeBase | thumb)
		wantFault(t, stop, Fault{PC: sym(t, syms, "fault"), Addr: dataBase + 16, Access: mem.ProtWrite, Mapped: true})
		wantRegs(t, e, map[int]uint64{3: 0x1234, res: 0})
		if err := s.Protect(dataBase, mem.PageSize, pRW); err != nil {
			t.Fatal(err)
		}
		wantExit(t, e.Run(a.ResumePC(e, stop.PC)))
		if got := readU64(t, s, dataBase+16); got != 0x1234 {
			t.Fatalf("resumed store wrote %#x", got)
		}
	})
}

// TestUnmapOwnCodeInSyscall and TestProtectOwnCodeInSyscall: the guest
// unmaps, or removes EXEC from, the page it is running on; the instruction
// after the system call must not run.
func TestUnmapOwnCodeInSyscall(t *testing.T) {
	testOwnCode(t, false)
}

func TestProtectOwnCodeInSyscall(t *testing.T) {
	testOwnCode(t, true)
}

func testOwnCode(t *testing.T, protect bool) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		nr := munmapNr(a)
		if protect {
			nr = mprotectNr(a)
		}
		pageReg, mark := "x19", "\tmov x21, #1\n"
		if a == ARM {
			pageReg, mark = "r8", "\tmov r11, #1\n"
		}
		src := hdr + movImm32(a, map[bool]int{true: 8, false: 19}[a == ARM], codeBase) +
			syscallAsm(a, nr, pageReg, int(mem.ProtRead)) + "next:\n" + mark + exitAsm(a)
		code, syms := assembleSyms(t, a, src)
		e, s, h := newMachine(t, a, code)
		memSyscalls(h, a)
		markReg := map[bool]int{true: 11, false: 21}[a == ARM]
		// Run once with the system call doing nothing, so all of it is translated.
		h2 := h.onSyscall
		h.onSyscall = func(e *Engine, nr uint64, args [7]uint64) bool {
			if nr == 1 || nr == 93 {
				return false
			}
			e.SetSyscallResult(0)
			return true
		}
		wantExit(t, e.Run(codeBase|thumb))
		wantRegs(t, e, map[int]uint64{markReg: 1})
		h.onSyscall = h2

		setReg(t, e, markReg, 0)
		next := sym(t, syms, "after_svc")
		stop := e.Run(codeBase | thumb)
		wantFault(t, stop, Fault{PC: next, Addr: next, Access: mem.ProtExec, Mapped: protect})
		wantRegs(t, e, map[int]uint64{markReg: 0})

		if protect {
			if err := s.Protect(codeBase, mem.PageSize, pRX); err != nil {
				t.Fatal(err)
			}
		} else {
			mapRegion(t, s, codeBase, mem.PageSize, pRW, code)
			if err := s.Protect(codeBase, mem.PageSize, pRX); err != nil {
				t.Fatal(err)
			}
		}
		wantExit(t, e.Run(a.ResumePC(e, stop.PC)))
		wantRegs(t, e, map[int]uint64{markReg: 1})
	})
}

// TestTenThousandMappings: 10,000 separate mappings (alternating RW and R,
// so no two could be one), touched by guest code, then half unmapped.
func TestTenThousandMappings(t *testing.T) {
	const n = 10000
	const base = 0x10000000
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		// r0/x0 base, r1/x1 count; sum of the first words in r2/x2; even pages
		// get 3*i stored at +8.
		var src string
		if a == ARM {
			src = hdr + `
	mov r2, #0
	mov r3, #0
loop:
	ldr r4, [r0]
	add r2, r2, r4
	tst r3, #1
	bne skip
	add r5, r3, r3, lsl #1
	str r5, [r0, #8]
skip:
	add r0, r0, #4096
	add r3, r3, #1
	cmp r3, r1
	bne loop
`
		} else {
			src = `
	mov x2, #0
	mov x3, #0
loop:
	ldr x4, [x0]
	add x2, x2, x4
	tbnz x3, #0, skip
	add x5, x3, x3, lsl #1
	str x5, [x0, #8]
skip:
	add x0, x0, #4096
	add x3, x3, #1
	cmp x3, x1
	b.ne loop
`
		}
		e, s, _ := newMachine(t, a, assemble(t, a, src+exitAsm(a)))
		before := s.Count()

		start := time.Now()
		for i := 0; i < n; i++ {
			prot := pRW
			if i%2 == 1 {
				prot = pR
			}
			if _, err := s.Map(mem.MapRequest{Addr: base + mem.GuestAddr(i)*mem.PageSize, Length: mem.PageSize, Prot: prot, Fixed: true, FD: -1}); err != nil {
				t.Fatalf("map %d: %v", i, err)
			}
		}
		mapTime := time.Since(start)
		if got := s.Count(); got != before+n {
			t.Fatalf("Count = %d, want %d", got, before+n)
		}
		for i := 0; i < n; i++ {
			if err := s.Poke(base+mem.GuestAddr(i)*mem.PageSize, put64(uint64(i))); err != nil {
				t.Fatal(err)
			}
		}

		setReg(t, e, 0, base)
		setReg(t, e, 1, n)
		start = time.Now()
		wantExit(t, e.Run(codeBase|thumb))
		runTime := time.Since(start)
		wantRegs(t, e, map[int]uint64{2: n * (n - 1) / 2})
		for i := 0; i < n; i++ {
			want := uint64(0)
			if i%2 == 0 {
				want = uint64(3 * i)
			}
			if got := readU64(t, s, base+mem.GuestAddr(i)*mem.PageSize+8); got != want {
				t.Fatalf("page %d: +8 = %d, want %d", i, got, want)
			}
		}

		// Unmap the read-only half.
		start = time.Now()
		for i := 1; i < n; i += 2 {
			if err := s.Unmap(base+mem.GuestAddr(i)*mem.PageSize, mem.PageSize); err != nil {
				t.Fatal(err)
			}
		}
		unmapTime := time.Since(start)
		if got := s.Count(); got != before+n/2 {
			t.Fatalf("Count after unmapping half = %d, want %d", got, before+n/2)
		}
		start = time.Now()
		for i := 0; i < n; i++ {
			va := base + mem.GuestAddr(i)*mem.PageSize + 100
			m, ok := s.Find(va)
			if i%2 == 1 {
				if ok {
					t.Fatalf("page %d still mapped: %+v", i, m)
				}
				continue
			}
			if !ok || m.Start != va-100 || m.End != va-100+mem.PageSize || m.Prot != pRW {
				t.Fatalf("page %d: %+v %v", i, m, ok)
			}
		}
		findTime := time.Since(start)
		ms := s.Mappings()
		for i := 1; i < len(ms); i++ {
			if ms[i-1].End > ms[i].Start {
				t.Fatalf("Mappings out of order at %d: %+v %+v", i, ms[i-1], ms[i])
			}
		}

		// The guest now faults on the first unmapped page it reaches.
		setReg(t, e, 0, base)
		stop := e.Run(codeBase | thumb)
		if stop.Kind != StopFault || stop.Fault.Addr != base+mem.PageSize || stop.Fault.Access != mem.ProtRead || stop.Fault.Mapped {
			t.Fatalf("stop = %+v, want a read fault at %#x", stop, base+mem.PageSize)
		}
		t.Logf("%d maps %v (%v each), guest pass %v, %d unmaps %v, %d finds %v",
			n, mapTime, mapTime/n, runTime, n/2, unmapTime, n, findTime)
	})
}

// TestManyPageLoads64 is the link check: 64-bit loads that miss the TLB on
// 8192 distinct pages (a libunicorn linked without --no-relax overflows its
// stack here).
func TestManyPageLoads64(t *testing.T) {
	const pages = 8192
	const base = 0x10000000
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		var src string
		if a == ARM {
			src = hdr + `
	mov r4, #0
	mov r5, #0
loop:
	ldrd r2, r3, [r0]
	add r4, r4, r2
	add r5, r5, r3
	add r0, r0, #4096
	subs r9, r9, #1
	bne loop
`
		} else {
			src = `
	mov x2, #0
loop:
	ldr x1, [x0]
	add x2, x2, x1
	add x0, x0, #4096
	subs x9, x9, #1
	b.ne loop
`
		}
		e, s, _ := newMachine(t, a, assemble(t, a, src+exitAsm(a)))
		e.SetTLBGrowth(0) // keep the TLB small: every page is a miss
		mapRegion(t, s, base, pages*mem.PageSize, pRW, nil)
		for i := uint64(0); i < pages; i++ {
			if err := s.Write(base+mem.GuestAddr(i*mem.PageSize), put64(i|(2*i)<<32)); err != nil {
				t.Fatal(err)
			}
		}
		const sum = pages * (pages - 1) / 2
		for pass := 0; pass < 3; pass++ {
			fills := e.Stats().TLBFills
			setReg(t, e, 0, base)
			setReg(t, e, 9, pages)
			wantExit(t, e.Run(codeBase|thumb))
			if a == ARM {
				wantRegs(t, e, map[int]uint64{4: sum, 5: 2 * sum})
			} else {
				wantRegs(t, e, map[int]uint64{2: sum | (2*sum)<<32})
			}
			if got := e.Stats().TLBFills - fills; got < pages {
				t.Fatalf("pass %d: %d TLB fills, want at least %d", pass, got, pages)
			}
		}
	})
}
