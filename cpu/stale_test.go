package cpu

import (
	"testing"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// Translated code is keyed by arena offset ("physical" address) and guest
// address. These tests build the cases where both repeat with new bytes
// behind them, which a missing invalidation turns into stale code.

// TestStaleCodeAfterExecRemovedAndUnmapped: code runs from a file mapping, the
// guest makes it non-executable and unmaps it, then maps another file at the
// same address. The new mapping gets the same arena slot; nothing stored to
// it, so only an invalidation on the way can keep the old translation out.
func TestStaleCodeAfterExecRemovedAndUnmapped(t *testing.T) {
	const base = 0x30000000
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		for _, via := range []mem.Prot{pRW, mem.ProtNone} {
			t.Run(map[mem.Prot]string{pRW: "rw", mem.ProtNone: "none"}[via], func(t *testing.T) {
				src := xemuProgram(a, hdr)
				code1, syms := assembleSyms(t, a, src)
				code2 := append([]byte(nil), code1...)
				copy(code2[syms["target"]:], movR0(t, a, hdr, 2))
				e, s, _ := newMachine(t, a, code1)
				res := map[bool]int{true: 4, false: 19}[a == ARM]

				mapFile := func(code []byte) uint64 {
					fd, err := unix.MemfdCreate("code", unix.MFD_CLOEXEC)
					if err != nil {
						t.Fatal(err)
					}
					defer unix.Close(fd)
					if _, err := unix.Pwrite(fd, code, 0); err != nil {
						t.Fatal(err)
					}
					if _, err := s.Map(mem.MapRequest{Addr: base, Length: uint64(len(code)), Prot: pRX, Fixed: true, FD: fd}); err != nil {
						t.Fatal(err)
					}
					m, _ := s.Find(base)
					return m.Phys
				}
				phys1 := mapFile(code1)
				for i := 0; i < 2; i++ {
					wantExit(t, e.Run(base|thumb))
					if got := getReg(e, res); got != 1 {
						t.Fatalf("first file: result %d, want 1", got)
					}
				}
				if err := s.Protect(base, uint64(len(code1)), via); err != nil {
					t.Fatal(err)
				}
				if err := s.Unmap(base, uint64(len(code1))); err != nil {
					t.Fatal(err)
				}
				phys2 := mapFile(code2)
				if phys1 != phys2 {
					t.Logf("arena slot not reused (%#x, then %#x): the case is not exercised", phys1, phys2)
				}
				wantExit(t, e.Run(base|thumb))
				if got := getReg(e, res); got != 2 {
					t.Fatalf("second file: result %d, want 2 (code translated from the first file ran)", got)
				}
			})
		}
	})
}

// TestARMCodeAboveArena4GiB: ARM's arena is 8 GiB, so code may sit at an arena
// offset above 4 GiB; invalidating it must still work (Unicorn truncates the
// offset to the 32-bit target_ulong in uc_ctl_remove_cache).
func TestARMCodeAboveArena4GiB(t *testing.T) {
	for _, m := range armModes {
		t.Run(m.name, func(t *testing.T) {
			code, syms := assembleSyms(t, ARM, xemuProgram(ARM, m.header))
			e, s, _ := newMachine(t, ARM, code)
			// Fourteen 256 MiB mappings, taken from the arena in order; the odd
			// ones sit together in guest space, the even ones elsewhere, and
			// each is a page away from the next so no two share an arena run.
			const piece = 256 << 20
			odd, even := mem.GuestAddr(0x10000000), mem.GuestAddr(0x80010000)
			var odds []mem.GuestAddr
			for i := 0; i < 14; i++ {
				at := &even
				if i%2 == 1 {
					at = &odd
					odds = append(odds, odd)
				}
				mapRegion(t, s, *at, piece, pRW, nil)
				*at += piece + mem.PageSize
			}
			for _, a := range odds {
				if err := s.Unmap(a, piece); err != nil {
					t.Fatal(err)
				}
			}
			// 1 GiB fits in no 256 MiB hole: its arena slot ends above 4 GiB.
			const big = 1 << 30
			mapRegion(t, s, 0x10000000, big, pRW, nil)
			at := mem.GuestAddr(0x10000000 + big - mem.PageSize)
			if err := s.Write(at, code); err != nil {
				t.Fatal(err)
			}
			if err := s.Protect(at, mem.PageSize, pRX); err != nil {
				t.Fatal(err)
			}
			mp, _ := s.Find(at)
			if mp.Phys < 1<<32 {
				t.Fatalf("code at arena offset %#x: test setup did not reach above 4 GiB", mp.Phys)
			}
			t.Logf("code at arena offset %#x", mp.Phys)
			target := at + mem.GuestAddr(syms["target"])
			for v := 1; v <= 3; v++ {
				if v > 1 {
					if err := s.Poke(target, movR0(t, ARM, m.header, v)); err != nil {
						t.Fatal(err)
					}
				}
				for i := 0; i < 2; i++ {
					wantExit(t, e.Run(uint64(at)|m.thumb))
					if got := e.Reg(ARMR0 + 4); got != uint64(v) {
						t.Fatalf("result %d, want %d (stale code after invalidation)", got, v)
					}
				}
			}

			// Guest stores into RWX code up there (QEMU's own detection).
			smc := assemble(t, ARM, smcProgram(ARM, m.header, true, false))
			if err := s.Protect(at, mem.PageSize, pRWX); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(at, smc); err != nil {
				t.Fatal(err)
			}
			wantExit(t, e.Run(uint64(at)|m.thumb))
			if got, want := smcResults(e), [4]uint64{1, 1, 2, 2}; got != want {
				t.Fatalf("self-modifying code above 4 GiB: results %v, want %v", got, want)
			}
		})
	}
}
