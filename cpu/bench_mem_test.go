package cpu

import (
	"testing"
	"time"
)

// BenchmarkMemLoop: two loads and two stores per iteration (a read-modify-
// write of two counters), the loop that pays for Unicorn's exit check after
// every guest access; and a pointer chase (one dependent load per iteration).
func BenchmarkMemLoop(b *testing.B) {
	for _, ba := range benchArches {
		for _, kind := range []string{"rmw", "chase"} {
			b.Run(ba.name+"/"+kind, func(b *testing.B) {
				src := `
loop:
	ldr x1, [x0]
	ldr x3, [x0, #8]
	add x1, x1, #1
	add x3, x3, x1
	str x1, [x0]
	str x3, [x0, #8]
	subs x2, x2, #1
	b.ne loop
`
				if kind == "chase" {
					src = "loop:\n\tldr x0, [x0]\n\tsubs x2, x2, #1\n\tb.ne loop\n"
				}
				if ba.a == ARM {
					src = ba.hdr + `
loop:
	ldr r1, [r0]
	ldr r3, [r0, #4]
	add r1, r1, #1
	add r3, r3, r1
	str r1, [r0]
	str r3, [r0, #4]
	subs r2, r2, #1
	bne loop
`
					if kind == "chase" {
						src = ba.hdr + "loop:\n\tldr r0, [r0]\n\tsubs r2, r2, #1\n\tbne loop\n"
					}
				}
				e, s, _ := newMachine(b, ba.a, assemble(b, ba.a, src+exitAsm(ba.a)))
				// The chase follows a pointer to itself.
				p := put64(dataBase)
				if ba.a == ARM {
					p = p[:4]
				}
				if err := s.Write(dataBase, p); err != nil {
					b.Fatal(err)
				}
				setReg(b, e, 0, dataBase)
				setReg(b, e, 2, uint64(b.N))
				b.ResetTimer()
				start := time.Now()
				wantExit(b, e.Run(codeBase|ba.thumb))
				el := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(el.Nanoseconds())/float64(b.N), "ns/iter")
			})
		}
	}
}
