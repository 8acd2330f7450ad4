package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"xemu/cpu"
)

// sigFakeStack is guest memory [base, base+len(b)) for frames to be written to
// and read back from.
type sigFakeStack struct {
	base uint64
	b    []byte
}

func newSigFakeStack(base uint64, size int) *sigFakeStack {
	return &sigFakeStack{base: base, b: make([]byte, size)}
}

func (m *sigFakeStack) write(addr uint64, p []byte) {
	copy(m.b[addr-m.base:], p)
}

func (m *sigFakeStack) read(addr uint64, n int) ([]byte, error) {
	if addr < m.base || addr+uint64(n) > m.base+uint64(len(m.b)) {
		return nil, fmt.Errorf("EFAULT at %#x+%d", addr, n)
	}
	return append([]byte(nil), m.b[addr-m.base:addr-m.base+uint64(n)]...), nil
}

func (m *sigFakeStack) u32(addr uint64) uint32 { return binary.LittleEndian.Uint32(m.b[addr-m.base:]) }
func (m *sigFakeStack) u64(addr uint64) uint64 { return binary.LittleEndian.Uint64(m.b[addr-m.base:]) }
func (m *sigFakeStack) put32(addr uint64, v uint32) {
	binary.LittleEndian.PutUint32(m.b[addr-m.base:], v)
}
func (m *sigFakeStack) put64(addr uint64, v uint64) {
	binary.LittleEndian.PutUint64(m.b[addr-m.base:], v)
}

func randomAArch64SigRegs(r *rand.Rand) cpu.Regs {
	var regs cpu.Regs
	for i := range regs.X {
		regs.X[i] = r.Uint64()
	}
	for i := range regs.V {
		regs.V[i] = [2]uint64{r.Uint64(), r.Uint64()}
	}
	regs.SP = 0x7fff_f000_0000 | r.Uint64()&0xffff0
	regs.PC = 0x40_0000 | r.Uint64()&0xfffc
	regs.PState = r.Uint64() & sigPStateNZCV
	regs.FPSR = uint64(r.Uint32())
	regs.FPCR = uint64(r.Uint32())
	regs.TLS = r.Uint64()
	return regs
}

func randomARMSigRegs(r *rand.Rand, thumb bool) cpu.Regs {
	var regs cpu.Regs
	for i := 0; i <= 12; i++ {
		regs.X[i] = uint64(r.Uint32())
	}
	regs.X[14] = uint64(r.Uint32())
	for n := 0; n < 32; n++ {
		regs.V[n/2][n%2] = r.Uint64()
	}
	regs.SP = uint64(0xbe00_0000 | r.Uint32()&0xfff8)
	regs.PC = uint64(0x1_0000 | r.Uint32()&0xfffc)
	// The engine's mode (SVC) plus every user-owned bit at random.
	regs.PState = 0x13 | uint64(r.Uint32())&cpu.ARMCPSRUserMask&^cpu.ARMCPSRThumb
	if thumb {
		regs.PState |= cpu.ARMCPSRThumb
		regs.PC |= 2
	}
	regs.FPSR = uint64(r.Uint32())
	regs.TLS = uint64(r.Uint32())
	return regs
}

const (
	testSigTrampoline = 0xffff_0000
	testSigRestorer   = 0x0040_1230
)

func TestAArch64RoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 64; i++ {
		regs := randomAArch64SigRegs(r)
		req := &SigFrameRequest{
			Regs:       regs,
			Mask:       r.Uint64(),
			Info:       SigInfo{Signo: SIGSEGV, Code: SEGV_MAPERR, Addr: r.Uint64()},
			RT:         i%2 == 0,
			Stack:      StackT{SP: 0x1000, Flags: SS_DISABLE, Size: 0},
			SP:         regs.SP - uint64(r.Intn(64)),
			Handler:    0x400800,
			Trampoline: testSigTrampoline,
			FaultAddr:  r.Uint64(),
		}
		if i%3 == 0 {
			req.ESR = 0x92000046
		}
		if i%4 == 0 {
			req.Restorer = testSigRestorer
		}
		f, err := SigFrameAArch64.Build(req)
		if err != nil {
			t.Fatal(err)
		}
		mem := newSigFakeStack(req.SP-0x4000, 0x4000)
		mem.write(f.Addr, f.Bytes)
		if f.Addr+uint64(len(f.Bytes)) > req.SP {
			t.Fatalf("frame [%#x,+%d) above sp %#x", f.Addr, len(f.Bytes), req.SP)
		}
		cur := f.Regs // what the handler left: the trampoline runs with sp == f.Addr
		got, mask, stack, err := SigFrameAArch64.ReturnFrame(f.Regs.SP, true, &cur, mem.read)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got != regs {
			t.Errorf("case %d: registers differ after sigreturn:\n got %+v\nwant %+v", i, got, regs)
		}
		if mask != req.Mask || stack != req.Stack {
			t.Errorf("case %d: mask %#x stack %+v, want %#x %+v", i, mask, stack, req.Mask, req.Stack)
		}
	}
}

func TestARMRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 64; i++ {
		interruptedThumb := i%2 == 1
		regs := randomARMSigRegs(r, interruptedThumb)
		req := &SigFrameRequest{
			Regs:       regs,
			Mask:       r.Uint64(),
			Info:       SigInfo{Signo: SIGUSR1, Code: SI_QUEUE, Pid: 7, Uid: 1000, Value: 0xdead},
			RT:         i&2 != 0,
			Stack:      StackT{SP: 0x20000, Flags: SS_ONSTACK, Size: 0x4000},
			SP:         regs.SP - uint64(r.Intn(64)),
			Handler:    0x10400 | uint64(i>>2&1), // ARM and Thumb handlers
			Trampoline: testSigTrampoline,
			TrapNo:     14, ErrorCode: 0x817, FaultAddr: uint64(r.Uint32()),
		}
		if i&8 != 0 {
			req.Restorer = testSigRestorer | 1
		}
		f, err := SigFrameARM.Build(req)
		if err != nil {
			t.Fatal(err)
		}
		mem := newSigFakeStack(req.SP-0x2000, 0x2000)
		mem.write(f.Addr, f.Bytes)
		cur := f.Regs
		got, mask, stack, err := SigFrameARM.ReturnFrame(f.Regs.SP, req.RT, &cur, mem.read)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got != regs {
			t.Errorf("case %d: registers differ after sigreturn:\n got %+v\nwant %+v", i, got, regs)
		}
		wantStack := StackT{}
		if req.RT {
			wantStack = req.Stack
		}
		if mask != req.Mask || stack != wantStack {
			t.Errorf("case %d: mask %#x stack %+v, want %#x %+v", i, mask, stack, req.Mask, wantStack)
		}
	}
}

// TestAArch64HandlerEntry checks the registers and frame contents against
// arch/arm64/kernel/signal.c: get_sigframe, setup_sigframe, setup_return.
func TestAArch64HandlerEntry(t *testing.T) {
	var regs cpu.Regs
	for i := range regs.X {
		regs.X[i] = 0x1000 + uint64(i)
	}
	regs.SP, regs.PC, regs.PState = 0x7ffff000, 0x400100, 0x60000000
	regs.V[3] = [2]uint64{0x0123456789abcdef, 0xfedcba9876543210}
	regs.FPSR, regs.FPCR = 0x8000010, 0x3000000
	req := &SigFrameRequest{
		Regs: regs, Mask: 1<<(SIGINT-1) | 1<<(SIGRTMIN+1),
		Info: SigInfo{Signo: SIGSEGV, Code: SEGV_ACCERR, Addr: 0xdead0000},
		RT:   true, Stack: StackT{SP: 0x5000, Flags: SS_DISABLE},
		SP: 0x7ffff008, Handler: 0x400800, Trampoline: testSigTrampoline,
		FaultAddr: 0xdead0000, ESR: 0x9200004f,
	}
	f, err := SigFrameAArch64.Build(req)
	if err != nil {
		t.Fatal(err)
	}
	// next_frame = round_down(0x7ffff008 - 16, 16) = 0x7fffeff0;
	// sigframe = next_frame - round_up(sizeof(rt_sigframe) = 4688, 16).
	const next, addr = 0x7fffeff0, 0x7fffeff0 - 4688
	mem := newSigFakeStack(0x7fff0000, 0x10000)
	mem.write(f.Addr, f.Bytes)
	uc := uint64(addr + 128)
	sc := uc + 176
	for _, c := range []struct {
		what      string
		got, want uint64
	}{
		{"frame address", f.Addr, addr},
		{"frame length", uint64(len(f.Bytes)), 4688 + 16},
		{"sp", f.Regs.SP, addr},
		{"sp % 16", f.Regs.SP % 16, 0},
		{"x0", f.Regs.X[0], SIGSEGV},
		{"x1 = &info", f.Regs.X[1], addr},
		{"x2 = &uc", f.Regs.X[2], uc},
		{"x29 = &frame record", f.Regs.X[29], next},
		{"x30 = __kernel_rt_sigreturn", f.Regs.X[30], testSigTrampoline + 4},
		{"pc", f.Regs.PC, 0x400800},
		{"pstate", f.Regs.PState, 0x60000000},
		{"x3 untouched", f.Regs.X[3], 0x1003},
		{"frame record fp", mem.u64(next), 0x1000 + 29},
		{"frame record lr", mem.u64(next + 8), 0x1000 + 30},
		{"si_signo", uint64(mem.u32(addr)), SIGSEGV},
		{"si_code", uint64(mem.u32(addr + 8)), SEGV_ACCERR},
		{"si_addr", mem.u64(addr + 16), 0xdead0000},
		{"uc_flags", mem.u64(uc), 0},
		{"uc_link", mem.u64(uc + 8), 0},
		{"uc_stack.ss_sp", mem.u64(uc + 16), 0x5000},
		{"uc_stack.ss_flags", uint64(mem.u32(uc + 24)), SS_DISABLE},
		{"uc_sigmask", mem.u64(uc + 40), req.Mask},
		{"fault_address", mem.u64(sc), 0xdead0000},
		{"regs[0]", mem.u64(sc + 8), 0x1000},
		{"regs[30]", mem.u64(sc + 8 + 30*8), 0x1000 + 30},
		{"sp", mem.u64(sc + 256), 0x7ffff000},
		{"pc", mem.u64(sc + 264), 0x400100},
		{"pstate", mem.u64(sc + 272), 0x60000000},
		{"fpsimd magic", uint64(mem.u32(sc + 288)), FPSIMD_MAGIC},
		{"fpsimd size", uint64(mem.u32(sc + 292)), 528},
		{"fpsr", uint64(mem.u32(sc + 296)), 0x8000010},
		{"fpcr", uint64(mem.u32(sc + 300)), 0x3000000},
		{"v3 low", mem.u64(sc + 304 + 3*16), 0x0123456789abcdef},
		{"v3 high", mem.u64(sc + 304 + 3*16 + 8), 0xfedcba9876543210},
		{"esr magic", uint64(mem.u32(sc + 288 + 528)), ESR_MAGIC},
		{"esr size", uint64(mem.u32(sc + 288 + 528 + 4)), 16},
		{"esr", mem.u64(sc + 288 + 528 + 8), 0x9200004f},
		{"terminator", mem.u64(sc + 288 + 528 + 16), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.what, c.got, c.want)
		}
	}

	// Without SA_SIGINFO: no siginfo, x1 and x2 as interrupted; without a
	// fault: no esr_context; with SA_RESTORER: x30 = sa_restorer.
	req.RT, req.ESR, req.Restorer = false, 0, testSigRestorer
	f, err = SigFrameAArch64.Build(req)
	if err != nil {
		t.Fatal(err)
	}
	if f.Regs.X[1] != 0x1001 || f.Regs.X[2] != 0x1002 || f.Regs.X[30] != testSigRestorer {
		t.Errorf("non-SA_SIGINFO x1, x2, x30 = %#x %#x %#x", f.Regs.X[1], f.Regs.X[2], f.Regs.X[30])
	}
	for i, b := range f.Bytes[:128] {
		if b != 0 {
			t.Fatalf("siginfo byte %d = %#x without SA_SIGINFO", i, b)
		}
	}
	if got := binary.LittleEndian.Uint64(f.Bytes[128+176+288+528:]); got != 0 {
		t.Errorf("record after fpsimd_context = %#x, want the terminator", got)
	}
}

// TestARMHandlerEntry checks against arch/arm/kernel/signal.c get_sigframe,
// setup_sigframe and setup_return.
func TestARMHandlerEntry(t *testing.T) {
	var regs cpu.Regs
	for i := 0; i <= 12; i++ {
		regs.X[i] = 0x100 + uint64(i)
	}
	regs.X[14] = 0x8888
	regs.SP, regs.PC = 0xbefff000, 0x10204
	// SVC mode (the engine's), N Z C V Q, GE = 0xf, IT bits, E, T.
	const interrupted = 0xf8000000 | 0x000f0000 | 0x0600fc00 | 1<<9 | 1<<5 | 0x13
	regs.PState = interrupted
	regs.V[0] = [2]uint64{0x3ff0000000000000, 0x4000000000000000}
	regs.FPSR = 0x03370010 // LEN = 7, STRIDE = 3, flags
	for _, c := range []struct {
		rt, thumb        bool
		size, lrOff, idx uint64
	}{
		{false, false, 760, 0, 0},
		{false, true, 760, 9, 2},
		{true, false, 888, 12, 3},
		{true, true, 888, 21, 5},
	} {
		t.Run(fmt.Sprintf("rt=%v,thumb=%v", c.rt, c.thumb), func(t *testing.T) {
			handler := uint64(0x10800)
			if c.thumb {
				handler |= 1
			}
			req := &SigFrameRequest{
				Regs: regs, Mask: 0x80000001_00004000,
				Info: SigInfo{Signo: SIGBUS, Code: BUS_ADRALN, Addr: 0x20001},
				RT:   c.rt, Stack: StackT{SP: 0x30000, Flags: 0, Size: 0x2000},
				SP: 0xbefff004, Handler: handler, Trampoline: testSigTrampoline,
				TrapNo: 0, ErrorCode: 0x801, FaultAddr: 0x20001,
			}
			f, err := SigFrameARM.Build(req)
			if err != nil {
				t.Fatal(err)
			}
			addr := (0xbefff004 - c.size) &^ 7
			mem := newSigFakeStack(0xbeff0000, 0x10000)
			mem.write(f.Addr, f.Bytes)
			sf := addr
			if c.rt {
				sf += 128
			}
			sc := sf + 20
			wantCPSR := uint64(0x000f0000 | 0x13)
			if c.thumb {
				wantCPSR |= 1 << 5
			}
			code := SigFrameARM.TrampolineCode()
			checks := []struct {
				what      string
				got, want uint64
			}{
				{"frame address", f.Addr, addr},
				{"frame length", uint64(len(f.Bytes)), c.size},
				{"sp", f.Regs.SP, addr},
				{"r0", f.Regs.X[0], SIGBUS},
				{"lr", f.Regs.X[14], testSigTrampoline + c.lrOff},
				{"pc", f.Regs.PC, 0x10800},
				{"cpsr", f.Regs.PState, wantCPSR},
				{"fpscr LEN/STRIDE cleared", f.Regs.FPSR, 0x03000010},
				{"r3 untouched", f.Regs.X[3], 0x103},
				{"trap_no", uint64(mem.u32(sc)), 0},
				{"error_code", uint64(mem.u32(sc + 4)), 0x801},
				{"oldmask", uint64(mem.u32(sc + 8)), 0x00004000},
				{"arm_r0", uint64(mem.u32(sc + 12)), 0x100},
				{"arm_fp", uint64(mem.u32(sc + 56)), 0x10b},
				{"arm_ip", uint64(mem.u32(sc + 60)), 0x10c},
				{"arm_sp", uint64(mem.u32(sc + 64)), 0xbefff000},
				{"arm_lr", uint64(mem.u32(sc + 68)), 0x8888},
				{"arm_pc", uint64(mem.u32(sc + 72)), 0x10204},
				{"arm_cpsr (USR mode)", uint64(mem.u32(sc + 76)), interrupted&^0x1f | 0x10},
				{"fault_address", uint64(mem.u32(sc + 80)), 0x20001},
				{"uc_sigmask low", uint64(mem.u32(sf + 104)), 0x00004000},
				{"uc_sigmask high", uint64(mem.u32(sf + 108)), 0x80000001},
				{"vfp magic", uint64(mem.u32(sf + 232)), VFP_MAGIC},
				{"vfp size", uint64(mem.u32(sf + 236)), 288},
				{"d0", mem.u64(sf + 240), 0x3ff0000000000000},
				{"d1", mem.u64(sf + 248), 0x4000000000000000},
				{"fpscr", uint64(mem.u32(sf + 232 + 264)), 0x03370010},
				{"fpexc", uint64(mem.u32(sf + 232 + 272)), 1 << 30},
				{"end_magic", uint64(mem.u32(sf + 232 + 288)), 0},
				{"retcode[0]", uint64(mem.u32(sf + 744)), uint64(binary.LittleEndian.Uint32(code[c.idx*4:]))},
				{"retcode[1]", uint64(mem.u32(sf + 748)), uint64(binary.LittleEndian.Uint32(code[c.idx*4+4:]))},
			}
			if c.rt {
				checks = append(checks, []struct {
					what      string
					got, want uint64
				}{
					{"r1 = &info", f.Regs.X[1], addr},
					{"r2 = &uc", f.Regs.X[2], addr + 128},
					{"si_signo", uint64(mem.u32(addr)), SIGBUS},
					{"si_addr", uint64(mem.u32(addr + 12)), 0x20001},
					{"uc_flags", uint64(mem.u32(sf)), 0},
					{"uc_stack.ss_sp", uint64(mem.u32(sf + 8)), 0x30000},
					{"uc_stack.ss_size", uint64(mem.u32(sf + 16)), 0x2000},
				}...)
			} else {
				checks = append(checks, []struct {
					what      string
					got, want uint64
				}{
					{"r1 untouched", f.Regs.X[1], 0x101},
					{"r2 untouched", f.Regs.X[2], 0x102},
					{"uc_flags", uint64(mem.u32(sf)), 0x5ac3c35a},
				}...)
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %#x, want %#x", c.what, c.got, c.want)
				}
			}
		})
	}

	// SA_RESTORER: lr is sa_restorer as given and retcode stays unwritten.
	req := &SigFrameRequest{Regs: regs, Info: SigInfo{Signo: SIGUSR1}, RT: true, SP: 0xbefff000,
		Handler: 0x10801, Restorer: testSigRestorer | 1, Trampoline: testSigTrampoline}
	f, err := SigFrameARM.Build(req)
	if err != nil {
		t.Fatal(err)
	}
	if f.Regs.X[14] != testSigRestorer|1 {
		t.Errorf("lr = %#x, want sa_restorer %#x", f.Regs.X[14], testSigRestorer|1)
	}
	if rc := f.Bytes[128+744:]; binary.LittleEndian.Uint64(rc) != 0 {
		t.Errorf("retcode written with SA_RESTORER: % x", rc[:8])
	}
}

func TestARMTrampolineOffsets(t *testing.T) {
	code := SigFrameARM.TrampolineCode()
	le := binary.LittleEndian
	for _, c := range []struct {
		off   int
		want  []uint32 // ARM words or Thumb halfwords
		thumb bool
	}{
		{SigTrampARMSigreturn, []uint32{0xe3a07000 | 119, 0xef900000 | 119}, false},
		{SigTrampARMRTSigreturn, []uint32{0xe3a07000 | 173, 0xef900000 | 173}, false},
		{SigTrampThumbSigreturn, []uint32{0x2700 | 119, 0xdf00}, true},
		{SigTrampThumbRTSigreturn, []uint32{0x2700 | 173, 0xdf00}, true},
	} {
		for i, w := range c.want {
			var got uint32
			if c.thumb {
				got = uint32(le.Uint16(code[c.off+2*i:]))
			} else {
				got = le.Uint32(code[c.off+4*i:])
			}
			if got != w {
				t.Errorf("offset %d insn %d = %#x, want %#x", c.off, i, got, w)
			}
		}
	}
	if len(code) != 17*4 {
		t.Errorf("sigreturn_codes is %d bytes, want 68 (17 words)", len(code))
	}
}

// buildSigFrameForCorruption builds a frame in memory and returns it for mutation.
func buildSigFrameForCorruption(t *testing.T, l SigFrameLayout, regs cpu.Regs, rt bool) (*sigFakeStack, SigFrame) {
	t.Helper()
	req := &SigFrameRequest{Regs: regs, Mask: 0x5, Info: SigInfo{Signo: SIGUSR2}, RT: rt,
		SP: regs.SP, Handler: 0x10800, Trampoline: testSigTrampoline, ESR: 0x1}
	f, err := l.Build(req)
	if err != nil {
		t.Fatal(err)
	}
	mem := newSigFakeStack(regs.SP-0x3000, 0x3000)
	mem.write(f.Addr, f.Bytes)
	return mem, f
}

func TestAArch64BadFrames(t *testing.T) {
	regs := randomAArch64SigRegs(rand.New(rand.NewSource(3)))
	regs.SP = 0x7fff_0000_0000
	const sc = 128 + 176
	const rsv = sc + 288
	for _, c := range []struct {
		name   string
		sp     func(f SigFrame) uint64
		mutate func(m *sigFakeStack, a uint64)
		bad    bool
	}{
		{"intact", nil, nil, false},
		{"sp misaligned", func(f SigFrame) uint64 { return f.Addr + 8 }, nil, true},
		{"fpsimd magic", nil, func(m *sigFakeStack, a uint64) { m.put32(a+rsv, 0x46508002) }, true},
		{"fpsimd size larger", nil, func(m *sigFakeStack, a uint64) { m.put32(a+rsv+4, 544) }, true},
		{"fpsimd size smaller", nil, func(m *sigFakeStack, a uint64) { m.put32(a+rsv+4, 512) }, true},
		{"esr size odd", nil, func(m *sigFakeStack, a uint64) { m.put32(a+rsv+528+4, 24) }, true},
		{"terminator size", nil, func(m *sigFakeStack, a uint64) { m.put32(a+rsv+528+16+4, 16) }, true},
		{"sve record", nil, func(m *sigFakeStack, a uint64) {
			m.put32(a+rsv+528+16, SVE_MAGIC)
			m.put32(a+rsv+528+16+4, 16)
		}, true},
		{"unknown record", nil, func(m *sigFakeStack, a uint64) { m.put64(a+rsv+528, 0x10_12345678) }, true},
		{"no fpsimd", nil, func(m *sigFakeStack, a uint64) { m.put64(a+rsv, 0) }, true},
		{"two fpsimd", nil, func(m *sigFakeStack, a uint64) {
			b, _ := m.read(a+rsv, 528)
			m.write(a+rsv+528, b)
			m.put64(a+rsv+1056, 0)
		}, true},
		{"esr dropped", nil, func(m *sigFakeStack, a uint64) { m.put64(a+rsv+528, 0) }, false},
		{"pstate EL1h", nil, func(m *sigFakeStack, a uint64) { m.put64(a+sc+272, 0x60000005) }, true},
		{"pstate AArch32", nil, func(m *sigFakeStack, a uint64) { m.put64(a+sc+272, 0x10) }, true},
		{"pstate IRQ masked", nil, func(m *sigFakeStack, a uint64) { m.put64(a+sc+272, 0x80) }, true},
		{"pstate D masked", nil, func(m *sigFakeStack, a uint64) { m.put64(a+sc+272, 0x200) }, true},
		{"pstate SSBS kept out", nil, func(m *sigFakeStack, a uint64) { m.put64(a+sc+272, 0x90001000) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem, f := buildSigFrameForCorruption(t, SigFrameAArch64, regs, true)
			if c.mutate != nil {
				c.mutate(mem, f.Addr)
			}
			sp := f.Addr
			if c.sp != nil {
				sp = c.sp(f)
			}
			cur := f.Regs
			got, mask, _, err := SigFrameAArch64.ReturnFrame(sp, true, &cur, mem.read)
			var bad *BadSigFrameError
			if c.bad {
				if !errors.As(err, &bad) {
					t.Fatalf("err = %v, want a BadSigFrameError", err)
				}
				if c.sp == nil && (!bad.MaskRead || bad.Mask != 0x5) {
					t.Errorf("error mask %v %#x, want the frame's 0x5", bad.MaskRead, bad.Mask)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if mask != 0x5 || got.PState&^sigPStateNZCV != 0 {
				t.Errorf("mask %#x pstate %#x", mask, got.PState)
			}
		})
	}

	mem, f := buildSigFrameForCorruption(t, SigFrameAArch64, regs, true)
	short := func(addr uint64, n int) ([]byte, error) {
		if addr+uint64(n) > f.Addr+rsv+528 {
			return nil, errors.New("EFAULT")
		}
		return mem.read(addr, n)
	}
	cur := f.Regs
	if _, _, _, err := SigFrameAArch64.ReturnFrame(f.Addr, true, &cur, short); err == nil || err.Error() != "EFAULT" {
		t.Errorf("unreadable record: err = %v, want the read error", err)
	}
}

// TestAArch64ExtraContext follows an extra_context the way
// parse_user_sigframe does: the extra space starts right after the
// terminator that follows the extra_context record.
func TestAArch64ExtraContext(t *testing.T) {
	regs := randomAArch64SigRegs(rand.New(rand.NewSource(4)))
	regs.SP = 0x7fff_0000_0000
	const rsv = 128 + 176 + 288
	for _, c := range []struct {
		name string
		// where to put the fpsimd record: before the extra_context, or
		// inside the extra space.
		fpsimdInExtra bool
		datapDelta    uint64
		bad           bool
	}{
		{"fpsimd first", false, 0, false},
		{"fpsimd in extra space", true, 0, false},
		{"datap elsewhere", false, 16, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem, f := buildSigFrameForCorruption(t, SigFrameAArch64, regs, true)
			a := f.Addr + rsv
			fp, _ := mem.read(a, 528)
			for i := a; i < a+1024+64; i++ {
				mem.b[i-mem.base] = 0
			}
			off := uint64(0)
			if !c.fpsimdInExtra {
				mem.write(a, fp)
				off = 528
			}
			extra := a + off
			data := extra + 32 + 16
			mem.put32(extra, EXTRA_MAGIC)
			mem.put32(extra+4, 32)
			mem.put64(extra+8, data+c.datapDelta)
			size := uint32(16)
			if c.fpsimdInExtra {
				mem.write(data, fp)
				size += 528
			}
			mem.put32(extra+16, size)
			cur := f.Regs
			got, _, _, err := SigFrameAArch64.ReturnFrame(f.Addr, true, &cur, mem.read)
			if c.bad {
				var bad *BadSigFrameError
				if !errors.As(err, &bad) {
					t.Fatalf("err = %v, want a BadSigFrameError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != regs {
				t.Errorf("registers differ:\n got %+v\nwant %+v", got, regs)
			}
		})
	}
}

func TestARMBadFrames(t *testing.T) {
	regs := randomARMSigRegs(rand.New(rand.NewSource(5)), false)
	regs.SP = 0xbeff_f000
	for _, rt := range []bool{false, true} {
		sf := uint64(0)
		if rt {
			sf = 128
		}
		sc := sf + 20
		for _, c := range []struct {
			name   string
			sp     uint64 // added to the frame address
			mutate func(m *sigFakeStack, a uint64)
			bad    bool
		}{
			{"intact", 0, nil, false},
			{"sp misaligned", 4, nil, true},
			{"vfp magic", 0, func(m *sigFakeStack, a uint64) { m.put32(a+sf+232, 0x56465002) }, true},
			{"vfp size", 0, func(m *sigFakeStack, a uint64) { m.put32(a+sf+236, 280) }, true},
			{"cpsr SVC mode", 0, func(m *sigFakeStack, a uint64) { m.put32(a+sc+76, 0x60000013) }, true},
			{"cpsr IRQs masked", 0, func(m *sigFakeStack, a uint64) { m.put32(a+sc+76, 0x60000090) }, true},
			{"cpsr A and F cleared, not refused", 0, func(m *sigFakeStack, a uint64) { m.put32(a+sc+76, 0x60000150) }, false},
		} {
			t.Run(fmt.Sprintf("rt=%v/%s", rt, c.name), func(t *testing.T) {
				mem, f := buildSigFrameForCorruption(t, SigFrameARM, regs, rt)
				if c.mutate != nil {
					c.mutate(mem, f.Addr)
				}
				cur := f.Regs
				got, mask, _, err := SigFrameARM.ReturnFrame(f.Addr+c.sp, rt, &cur, mem.read)
				if c.bad {
					var bad *BadSigFrameError
					if !errors.As(err, &bad) {
						t.Fatalf("err = %v, want a BadSigFrameError", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if mask != 0x5 || got.PState&0x1f != 0x13 {
					t.Errorf("mask %#x cpsr %#x (mode must stay the engine's)", mask, got.PState)
				}
			})
		}
	}
}

func TestBuildRefusesFramesBelowZero(t *testing.T) {
	for name, l := range map[string]SigFrameLayout{"aarch64": SigFrameAArch64, "arm": SigFrameARM} {
		_, err := l.Build(&SigFrameRequest{SP: 0x100, RT: true, Info: SigInfo{Signo: SIGSEGV}})
		var low *SigFrameTooLowError
		if !errors.As(err, &low) {
			t.Errorf("%s: err = %v, want SigFrameTooLowError", name, err)
		}
	}
}

// FuzzSigReturn feeds arbitrary frame bytes to both ReturnFrames: they may
// refuse them, never panic.
func FuzzSigReturn(f *testing.F) {
	r := rand.New(rand.NewSource(6))
	a64 := randomAArch64SigRegs(r)
	a64.SP = 0x10000 + 0x2000
	fa, _ := SigFrameAArch64.Build(&SigFrameRequest{Regs: a64, RT: true, SP: a64.SP, Info: SigInfo{Signo: 1}, ESR: 1})
	f.Add(fa.Bytes, uint16(0), false)
	arm := randomARMSigRegs(r, true)
	arm.SP = 0x10000 + 0x2000
	fr, _ := SigFrameARM.Build(&SigFrameRequest{Regs: arm, RT: true, SP: arm.SP, Info: SigInfo{Signo: 1}})
	f.Add(fr.Bytes, uint16(0), true)
	f.Fuzz(func(t *testing.T, frame []byte, spOff uint16, rt bool) {
		mem := newSigFakeStack(0x10000, 0x4000)
		copy(mem.b, frame)
		sp := 0x10000 + uint64(spOff)%0x4000
		var cur cpu.Regs
		SigFrameAArch64.ReturnFrame(sp, rt, &cur, mem.read)
		SigFrameARM.ReturnFrame(sp, rt, &cur, mem.read)
	})
}

// A Thumb frame whose saved pc has bit 0 set resumes at the halfword: the
// engine keeps the Thumb state in CPSR.T, not in PC.
func TestARMThumbReturnPC(t *testing.T) {
	regs := randomARMSigRegs(rand.New(rand.NewSource(7)), true)
	regs.SP = 0xbeff_f000
	mem, f := buildSigFrameForCorruption(t, SigFrameARM, regs, true)
	pc := f.Addr + 128 + 20 + 72
	mem.put32(pc, mem.u32(pc)|1)
	cur := f.Regs
	got, _, _, err := SigFrameARM.ReturnFrame(f.Addr, true, &cur, mem.read)
	if err != nil {
		t.Fatal(err)
	}
	if got.PC != regs.PC || got.PState&cpu.ARMCPSRThumb == 0 {
		t.Errorf("pc %#x cpsr %#x, want pc %#x in Thumb state", got.PC, got.PState, regs.PC)
	}
}

// TestAArch64MinSigStkSz: 4688 + 16 + 16 (arch/arm64/kernel/signal.c
// minsigstksz_setup without optional records), and enough for a frame below
// any stack top.
func TestAArch64MinSigStkSz(t *testing.T) {
	if MinSigStkSzAArch64 != 4720 {
		t.Errorf("MinSigStkSzAArch64 = %d, want 4720", MinSigStkSzAArch64)
	}
	for top := uint64(0x7fff0000); top < 0x7fff0010; top++ {
		f, err := SigFrameAArch64.Build(&SigFrameRequest{SP: top, RT: true, ESR: 1, Info: SigInfo{Signo: SIGSEGV}})
		if err != nil {
			t.Fatal(err)
		}
		if top-f.Addr > MinSigStkSzAArch64 {
			t.Errorf("sp %#x: frame takes %d bytes", top, top-f.Addr)
		}
	}
}

func BenchmarkSigFrameBuildAArch64(b *testing.B) {
	req := &SigFrameRequest{Regs: randomAArch64SigRegs(rand.New(rand.NewSource(8))), RT: true,
		SP: 0x7fff0000, Handler: 0x400800, Trampoline: testSigTrampoline, Info: SigInfo{Signo: SIGUSR1}}
	for i := 0; i < b.N; i++ {
		SigFrameAArch64.Build(req)
	}
}

func BenchmarkSigFrameReturnAArch64(b *testing.B) {
	req := &SigFrameRequest{Regs: randomAArch64SigRegs(rand.New(rand.NewSource(8))), RT: true,
		SP: 0x7fff0000, Handler: 0x400800, Trampoline: testSigTrampoline, Info: SigInfo{Signo: SIGUSR1}}
	f, _ := SigFrameAArch64.Build(req)
	mem := newSigFakeStack(0x7fff0000-0x2000, 0x2000)
	mem.write(f.Addr, f.Bytes)
	for i := 0; i < b.N; i++ {
		SigFrameAArch64.ReturnFrame(f.Addr, true, &f.Regs, mem.read)
	}
}

func BenchmarkSigFrameBuildARM(b *testing.B) {
	req := &SigFrameRequest{Regs: randomARMSigRegs(rand.New(rand.NewSource(8)), false), RT: true,
		SP: 0xbeff0000, Handler: 0x10800, Trampoline: testSigTrampoline, Info: SigInfo{Signo: SIGUSR1}}
	for i := 0; i < b.N; i++ {
		SigFrameARM.Build(req)
	}
}
