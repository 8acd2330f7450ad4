package cpu

// #include "engine.h"
import "C"

// AArch64 registers.
const (
	A64X0    Reg = C.UC_ARM64_REG_X0 // X0..X28 are consecutive
	A64X29   Reg = C.UC_ARM64_REG_X29
	A64X30   Reg = C.UC_ARM64_REG_X30
	A64SP    Reg = C.UC_ARM64_REG_SP
	A64PC    Reg = C.UC_ARM64_REG_PC
	A64NZCV  Reg = C.UC_ARM64_REG_NZCV
	A64TPIDR Reg = C.UC_ARM64_REG_TPIDR_EL0
	A64FPCR  Reg = C.UC_ARM64_REG_FPCR
	A64FPSR  Reg = C.UC_ARM64_REG_FPSR
	A64Q0    Reg = C.UC_ARM64_REG_Q0 // Q0..Q31 are consecutive
)

// A64X is general register Xn (n < 31; X29 and X30 are not after X28 in
// Unicorn's numbering).
func A64X(n int) Reg {
	switch {
	case n < 29:
		return A64X0 + Reg(n)
	case n == 29:
		return A64X29
	default:
		return A64X30
	}
}

// AArch64 CPU models. Max is what xemu runs: ARMv8 with LSE atomics and the
// later extensions QEMU implements (but not SVE, which Unicorn cannot run).
var (
	A64ModelMax = Model{C.UC_CPU_ARM64_MAX, "max"}
	A64ModelA72 = Model{C.UC_CPU_ARM64_A72, "cortex-a72"}
)

// AArch64 is the 64-bit ARM architecture.
var AArch64 = &Arch{
	id:           0,
	Name:         "aarch64",
	Bits:         64,
	DefaultModel: A64ModelMax,
	TrapBase:     1 << 40,
	ArenaSize:    1 << 39,
	RetReg:       A64X0,
	PCReg:        A64PC,
	SPReg:        A64SP,
	resumePC:     func(e *Engine, pc uint64) uint64 { return pc },
}

// SysReg reads an AArch64 system register by its encoding (the ID registers
// that say what the CPU implements).
func (e *Engine) SysReg(op0, op1, crn, crm, op2 int) (uint64, error) {
	var v C.uint64_t
	err := check(C.xemu_read_cp_reg(e.c, C.int(op0), C.int(op1), C.int(crn), C.int(crm), C.int(op2), &v))
	return uint64(v), err
}
