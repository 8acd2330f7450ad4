package cpu

import (
	"math/rand"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"xemu/cpu/mem"
)

// Interrupt from another goroutine (another host thread): Run returns
// StopInterrupted at a block start, with registers that match memory, and
// nothing executed twice.

// running reports whether the engine is inside uc_emu_start.
func running(e *Engine) bool {
	return atomic.LoadInt32((*int32)(unsafe.Pointer(&e.c.running))) != 0
}

// interruptRounds runs the engine from pc rounds times; each time another
// goroutine interrupts it after a random delay once it runs, and check
// looks at the state it stopped in.
func interruptRounds(t *testing.T, e *Engine, pc uint64, rounds int, check func(round int, stop Stop)) {
	t.Helper()
	start := make(chan struct{})
	done := make(chan struct{})
	var returned atomic.Bool // Run returned: stop waiting for it to run
	go func() {
		defer close(done)
		rng := rand.New(rand.NewSource(1))
		for range start {
			for !running(e) {
				if returned.Load() {
					break
				}
				runtime.Gosched()
			}
			if d := rng.Intn(60); d > 0 {
				time.Sleep(time.Duration(d) * time.Microsecond)
			}
			e.Interrupt()
		}
	}()
	defer func() { close(start); <-done }()
	for i := 0; i < rounds; i++ {
		returned.Store(false)
		start <- struct{}{}
		stop := e.Run(pc)
		returned.Store(true)
		if stop.Kind != StopInterrupted {
			t.Fatalf("round %d: stop = %+v, want StopInterrupted", i, stop)
		}
		if e.Interrupted() {
			t.Fatalf("round %d: interrupt still pending after it was reported", i)
		}
		check(i, stop)
		if t.Failed() {
			return
		}
		pc = e.Arch().ResumePC(e, stop.PC)
	}
}

func TestInterruptSpin(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		code, syms := assembleSyms(t, a, hdr+"\tnop\nspin:\n\tb spin\n"+exitAsm(a))
		e, _, _ := newMachine(t, a, code)
		spin := sym(t, syms, "spin")
		interruptRounds(t, e, codeBase|thumb, 50, func(i int, stop Stop) {
			if stop.PC != spin && !(i == 0 && stop.PC == codeBase) {
				t.Errorf("round %d: stopped at %#x, want the loop at %#x", i, stop.PC, spin)
			}
		})
	})
}

// loadStoreLoop counts iterations in register 2 and in memory through a
// load, an add and a store; x0/r0 chases a ring of pointers (a load into its
// own base register: run twice, it skips a node).
func loadStoreLoop(a *Arch, hdr string) string {
	if a == ARM {
		return hdr + `
loop:
	ldr r0, [r0]
	ldr r1, [r3]
	add r1, r1, #1
	str r1, [r3]
	add r2, r2, #1
	b loop
`
	}
	return `
loop:
	ldr x0, [x0]
	ldr x1, [x3]
	add x1, x1, #1
	str x1, [x3]
	add x2, x2, #1
	b loop
`
}

// chaseLoop only follows the ring.
func chaseLoop(a *Arch, hdr string) string {
	if a == ARM {
		return hdr + "loop:\n\tldr r0, [r0]\n\tadd r2, r2, #1\n\tb loop\n"
	}
	return "loop:\n\tldr x0, [x0]\n\tadd x2, x2, #1\n\tb loop\n"
}

const ringNodes = 7

// setupRing writes a ring of pointers at dataBase, nodes 16 bytes apart.
func setupRing(t testing.TB, a *Arch, s *mem.AddressSpace) {
	for i := uint64(0); i < ringNodes; i++ {
		next := dataBase + ((i+1)%ringNodes)*16
		b := put64(next)
		if a == ARM {
			b = b[:4]
		}
		if err := s.Poke(mem.GuestAddr(dataBase+i*16), b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInterruptLoops(t *testing.T) {
	for _, l := range []struct {
		name   string
		src    func(*Arch, string) string
		memory bool // the loop also counts in memory
	}{{"loadstore", loadStoreLoop, true}, {"chase", chaseLoop, false}} {
		t.Run(l.name, func(t *testing.T) {
			forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
				code, syms := assembleSyms(t, a, l.src(a, hdr))
				e, s, _ := newMachine(t, a, code)
				setupRing(t, a, s)
				counter := mem.GuestAddr(dataBase + 0x1000)
				setReg(t, e, 0, dataBase)
				setReg(t, e, 2, 0)
				setReg(t, e, 3, uint64(counter))
				loop := sym(t, syms, "loop")
				mask := ^uint64(0)
				if a == ARM {
					mask = 0xffffffff
				}
				var lastN uint64
				interruptRounds(t, e, loop|thumb, 300, func(i int, stop Stop) {
					n := getReg(e, 2)
					if stop.PC != loop {
						t.Errorf("round %d: stopped at %#x, want the block start %#x", i, stop.PC, loop)
					}
					if want := dataBase + (n%ringNodes)*16; getReg(e, 0) != want {
						t.Errorf("round %d: after %d iterations the chase is at %#x, want %#x (a load ran twice)", i, n, getReg(e, 0), want)
					}
					if l.memory {
						if got := readU64(t, s, counter) & mask; got != n {
							t.Errorf("round %d: memory counts %d, the register %d", i, got, n)
						}
					}
					if n < lastN {
						t.Errorf("round %d: iterations went back from %d to %d", i, lastN, n)
					}
					lastN = n
				})
				if lastN == 0 {
					t.Fatalf("the loop never ran")
				}
			})
		})
	}
}

// TestInterruptPending: an Interrupt sent before Run makes Run return at once,
// having executed nothing; the next Run runs normally.
func TestInterruptPending(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + "\tadd x5, x5, #1\n"
		if a == ARM {
			src = hdr + "\tadd r5, r5, #1\n"
		}
		code := assemble(t, a, src+exitAsm(a))
		e, _, _ := newMachine(t, a, code)
		setReg(t, e, 5, 10)
		e.Interrupt()
		if !e.Interrupted() {
			t.Fatal("Interrupted() = false after Interrupt")
		}
		stop := e.Run(codeBase | thumb)
		if stop.Kind != StopInterrupted || stop.PC != codeBase {
			t.Fatalf("stop = %+v, want StopInterrupted at %#x", stop, codeBase)
		}
		if got := a.ResumePC(e, stop.PC); got != codeBase|thumb {
			t.Fatalf("ResumePC = %#x, want %#x", got, codeBase|thumb)
		}
		wantRegs(t, e, map[int]uint64{5: 10})
		wantExit(t, e.Run(a.ResumePC(e, stop.PC)))
		wantRegs(t, e, map[int]uint64{5: 11})

		// Cleared before Run: nothing is reported.
		e.Interrupt()
		if !e.ClearInterrupt() || e.Interrupted() || e.ClearInterrupt() {
			t.Fatal("ClearInterrupt did not take exactly the one pending interrupt")
		}
		wantExit(t, e.Run(codeBase|thumb))
	})
}

// TestInterruptDuringSyscall: an Interrupt from another thread while the Go
// handler runs is reported as soon as the handler returns, with the system
// call's result in place and the PC after it.
func TestInterruptDuringSyscall(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + "\tmov x8, #172\n\tsvc #0\nafter:\n\tadd x5, x5, #1\n"
		if a == ARM {
			src = hdr + "\tmov r7, #20\n\tsvc 0\nafter:\n\tadd r5, r5, #1\n"
		}
		code, syms := assembleSyms(t, a, src+exitAsm(a))
		e, _, h := newMachine(t, a, code)
		clear := false
		h.onSyscall = func(e *Engine, nr uint64, args [7]uint64) bool {
			if nr == 93 || nr == 1 {
				return false
			}
			done := make(chan struct{})
			go func() { e.Interrupt(); close(done) }()
			<-done
			if clear && !e.ClearInterrupt() {
				t.Error("ClearInterrupt found nothing pending")
			}
			e.SetSyscallResult(77)
			return true
		}
		setReg(t, e, 5, 0)
		stop := e.Run(codeBase | thumb)
		if stop.Kind != StopInterrupted || stop.PC != sym(t, syms, "after") {
			t.Fatalf("stop = %+v, want StopInterrupted at %#x", stop, sym(t, syms, "after"))
		}
		wantRegs(t, e, map[int]uint64{0: 77, 5: 0})
		wantExit(t, e.Run(a.ResumePC(e, stop.PC)))
		wantRegs(t, e, map[int]uint64{5: 1})

		// Withdrawn by the handler: the stop already sent is absorbed.
		clear = true
		setReg(t, e, 5, 0)
		wantExit(t, e.Run(codeBase|thumb))
		wantRegs(t, e, map[int]uint64{0: 77 + 1, 5: 1})
	})
}

// TestInterruptKeptAcrossProbe: the MVFR probe runs guest code of its own; a
// pending Interrupt survives it for the guest's next Run.
func TestInterruptKeptAcrossProbe(t *testing.T) {
	e, _, _ := newMachine(t, ARM, assemble(t, ARM, exitAsm(ARM)))
	e.Interrupt()
	if _, _, err := e.MediaFeatures(); err != nil {
		t.Fatal(err)
	}
	if !e.Interrupted() {
		t.Fatal("the probe consumed the pending interrupt")
	}
	if stop := e.Run(codeBase); stop.Kind != StopInterrupted {
		t.Fatalf("stop = %+v, want StopInterrupted", stop)
	}
}

// BenchmarkInterruptLatency: from Interrupt on another goroutine to Run
// returning, with the guest spinning in a one-instruction loop.
func BenchmarkInterruptLatency(b *testing.B) {
	for _, ba := range benchArches {
		b.Run(ba.name, func(b *testing.B) {
			e, _, _ := newMachine(b, ba.a, assemble(b, ba.a, ba.hdr+"spin:\n\tb spin\n"))
			var sent atomic.Int64
			start := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range start {
					for !running(e) {
					}
					sent.Store(time.Now().UnixNano())
					e.Interrupt()
				}
			}()
			var total time.Duration
			for i := 0; i < b.N; i++ {
				start <- struct{}{}
				if stop := e.Run(codeBase | ba.thumb); stop.Kind != StopInterrupted {
					b.Fatalf("stop = %+v", stop)
				}
				total += time.Duration(time.Now().UnixNano() - sent.Load())
			}
			close(start)
			<-done
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/stop")
		})
	}
}

// TestInterruptFallback: with the per-access check wrapper off (stock
// Unicorn), Interrupt never stops the engine from another thread; the request
// waits for the next system call and is reported right after it.
func TestInterruptFallback(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		// Each pass spins, then makes a system call.
		src := hdr + `
loop:
	mov x2, #0
spin:
	add x2, x2, #1
	cmp x2, x4
	b.ne spin
	mov x8, #172
	svc #0
after:
	b loop
`
		if a == ARM {
			src = hdr + `
loop:
	mov r2, #0
spin:
	add r2, r2, #1
	cmp r2, r4
	bne spin
	mov r7, #20
	svc 0
after:
	b loop
`
		}
		code, syms := assembleSyms(t, a, src)
		prev := setNoAccessCheck(a, false)
		defer setNoAccessCheck(a, prev)
		e, _, h := newMachine(t, a, code)
		const spins = 1 << 22
		setReg(t, e, 4, spins)
		go func() {
			for !running(e) {
				runtime.Gosched()
			}
			e.Interrupt()
		}()
		stop := e.Run(codeBase | thumb)
		if stop.Kind != StopInterrupted {
			t.Fatalf("stop = %+v, want StopInterrupted", stop)
		}
		// Never inside the spin: right after the system call, or before
		// the first block when the interrupt came as the run began (about
		// once in 500 runs: the engine looks for it as it enters, tcgwrap.c
		// __wrap_cpu_exec).
		start := stop.PC&^1 == codeBase && h.calls == 0 && getReg(e, 2) == 0
		if !start && (stop.PC != sym(t, syms, "after") || h.calls < 1 || getReg(e, 2) != spins) {
			t.Fatalf("stop at %#x after %d system calls and %d spins; want it at %#x after at least 1 system call and %d spins, or at the start",
				stop.PC, h.calls, getReg(e, 2), sym(t, syms, "after"), spins)
		}
	})
}

// TestInterruptStorm: several goroutines interrupt at random while the guest
// mixes loads, stores and system calls, and the handler sometimes withdraws a
// pending interrupt. Every Run ends StopInterrupted, with memory and
// registers agreeing.
func TestInterruptStorm(t *testing.T) {
	forEachArch(t, func(t *testing.T, a *Arch, hdr string, thumb uint64) {
		src := hdr + `
loop:
	ldr x1, [x3]
	add x1, x1, #1
	str x1, [x3]
	add x2, x2, #1
	ands x5, x2, #255
	b.ne loop
	mov x8, #172
	svc #0
	b loop
`
		if a == ARM {
			src = hdr + `
loop:
	ldr r1, [r3]
	add r1, r1, #1
	str r1, [r3]
	add r2, r2, #1
	ands r5, r2, #255
	bne loop
	mov r7, #20
	svc 0
	b loop
`
		}
		code, syms := assembleSyms(t, a, src)
		e, s, h := newMachine(t, a, code)
		rng := rand.New(rand.NewSource(2))
		h.onSyscall = func(e *Engine, nr uint64, args [7]uint64) bool {
			if rng.Intn(4) == 0 {
				e.ClearInterrupt()
			}
			e.SetSyscallResult(0)
			return true
		}
		counter := mem.GuestAddr(dataBase + 0x100)
		setReg(t, e, 2, 0)
		setReg(t, e, 3, uint64(counter))
		var stop atomic.Bool
		done := make(chan struct{})
		for g := 0; g < 3; g++ {
			go func(g int) {
				defer func() { done <- struct{}{} }()
				r := rand.New(rand.NewSource(int64(g)))
				for !stop.Load() {
					time.Sleep(time.Duration(r.Intn(200)) * time.Microsecond)
					e.Interrupt()
				}
			}(g)
		}
		defer func() {
			stop.Store(true)
			for g := 0; g < 3; g++ {
				<-done
			}
		}()
		mask := ^uint64(0)
		if a == ARM {
			mask = 0xffffffff
		}
		pc := sym(t, syms, "loop") | thumb
		for i := 0; i < 300; i++ {
			st := e.Run(pc)
			if st.Kind != StopInterrupted {
				t.Fatalf("round %d: stop = %+v", i, st)
			}
			n := getReg(e, 2)
			if got := readU64(t, s, counter) & mask; got != n {
				t.Fatalf("round %d: stopped at %#x with memory %d, register %d", i, st.PC, got, n)
			}
			pc = a.ResumePC(e, st.PC)
		}
	})
}
