package cpu

import (
	"runtime"
	"strings"
	"sync"
	"testing"

	"xemu/cpu/mem"
)

// Two engines on two host threads over one address space increment one
// shared word; TCG's parallel mode (tcgwrap.c) makes exclusives and LSE
// atomics host atomics, so no increment is lost.

const parallelIters = 200000

func TestParallelIncrements(t *testing.T) {
	for _, c := range []struct {
		name string
		a    *Arch
		src  string
	}{
		{"aarch64/ldaxr-stlxr", AArch64, `
loop:
	ldaxr x1, [x0]
	add x1, x1, #1
	stlxr w3, x1, [x0]
	cbnz w3, loop
	subs x2, x2, #1
	b.ne loop
`},
		{"aarch64/ldaddal", AArch64, `
.arch armv8.1-a
	mov x4, #1
loop:
	ldaddal x4, x1, [x0]
	subs x2, x2, #1
	b.ne loop
`},
		// A spinlock around a plain counter: CAS, acquire/release and
		// plain loads and stores must all order across engines.
		{"aarch64/casa-spinlock", AArch64, `
.arch armv8.1-a
	add x11, x0, #64
	mov w10, #1
loop:
	mov w9, #0
	casa w9, w10, [x11]
	cbnz w9, loop
	ldr x1, [x0]
	add x1, x1, #1
	str x1, [x0]
	stlr wzr, [x11]
	subs x2, x2, #1
	b.ne loop
`},
		{"arm/ldrex-spinlock-dmb", ARM, armModes[0].header + `
	add r8, r0, #64
	mov r9, #1
loop:
	ldrex r10, [r8]
	cmp r10, #0
	bne loop
	strex r10, r9, [r8]
	cmp r10, #0
	bne loop
	dmb ish
	ldr r1, [r0]
	add r1, r1, #1
	str r1, [r0]
	dmb ish
	mov r10, #0
	str r10, [r8]
	subs r2, r2, #1
	bne loop
`},
		{"arm/ldrex-strex", ARM, armModes[0].header + `
loop:
	ldrex r1, [r0]
	add r1, r1, #1
	strex r3, r1, [r0]
	cmp r3, #0
	bne loop
	subs r2, r2, #1
	bne loop
`},
		{"thumb/ldrex-strex", ARM, armModes[1].header + `
loop:
	ldrex r1, [r0]
	add r1, r1, #1
	strex r3, r1, [r0]
	cmp r3, #0
	bne loop
	subs r2, r2, #1
	bne loop
`},
	} {
		t.Run(c.name, func(t *testing.T) {
			thumb := uint64(0)
			if c.name[:5] == "thumb" {
				thumb = 1
			}
			// Both engines raise their flag and wait for the other's before
			// counting, so that the increments overlap.
			barrier := "\tmov x7, #1\n\tstr x7, [x5]\nwait:\n\tldr x7, [x6]\n\tcbz x7, wait\n"
			if c.a == ARM {
				barrier = "\tmov r7, #1\n\tstr r7, [r5]\nwait:\n\tldr r7, [r6]\n\tcmp r7, #0\n\tbeq wait\n"
			}
			hdr, body := "", c.src
			if i := strings.Index(c.src, "loop:"); i >= 0 {
				hdr, body = c.src[:i], c.src[i:]
			}
			code := assemble(t, c.a, hdr+barrier+body+exitAsm(c.a))
			limit := mem.GuestAddr(1 << 47)
			if c.a.Bits == 32 {
				limit = 0xffff0000
			}
			s, err := mem.New(mem.Layout{Limit: limit, MinAddr: 0x10000, ArenaSize: 64 << 20})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			mapRegion(t, s, codeBase, mem.PageSize, pRX, code)
			mapRegion(t, s, dataBase, mem.PageSize, pRW, nil)

			const engines = 2
			var ready, start sync.WaitGroup
			ready.Add(engines)
			start.Add(1)
			stops := make([]Stop, engines)
			errs := make([]error, engines)
			var done sync.WaitGroup
			for i := 0; i < engines; i++ {
				done.Add(1)
				go func(i int) {
					defer done.Done()
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					e, err := Open(Config{Arch: c.a, Space: s, Handler: &testHandler{}})
					if err != nil {
						errs[i] = err
						ready.Done()
						return
					}
					defer e.Close()
					e.SetReg(reg(c.a, 0), dataBase)
					e.SetReg(reg(c.a, 2), parallelIters)
					e.SetReg(reg(c.a, 5), dataBase+0x100+8*uint64(i))
					e.SetReg(reg(c.a, 6), dataBase+0x100+8*uint64(1-i))
					ready.Done()
					start.Wait()
					stops[i] = e.Run(codeBase | thumb)
				}(i)
			}
			ready.Wait()
			start.Done()
			done.Wait()
			for i := range stops {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				wantExit(t, stops[i])
			}
			got := readU64(t, s, dataBase)
			if c.a == ARM {
				got &= 0xffffffff
			}
			if got != engines*parallelIters {
				t.Fatalf("shared counter = %d, want %d", got, engines*parallelIters)
			}
		})
	}
}
