package cpu

import "testing"

// Engines run guest code as Linux runs user code: AArch64 at EL0, ARM in USR
// mode. A privileged instruction stops with an exception at itself (AArch64:
// undefined instruction, intno 1; ARM: an instruction Unicorn reports as
// invalid) instead of running; what EL0 may do runs.
func TestUserModePrivileged(t *testing.T) {
	cases := []struct {
		arch *Arch
		name string
		src  string
	}{
		{AArch64, "mrs sctlr_el1", "mrs x0, sctlr_el1"},
		{AArch64, "msr sctlr_el1 (EE)", "mov x0, #(1 << 25)\npriv: msr sctlr_el1, x0"},
		{AArch64, "mrs vbar_el1", "mrs x0, vbar_el1"},
		{AArch64, "msr daifset", "msr daifset, #2"},
		{AArch64, "mrs midr_el1", "mrs x0, midr_el1"},
		{ARM, "mrc sctlr", "mrc p15, 0, r0, c1, c0, 0"},
		{ARM, "mcr vbar", "mcr p15, 0, r0, c12, c0, 0"},
		{ARM, "vmrs fpexc", "vmrs r0, fpexc"},
	}
	for _, c := range cases {
		t.Run(c.arch.Name+"/"+c.name, func(t *testing.T) {
			src := c.src
			if src[:4] != "mov " {
				src = "priv: " + src
			}
			code, syms := assembleSyms(t, c.arch, ".globl priv\n"+src+"\n"+exitAsm(c.arch))
			e, _, _ := newMachine(t, c.arch, code)
			stop := e.Run(codeBase)
			want := sym(t, syms, "priv")
			switch {
			case c.arch == AArch64 && (stop.Kind != StopException || stop.Intno != 1):
				t.Fatalf("stop = %+v, want an undefined-instruction exception", stop)
			case c.arch == ARM && stop.Kind != StopInvalid:
				t.Fatalf("stop = %+v, want an invalid instruction", stop)
			}
			if stop.PC != want {
				t.Fatalf("stopped at %#x, want %#x", stop.PC, want)
			}
		})
	}
}

// What user code may do at EL0 / in USR mode runs: TLS, CTR_EL0, DC ZVA,
// cache maintenance, FP/SIMD, the virtual counter.
func TestUserModeAllowed(t *testing.T) {
	for _, c := range []struct {
		arch *Arch
		src  string
	}{
		{AArch64, `mrs x1, tpidr_el0
msr tpidr_el0, x1
mrs x1, tpidrro_el0
mrs x1, ctr_el0
mrs x1, dczid_el0
mrs x1, cntvct_el0
mrs x1, cntfrq_el0
mov x2, #0x800000
dc zva, x2
dc cvau, x2
ic ivau, x2
fmov d0, #1.5
fadd d0, d0, d0
add v1.4s, v1.4s, v1.4s
mrs x1, fpcr
msr fpcr, x1`},
		{ARM, `mrc p15, 0, r1, c13, c0, 3
mrc p15, 0, r1, c13, c0, 2
mcr p15, 0, r1, c13, c0, 2
vmov.f64 d0, #1.5
vadd.f64 d0, d0, d0
vadd.i32 q1, q1, q1
vmrs r1, fpscr
vmsr fpscr, r1`},
	} {
		t.Run(c.arch.Name, func(t *testing.T) {
			e, _, _ := newMachine(t, c.arch, assemble(t, c.arch, c.src+"\n"+exitAsm(c.arch)))
			wantExit(t, e.Run(codeBase))
		})
	}
}
