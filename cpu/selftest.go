package cpu

// #include "engine.h"
import "C"

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"xemu/cpu/mem"
)

// Caps says which of the link-time wrappers over Unicorn's private functions
// (tcgwrap.c) are on in this process. Each proved itself in a start-up
// self-test, once per process and architecture, on a throwaway engine; one
// that did not is off, and the engine behaves as stock Unicorn 2.1.4 in that
// respect.
type Caps struct {
	// NoAccessCheck: no exit check after each guest load and store (faster
	// memory-heavy code), and Interrupt from another thread lands at a
	// block start. Stores that fault are exact either way.
	NoAccessCheck bool
	// InlineBlockCheck: each block starts with QEMU's inline test of the
	// stop flag instead of a helper call.
	InlineBlockCheck bool
	// Parallel: blocks are translated in TCG's parallel mode: exclusives,
	// LSE atomics and CAS are host atomics and barriers are fences, so
	// guest threads on separate engines share memory correctly.
	Parallel bool
	// AtomicSwap: SWP is a host atomic exchange (Unicorn's own exchange
	// helper is a plain load and store).
	AtomicSwap bool
	// BusFault: a guest access the host answers with SIGBUS (a file page
	// past the end of a file truncated under its mapping) stops the engine
	// with a Fault (Bus) at the guest instruction; without it the SIGBUS
	// ends xemu.
	BusFault bool
	// PCAlignment: a branch to a misaligned PC stops the engine with a
	// prefetch abort there (Linux's SIGBUS/BUS_ADRALN) instead of running
	// the bytes at that address.
	PCAlignment bool
	// SelfTest is how long the self-test took.
	SelfTest time.Duration
	// Failures names each check that failed ("arm: parallel: ...").
	Failures []string
}

func (c Caps) String() string {
	s := fmt.Sprintf("no-access-check=%v inline-block-check=%v parallel=%v atomic-swap=%v bus-fault=%v pc-alignment=%v self-test=%v",
		c.NoAccessCheck, c.InlineBlockCheck, c.Parallel, c.AtomicSwap, c.BusFault, c.PCAlignment, c.SelfTest.Round(10*time.Microsecond))
	if len(c.Failures) > 0 {
		s += " failed: " + strings.Join(c.Failures, "; ")
	}
	return s
}

// The self-test of each architecture runs once per process, when
// Engine.SelfTest, StartSelfTest or the first Run of an engine of that
// architecture asks (a process running one kind of guest does not pay for
// the other's engine), or when Capabilities asks.
var archTests [2]struct {
	once     sync.Once
	done     atomic.Bool // once has run
	failures []string
	took     time.Duration
}

// Arches are the architectures the package knows.
var Arches = []*Arch{AArch64, ARM}

// StartSelfTest starts the architecture's self-test on another thread, so
// that it overlaps the loading of a program; the first Run waits for it.
func (a *Arch) StartSelfTest() { go selfTestOnce(a) }

func selfTestOnce(a *Arch) {
	t := &archTests[a.id]
	t.once.Do(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := time.Now()
		for _, f := range selfTestArch(a) {
			t.failures = append(t.failures, a.Name+": "+f)
		}
		t.took = time.Since(start)
		t.done.Store(true)
	})
}

// SelfTestPassed reports whether the architecture's self-test has ended in
// this process, or was adopted, with every check passed. It does not wait.
func (a *Arch) SelfTestPassed() bool {
	t := &archTests[a.id]
	return t.done.Load() && len(t.failures) == 0
}

// SelfTest runs the architecture's self-test on e, a new engine that has run
// nothing yet, unless the test has run in this process (or was adopted).
// A test on the engine the program then runs on spares the creation and
// teardown of a second one: on a test engine of its own, running alongside
// the program's (StartSelfTest), it took a third of a fresh xemu's start-up
// on this 2-CPU machine, the two engines' set-up contending for it. The
// test maps its pages where the guest has nothing yet, and leaves no page,
// translation, TLB entry, hook or register behind. Where the guest's memory
// is already there (a fork child's), the test takes an engine of its own.
func (e *Engine) SelfTest() {
	t := &archTests[e.arch.id]
	if !t.done.Load() && !e.tested && rangeFree(e.space, selfTestLow, selfTestHigh) {
		t.once.Do(func() {
			start := time.Now()
			var regs Regs
			e.SaveRegs(&regs)
			h := e.handler
			e.handler = exitHandler{}
			for _, f := range selfTestOn(e, e.space) {
				t.failures = append(t.failures, e.arch.Name+": "+f)
			}
			e.handler = h
			e.space.Unmap(selfTestLow, selfTestHigh-selfTestLow)
			e.ClearInterrupt()
			// Unmapping drops the test's translations; a check that failed
			// changed how code is translated, and all of it goes.
			e.FlushCode()
			e.FlushTLB()
			e.RestoreRegs(&regs)
			t.took = time.Since(start)
			t.done.Store(true)
		})
	}
	selfTestOnce(e.arch)
	e.tested = true
}

// rangeFree: nothing is mapped in [lo, hi).
func rangeFree(s *mem.AddressSpace, lo, hi mem.GuestAddr) bool {
	for a := lo; a < hi; a += mem.PageSize {
		if _, ok := s.Find(a); ok {
			return false
		}
	}
	return true
}

// AdoptSelfTest takes the word of the process that started this one that the
// architecture's self-test passed there, and does not run it: that process
// was this same binary (xemu re-executed for a guest's execve) on this same
// host, so the same checks would pass again. With every check passed, every
// wrapper stays on, as it starts.
func (a *Arch) AdoptSelfTest() {
	t := &archTests[a.id]
	t.once.Do(func() { t.done.Store(true) })
}

// Capabilities reports what is on for both architectures, running the
// self-test of any not yet tested.
func Capabilities() Caps {
	var c Caps
	for i, a := range Arches {
		ac := a.Capabilities()
		if i == 0 {
			c = ac
			continue
		}
		c.NoAccessCheck = c.NoAccessCheck && ac.NoAccessCheck
		c.InlineBlockCheck = c.InlineBlockCheck && ac.InlineBlockCheck
		c.Parallel = c.Parallel && ac.Parallel
		c.AtomicSwap = c.AtomicSwap && ac.AtomicSwap
		c.BusFault = c.BusFault && ac.BusFault
		c.PCAlignment = c.PCAlignment && ac.PCAlignment
		c.SelfTest += ac.SelfTest
		c.Failures = append(c.Failures, ac.Failures...)
	}
	return c
}

// Capabilities reports what is on for this architecture, running its
// self-test if it has not run yet.
func (a *Arch) Capabilities() Caps {
	selfTestOnce(a)
	t := &archTests[a.id]
	return Caps{
		NoAccessCheck:    C.xemu_wrap_no_access_check[a.id] != 0,
		InlineBlockCheck: C.xemu_wrap_inline_block_check[a.id] != 0,
		Parallel:         C.xemu_wrap_parallel[a.id] != 0,
		AtomicSwap:       C.xemu_wrap_parallel[a.id] != 0 && C.xemu_wrap_xchg[a.id] != 0,
		BusFault:         C.xemu_bus_recover[a.id] != 0,
		PCAlignment:      C.xemu_pc_align[a.id] != 0,
		SelfTest:         t.took,
		Failures:         t.failures,
	}
}

// Self-test programs, as machine code (no assembler at run time). Each has
// three entry points: loop (a chained load/store loop with a pointer chase:
// x0 walks a ring, x2 counts iterations and so does the word at x3, until x4),
// retry (one exclusive increment of the word at x0, then a plain store to
// x0+4) and store (a store to x0+0x20).
var selfTestCode = [2]struct {
	words              []uint32
	loop, retry, store uint64
	swap               uint64 // 0: none (ARM has no exchange the wrapper serves)
}{
	{[]uint32{
		0xf9400000, // loop: ldr x0, [x0]
		0xf9400061, // ldr x1, [x3]
		0x91000421, // add x1, x1, #1
		0xf9000061, // str x1, [x3]
		0x91000442, // add x2, x2, #1
		0xeb04005f, // cmp x2, x4
		0x54ffff41, // b.ne loop
		0xd2800ba8, // mov x8, #93
		0xd4000001, // svc #0
		0x885ffc01, // retry: ldaxr w1, [x0]
		0x11000421, // add w1, w1, #1
		0x8802fc01, // stlxr w2, w1, [x0]
		0x35ffffa2, // cbnz w2, retry
		0xb9000401, // str w1, [x0, #4]
		0xd2800ba8, // mov x8, #93
		0xd4000001, // svc #0
		0xb9002001, // store: str w1, [x0, #0x20]
		0xd2800ba8, // mov x8, #93
		0xd4000001, // svc #0
		0xb8e18002, // swap: swpal w1, w2, [x0]
		0xd2800ba8, // mov x8, #93
		0xd4000001, // svc #0
	}, 0, 0x24, 0x40, 0x4c},
	{[]uint32{
		0xe5900000, // loop: ldr r0, [r0]
		0xe5931000, // ldr r1, [r3]
		0xe2811001, // add r1, r1, #1
		0xe5831000, // str r1, [r3]
		0xe2822001, // add r2, r2, #1
		0xe1520004, // cmp r2, r4
		0x1afffff8, // bne loop
		0xe3a07001, // mov r7, #1
		0xef000000, // svc 0
		0xe1901f9f, // retry: ldrex r1, [r0]
		0xe2811001, // add r1, r1, #1
		0xe1802f91, // strex r2, r1, [r0]
		0xe3520000, // cmp r2, #0
		0x1afffffa, // bne retry
		0xe5801004, // str r1, [r0, #4]
		0xe3a07001, // mov r7, #1
		0xef000000, // svc 0
		0xe5801020, // store: str r1, [r0, #0x20]
		0xe3a07001, // mov r7, #1
		0xef000000, // svc 0
	}, 0, 0x24, 0x44, 0},
}

// exitHandler stops at the exit system call (93 on AArch64, 1 on ARM).
type exitHandler struct{}

func (exitHandler) Syscall(e *Engine) {
	if nr := e.SyscallNr(); nr == 93 || nr == 1 {
		e.RequestStop()
	}
}
func (exitHandler) Exception(*Engine, uint32) bool { return true }

const (
	selfTestCodeAt = 0x10000
	selfTestData   = 0x20000 // ring, counter, watched word
	selfTestRO     = 0x30000 // a read-only page
	selfTestRing   = 5
	selfTestLimit  = 1 << 22 // iterations before the loop gives up

	// The test's pages, the bus-fault check's included, lie in
	// [selfTestLow, selfTestHigh).
	selfTestLow  = selfTestCodeAt
	selfTestHigh = busTestExec + mem.PageSize
)

// generalReg is x<n> on AArch64, r<n> on ARM (n < 13).
func generalReg(a *Arch, n int) Reg {
	if a == ARM {
		return ARMR0 + Reg(n)
	}
	return A64X(n)
}

func disable(id int, noAccess, block, parallel bool) {
	// Each caller gives up before the bus-fault check, or runs it: an
	// architecture whose check never ran does not recover.
	if noAccess && block && parallel {
		C.xemu_bus_recover[id] = 0
		C.xemu_pc_align[id] = 0
	}
	if noAccess {
		C.xemu_wrap_no_access_check[id] = 0
	}
	if block {
		C.xemu_wrap_inline_block_check[id] = 0
	}
	if parallel {
		C.xemu_wrap_parallel[id] = 0
	}
}

// selfTestArch checks each wrapper on architecture a, on a throwaway engine,
// and turns off those that fail (and what depends on them); it returns what
// failed.
func selfTestArch(a *Arch) (failures []string) {
	limit := mem.GuestAddr(1 << 47)
	if a.Bits == 32 {
		limit = 0xffff0000
	}
	s, err := mem.New(mem.Layout{Limit: limit, MinAddr: 0x10000, ArenaSize: 16 << 20})
	if err != nil {
		disable(a.id, true, true, true)
		return []string{fmt.Sprintf("address space: %v", err)}
	}
	defer s.Close()
	// The smallest code buffer: a few blocks are translated, and Unicorn's
	// default (1 GiB, asking for huge pages) costs a 2 MiB page to fault in.
	e, err := open(Config{Arch: a, Space: s, Handler: exitHandler{}, CodeBuffer: 1 << 20})
	if err != nil {
		disable(a.id, true, true, true)
		return []string{fmt.Sprintf("engine: %v", err)}
	}
	defer e.Close()
	return selfTestOn(e, s)
}

// selfTestOn runs the checks on engine e over s, whose pages the test maps
// (selfTestLow to selfTestHigh) must be free.
func selfTestOn(e *Engine, s *mem.AddressSpace) (failures []string) {
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }
	a := e.arch
	id := a.id
	e.tested = true // this is the test
	prog := selfTestCode[id]
	code := make([]byte, 4*len(prog.words))
	for i, w := range prog.words {
		binary.LittleEndian.PutUint32(code[4*i:], w)
	}
	for _, m := range []struct {
		at   mem.GuestAddr
		prot mem.Prot
	}{{selfTestCodeAt, mem.ProtRead | mem.ProtExec}, {selfTestData, mem.ProtRead | mem.ProtWrite}, {selfTestRO, mem.ProtRead}} {
		if _, err := s.Map(mem.MapRequest{Addr: m.at, Length: mem.PageSize, Prot: m.prot, Fixed: true, FD: -1}); err != nil {
			disable(id, true, true, true)
			fail("map: %v", err)
			return
		}
	}
	word := func(v uint64) []byte {
		b := make([]byte, a.Bits/8)
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		return b
	}
	if err := s.Poke(selfTestCodeAt, code); err != nil {
		disable(id, true, true, true)
		fail("poke: %v", err)
		return
	}

	// The private offsets a live engine can confirm.
	if why := C.xemu_wrap_verify(e.c); why != nil {
		C.xemu_exact_store[id] = 0
		disable(id, true, true, true)
		fail("offsets: %s", C.GoString(why))
		return
	}

	// Exact store fault: the refused write reports the exact address. The
	// rest depends on it (without the per-access check a store fault is
	// only exact this way; parallel atomics must never meet a trap slot).
	setReg := func(n int, v uint64) { e.SetReg(generalReg(a, n), v) }
	setReg(0, selfTestRO)
	stop := e.Run(selfTestCodeAt + prog.store)
	want := Fault{PC: selfTestCodeAt + prog.store, Addr: selfTestRO + 0x20, Access: mem.ProtWrite, Mapped: true}
	if stop.Kind != StopFault || stop.Fault != want {
		C.xemu_exact_store[id] = 0
		disable(id, true, true, true)
		fail("exact store fault: got %+v, want %+v", stop, want)
		return
	}

	// A host SIGBUS on guest memory becomes the guest's fault.
	if why := selfTestBus(a, e, s); why != "" {
		C.xemu_bus_recover[id] = 0
		fail("bus fault: %s", why)
	}

	// A misaligned PC (a branch's target) is a prefetch abort at that PC.
	misaligned := uint64(selfTestCodeAt + 2)
	if stop := e.Run(misaligned); stop.Kind != StopException || stop.Intno != 3 || stop.PC != misaligned {
		C.xemu_pc_align[id] = 0
		fail("pc alignment: got %+v", stop)
	}

	// A chained load/store loop, stopped from another thread: the per-access
	// checks were dropped, the block-start check was inlined, and the stop
	// landed at a block start with consistent registers.
	skipped := atomic.LoadUint64((*uint64)(unsafe.Pointer(&C.xemu_wrap_skipped[id])))
	checks := atomic.LoadUint64((*uint64)(unsafe.Pointer(&C.xemu_wrap_block_checks[id])))
	step := uint64(16)
	for i := uint64(0); i < selfTestRing; i++ {
		s.Poke(selfTestData+mem.GuestAddr(i*step), word(selfTestData+((i+1)%selfTestRing)*step))
	}
	counter := mem.GuestAddr(selfTestData + 0x100)
	ok := false
	var last string
	for try := 0; try < 3 && !ok; try++ {
		s.Poke(counter, word(0))
		setReg(0, selfTestData)
		setReg(1, 0)
		setReg(2, 0)
		setReg(3, uint64(counter))
		// Each try gives the loop 8 times longer to be interrupted in.
		setReg(4, selfTestLimit<<(3*try))
		done := make(chan struct{})
		var returned atomic.Bool
		go func() {
			defer close(done)
			for atomic.LoadInt32((*int32)(unsafe.Pointer(&e.c.running))) == 0 {
				if returned.Load() {
					return
				}
				runtime.Gosched()
			}
			// Stop the loop once it has run: its counter has moved.
			b := make([]byte, a.Bits/8)
			for t := time.Now(); time.Since(t) < 100*time.Millisecond; runtime.Gosched() {
				if s.Read(counter, b) == nil && !bytes.Equal(b, word(0)) {
					break
				}
			}
			e.Interrupt()
		}()
		stop := e.Run(selfTestCodeAt + prog.loop)
		returned.Store(true)
		<-done
		n := e.Reg(generalReg(a, 2))
		b := make([]byte, a.Bits/8)
		s.Read(counter, b)
		var mc uint64
		for i := len(b) - 1; i >= 0; i-- {
			mc = mc<<8 | uint64(b[i])
		}
		x0 := e.Reg(generalReg(a, 0))
		switch {
		case stop.Kind == StopRequested:
			// The loop ran to its end: the interrupt came too late (this
			// thread may wait for a CPU on a busy host) or never landed.
			last = fmt.Sprintf("loop not interrupted (%d iterations)", n)
		case stop.Kind != StopInterrupted:
			last = fmt.Sprintf("loop not interrupted (stop %d after %d iterations)", stop.Kind, n)
			try = 3
		case n == 0:
			last = "interrupted before the loop ran"
			continue
		case mc != n || x0 != selfTestData+(n%selfTestRing)*step || stop.PC != selfTestCodeAt+prog.loop:
			last = fmt.Sprintf("inconsistent stop: pc %#x, %d iterations, counter %d, x0 %#x", stop.PC, n, mc, x0)
			try = 3
		default:
			ok = true
		}
		e.ClearInterrupt()
	}
	if atomic.LoadUint64((*uint64)(unsafe.Pointer(&C.xemu_wrap_skipped[id]))) == skipped {
		ok, last = false, "no per-access check was dropped"
	}
	if !ok {
		disable(id, true, true, false)
		fail("interrupt: %s", last)
	} else if atomic.LoadUint64((*uint64)(unsafe.Pointer(&C.xemu_wrap_block_checks[id]))) == checks {
		// Stops still land at block starts, through the stock helper.
		disable(id, false, true, false)
		fail("no block-start check was inlined")
	}

	// Parallel mode: an exclusive store becomes a host cmpxchg, which does not
	// call a UC_HOOK_MEM_WRITE hook; the plain store after it does (control).
	blocks := atomic.LoadUint64((*uint64)(unsafe.Pointer(&C.xemu_wrap_parallel_blocks[id])))
	// C memory: the hook keeps the pointer.
	callsp := (*C.uint64_t)(C.calloc(1, 8))
	defer C.free(unsafe.Pointer(callsp))
	watched := mem.GuestAddr(selfTestData + 0x200)
	s.Poke(watched, word(41))
	if err := check(C.xemu_watch_writes(e.c, C.uint64_t(watched), C.uint64_t(watched+7), callsp)); err != nil {
		disable(id, false, false, true)
		fail("parallel: hook: %v", err)
		return
	}
	setReg(0, uint64(watched))
	stop = e.Run(selfTestCodeAt + prog.retry)
	v := make([]byte, 4)
	s.Read(watched, v)
	got := binary.LittleEndian.Uint32(v)
	calls := *callsp
	switch {
	case stop.Kind != StopRequested:
		disable(id, false, false, true)
		fail("parallel: stop %+v", stop)
	case calls != 1 || got != 42:
		disable(id, false, false, true)
		fail("parallel: exclusive store seen by the write hook (%d calls, value %d)", calls, got)
	case atomic.LoadUint64((*uint64)(unsafe.Pointer(&C.xemu_wrap_parallel_blocks[id]))) == blocks:
		disable(id, false, false, true)
		fail("parallel: no block translated in parallel mode")
	}
	// The watch goes. Unicorn only marks a deleted hook, and takes it off
	// its list when the outermost emulation returns; while it is on the
	// list, every load and store translated goes through the slow path
	// that calls memory hooks (tcg_uc_has_hookmem: 12 times slower on a
	// malloc-heavy program when this ran on the program's engine, whose
	// first emulation is the whole program). A short run takes it off.
	C.xemu_unwatch_writes(e.c)
	setReg(0, uint64(watched))
	if stop := e.Run(selfTestCodeAt + prog.store); stop.Kind != StopRequested {
		fail("after the watch: stop %+v", stop)
	}

	// The exchange wrapper (tcgwrap.c, 6): in parallel mode a SWP goes
	// through it and exchanges. Without parallel mode it is not called.
	if prog.swap != 0 && C.xemu_wrap_parallel[id] != 0 {
		before := atomic.LoadUint64((*uint64)(unsafe.Pointer(&C.xemu_wrap_xchg_calls[id])))
		slot := mem.GuestAddr(selfTestData + 0x300)
		s.Poke(slot, []byte{5, 0, 0, 0})
		setReg(0, uint64(slot))
		setReg(1, 7)
		setReg(2, 0)
		stop = e.Run(selfTestCodeAt + prog.swap)
		s.Read(slot, v)
		old, now := e.Reg(generalReg(a, 2)), binary.LittleEndian.Uint32(v)
		called := atomic.LoadUint64((*uint64)(unsafe.Pointer(&C.xemu_wrap_xchg_calls[id]))) > before
		if stop.Kind != StopRequested || old != 5 || now != 7 || !called {
			C.xemu_wrap_xchg[id] = 0
			fail("swap: stop %d, old %d, memory %d, wrapper called %v", stop.Kind, old, now, called)
		}
	}
	return failures
}

// setNoAccessCheck switches the per-access check wrapper of architecture a
// (for tests of the stock fallback) and returns the previous setting.
func setNoAccessCheck(a *Arch, on bool) bool {
	prev := C.xemu_wrap_no_access_check[a.id] != 0
	v := C.int(0)
	if on {
		v = 1
	}
	C.xemu_wrap_no_access_check[a.id] = v
	return prev
}
