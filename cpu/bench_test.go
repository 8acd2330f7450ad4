package cpu

import (
	"fmt"
	"testing"
	"time"

	"xemu/cpu/mem"
)

// benchArches are the architectures (and ARM instruction sets) benchmarked.
var benchArches = []struct {
	name  string
	a     *Arch
	hdr   string
	thumb uint64
}{
	{"aarch64", AArch64, "", 0},
	{"arm", ARM, armModes[0].header, 0},
	{"thumb", ARM, armModes[1].header, 1},
}

// BenchmarkSyscallRoundTrip: guest svc -> C hook -> Go handler -> guest.
func BenchmarkSyscallRoundTrip(b *testing.B) {
	for _, ba := range benchArches {
		// args: how many argument registers the call reads (the syscall
		// table sets this per call; getpid-like calls read none).
		for _, args := range []int{0, 3, -1} {
			name := fmt.Sprintf("%s/args=%d", ba.name, args)
			if args < 0 {
				name = ba.name + "/args=all"
			}
			b.Run(name, func(b *testing.B) {
				nr := uint64(172)
				src := ba.hdr + "loop:\n\tmov x8, #172\n\tsvc #0\n\tsubs x9, x9, #1\n\tb.ne loop\n"
				if ba.a == ARM {
					nr = 20
					src = ba.hdr + "\tmov r7, #20\nloop:\n\tsvc 0\n\tsubs r9, r9, #1\n\tbne loop\n"
				}
				e, _, h := newMachine(b, ba.a, assemble(b, ba.a, src+exitAsm(ba.a)))
				if args >= 0 {
					e.SetSyscallArgCount(nr, args)
				}
				setReg(b, e, 9, uint64(b.N))
				b.ResetTimer()
				start := time.Now()
				wantExit(b, e.Run(codeBase|ba.thumb))
				el := time.Since(start)
				b.StopTimer()
				if h.calls != b.N+1 {
					b.Fatalf("%d system calls, want %d", h.calls, b.N+1)
				}
				b.ReportMetric(float64(el.Nanoseconds())/float64(b.N), "ns/syscall")
			})
		}
	}
}

// BenchmarkStoreLoop: add; str; cmp; b.ne over one data page. Data pages
// are answered without EXEC so stores stay on QEMU's fast path.
func BenchmarkStoreLoop(b *testing.B) {
	for _, ba := range benchArches {
		b.Run(ba.name, func(b *testing.B) {
			src := "\tmov x1, #0\nloop:\n\tadd x1, x1, #1\n\tstr x1, [x0]\n\tcmp x1, x2\n\tb.ne loop\n"
			if ba.a == ARM {
				src = ba.hdr + "\tmov r1, #0\nloop:\n\tadd r1, r1, #1\n\tstr r1, [r0]\n\tcmp r1, r2\n\tbne loop\n"
			}
			e, s, _ := newMachine(b, ba.a, assemble(b, ba.a, src+exitAsm(ba.a)))
			setReg(b, e, 0, dataBase)
			setReg(b, e, 2, uint64(b.N))
			b.ResetTimer()
			start := time.Now()
			wantExit(b, e.Run(codeBase|ba.thumb))
			el := time.Since(start)
			b.StopTimer()
			if got := readU64(b, s, dataBase); got&0xffffffff != uint64(b.N)&0xffffffff {
				b.Fatalf("stored %d, want %d", got, b.N)
			}
			b.ReportMetric(float64(el.Nanoseconds())/float64(b.N), "ns/iter")
		})
	}
}

// BenchmarkTLBGrowth: a page-strided walk over 16 MiB (4096 pages, more than
// QEMU's initial TLB holds), with the TLB never flushed to grow
// (SetTLBGrowth(0)) and with the default; one op is one pass.
func BenchmarkTLBGrowth(b *testing.B) {
	const pages = 4096
	const base = 0x10000000
	for _, ba := range benchArches[:2] {
		for _, grow := range []struct {
			name    string
			flushes int // growth flushes allowed; -1: the default
		}{{"grow=0", 0}, {"grow=default", -1}} {
			b.Run(ba.name+"/"+grow.name, func(b *testing.B) {
				src := `
outer:
	mov x3, x0
	mov x4, #4096
inner:
	ldr x1, [x3]
	add x3, x3, #4096
	subs x4, x4, #1
	b.ne inner
	subs x9, x9, #1
	b.ne outer
`
				if ba.a == ARM {
					src = ba.hdr + `
outer:
	mov r3, r0
	mov r4, #4096
inner:
	ldr r1, [r3]
	add r3, r3, #4096
	subs r4, r4, #1
	bne inner
	subs r9, r9, #1
	bne outer
`
				}
				e, s, _ := newMachine(b, ba.a, assemble(b, ba.a, src+exitAsm(ba.a)))
				if grow.flushes >= 0 {
					e.SetTLBGrowth(grow.flushes)
				}
				mapRegion(b, s, base, pages*mem.PageSize, pRW, nil)
				for i := 0; i < pages; i++ {
					if err := s.Write(base+mem.GuestAddr(i)*mem.PageSize, []byte{1}); err != nil {
						b.Fatal(err)
					}
				}
				setReg(b, e, 0, base)
				setReg(b, e, 9, uint64(b.N))
				b.ResetTimer()
				start := time.Now()
				wantExit(b, e.Run(codeBase|ba.thumb))
				el := time.Since(start)
				b.StopTimer()
				st := e.Stats()
				loads := float64(b.N) * pages
				b.ReportMetric(float64(el.Nanoseconds())/loads, "ns/load")
				b.ReportMetric(float64(st.TLBFills)/loads, "fills/load")
				b.ReportMetric(float64(st.GrowFlushes), "growflushes")
			})
		}
	}
}
