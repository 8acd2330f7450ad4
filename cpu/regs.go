package cpu

// #include "engine.h"
import "C"

import "unsafe"

// Regs is every register of a guest thread that Linux saves and restores:
// what signal frames, sigreturn, fork and new threads copy. One layout serves
// both architectures (engine.h, xemu_regs):
//
//	AArch64: X[0..30], SP, PC, PState = NZCV, V = Q0..Q31 (low, high),
//	         FPSR, FPCR, TLS = TPIDR_EL0.
//	ARM:     X[0..12] = R0..R12, X[14] = LR, SP = R13, PC = R15 (Thumb bit
//	         clear; PState's T bit says Thumb), PState = CPSR,
//	         V[n/2][n%2] = Dn, FPSR = FPSCR, TLS = TPIDRURO.
type Regs struct {
	X          [31]uint64
	SP, PC     uint64
	PState     uint64
	V          [32][2]uint64
	FPSR, FPCR uint64
	TLS        uint64
}

// ARM CPSR bits Linux lets user code own (arch/arm/include/asm/ptrace.h
// valid_user_regs: flags, GE, IT, endianness and Thumb; never the mode).
const (
	ARMCPSRThumb    = 1 << 5
	ARMCPSRUserMask = 0xf80f0000 | 0x0600fc00 | 1<<9 | ARMCPSRThumb
)

func init() {
	if unsafe.Sizeof(Regs{}) != unsafe.Sizeof(C.xemu_regs{}) {
		panic("cpu: Regs and xemu_regs differ")
	}
}

// SaveRegs reads every register of the thread.
func (e *Engine) SaveRegs(r *Regs) error {
	return check(C.xemu_save_regs(e.c, (*C.xemu_regs)(unsafe.Pointer(r))))
}

// RestoreRegs writes every register of the thread. On ARM only the user bits
// of CPSR change (the mode stays), so a guest-built frame cannot change it.
func (e *Engine) RestoreRegs(r *Regs) error {
	c := *r
	if e.arch.Bits == 32 {
		cur := e.Reg(ARMCPSR)
		c.PState = cur&^ARMCPSRUserMask | c.PState&ARMCPSRUserMask
	}
	return check(C.xemu_restore_regs(e.c, (*C.xemu_regs)(unsafe.Pointer(&c))))
}
