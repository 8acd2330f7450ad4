package cpu

import (
	"runtime"
	"testing"

	"xemu/cpu/mem"
)

// testHandler counts system calls; number 93 (exit) stops the engine.
type testHandler struct {
	calls    int
	lastArgs [7]uint64
	exc      []uint32
	// onSyscall, if set, sees each system call first; returning true means it
	// handled the call (set the result itself).
	onSyscall func(e *Engine, nr uint64, args [7]uint64) bool
}

func (h *testHandler) Syscall(e *Engine) {
	nr, args := e.Syscall()
	h.calls++
	h.lastArgs = args
	if h.onSyscall != nil && h.onSyscall(e, nr, args) {
		return
	}
	if nr == 93 || nr == 1 {
		e.RequestStop()
	}
	e.SetSyscallResult(args[0] + 1)
}

func (h *testHandler) Exception(e *Engine, intno uint32) bool {
	h.exc = append(h.exc, intno)
	return true
}

const codeBase = 0x400000

// newMachine makes an address space and engine with code at codeBase (R-X) and
// a data page area at 0x800000 (RW, 64 pages).
func newMachine(t testing.TB, a *Arch, code []byte) (*Engine, *mem.AddressSpace, *testHandler) {
	t.Helper()
	h := &testHandler{}
	e, s := newSpaceEngine(t, a, h)
	if _, err := s.Map(mem.MapRequest{Addr: codeBase, Length: uint64(len(code)), Prot: mem.ProtRead | mem.ProtWrite, Fixed: true, FD: -1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(codeBase, code); err != nil {
		t.Fatal(err)
	}
	if err := s.Protect(codeBase, uint64(len(code)), mem.ProtRead|mem.ProtExec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Map(mem.MapRequest{Addr: 0x800000, Length: 64 * mem.PageSize, Prot: mem.ProtRead | mem.ProtWrite, Fixed: true, FD: -1}); err != nil {
		t.Fatal(err)
	}
	return e, s, h
}

func TestSyscallRoundTripAArch64(t *testing.T) {
	code := assemble(t, AArch64, `
	mov x0, #0
	mov x1, #1000
loop:
	mov x8, #172
	svc #0
	sub x1, x1, #1
	cbnz x1, loop
	mov x8, #93
	svc #0`)
	e, _, h := newMachine(t, AArch64, code)
	stop := e.Run(codeBase)
	if stop.Kind != StopRequested {
		t.Fatalf("stop = %+v", stop)
	}
	if h.calls != 1001 {
		t.Fatalf("calls = %d, want 1001", h.calls)
	}
	// Each call returned x0+1 into x0.
	if got := e.Reg(A64X(0)); got != 1001 {
		t.Fatalf("x0 = %d, want 1001", got)
	}
}

// newSpaceEngine makes an empty address space and an engine over it for
// handler h, on this OS thread (Unicorn is not thread-agnostic), closed
// when t ends.
func newSpaceEngine(t testing.TB, a *Arch, h Handler) (*Engine, *mem.AddressSpace) {
	t.Helper()
	return newSpaceEngineConfig(t, a, h, 0)
}

// newSpaceEngineConfig is newSpaceEngine with a code buffer of codeBuffer
// bytes (0: the default).
func newSpaceEngineConfig(t testing.TB, a *Arch, h Handler, codeBuffer uint32) (*Engine, *mem.AddressSpace) {
	t.Helper()
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	limit := mem.GuestAddr(1 << 47)
	if a.Bits == 32 {
		limit = 0xffff0000
	}
	s, err := mem.New(mem.Layout{Limit: limit, MinAddr: 0x10000, ArenaSize: a.ArenaSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	e, err := Open(Config{Arch: a, Space: s, Handler: h, CodeBuffer: codeBuffer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e, s
}
