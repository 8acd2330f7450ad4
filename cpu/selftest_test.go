package cpu

import (
	"sync"
	"testing"

	"xemu/cpu/mem"
)

// TestSelfTestOnProgramEngine: the self-test run on the engine the program
// then uses passes, and leaves nothing behind: no mapping, no register, no
// hook, no translation (the program's own code at the address the test's
// code had runs, not the test's).
func TestSelfTestOnProgramEngine(t *testing.T) {
	for _, a := range Arches {
		t.Run(a.Name, func(t *testing.T) {
			// A new test in this process, as in a fresh xemu.
			st := &archTests[a.id]
			st.once = sync.Once{}
			st.done.Store(false)
			st.failures, st.took = nil, 0
			h := &testHandler{}
			e, s := newSpaceEngine(t, a, h)
			var before Regs
			e.SaveRegs(&before)
			e.SelfTest()
			c := a.Capabilities()
			if !c.NoAccessCheck || !c.InlineBlockCheck || !c.Parallel || !c.BusFault || !c.PCAlignment || len(c.Failures) > 0 || c.SelfTest == 0 {
				t.Fatalf("self-test on the program's engine: %v", c)
			}
			if n := s.Count(); n != 0 {
				t.Fatalf("%d mappings left by the self-test", n)
			}
			var after Regs
			e.SaveRegs(&after)
			if after != before {
				t.Fatalf("registers changed by the self-test:\n%+v\nwant\n%+v", after, before)
			}
			if h.calls != 0 {
				t.Fatalf("the self-test's system calls reached the program's handler (%d)", h.calls)
			}
			// The program's code where the test's was: exit(x0 + 1) with a
			// store into a page where the test watched writes.
			code := assemble(t, a, storeAndExitAsm(a))
			if _, err := s.Map(mem.MapRequest{Addr: selfTestCodeAt, Length: mem.PageSize, Prot: pRW, Fixed: true, FD: -1}); err != nil {
				t.Fatal(err)
			}
			s.Write(selfTestCodeAt, code)
			s.Protect(selfTestCodeAt, mem.PageSize, pRX)
			if _, err := s.Map(mem.MapRequest{Addr: selfTestData, Length: mem.PageSize, Prot: pRW, Fixed: true, FD: -1}); err != nil {
				t.Fatal(err)
			}
			e.SetReg(generalReg(a, 0), selfTestData+0x200)
			stop := e.Run(selfTestCodeAt)
			if stop.Kind != StopRequested || h.calls != 1 {
				t.Fatalf("program after the self-test: stop %+v, %d system calls", stop, h.calls)
			}
			b := make([]byte, 4)
			s.Read(selfTestData+0x200, b)
			if b[0] != 0x5a {
				t.Fatalf("the program's store: % x", b)
			}
		})
	}
}

// storeAndExitAsm stores 0x5a at [x0/r0], then calls exit.
func storeAndExitAsm(a *Arch) string {
	if a == ARM {
		return "\tmov r1, #0x5a\n\tstr r1, [r0]\n\tmov r7, #1\n\tsvc 0\n"
	}
	return "\tmov w1, #0x5a\n\tstr w1, [x0]\n\tmov x8, #93\n\tsvc #0\n"
}
