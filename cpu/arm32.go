package cpu

// #include "engine.h"
import "C"

// ARM (32-bit) registers.
const (
	ARMR0    Reg = C.UC_ARM_REG_R0 // R0..R12 are consecutive
	ARMSP    Reg = C.UC_ARM_REG_SP
	ARMLR    Reg = C.UC_ARM_REG_LR
	ARMPC    Reg = C.UC_ARM_REG_PC
	ARMCPSR  Reg = C.UC_ARM_REG_CPSR
	ARMFPSCR Reg = C.UC_ARM_REG_FPSCR
	ARMTLS   Reg = C.UC_ARM_REG_C13_C0_3 // TPIDRURO, the user read-only thread register
	ARMD0    Reg = C.UC_ARM_REG_D0       // D0..D31 are consecutive
)

// ARM CPU models; the model is a parameter so ARMv6 and ARMv5 programs can
// get a CPU that matches them.
var (
	ARMModelA15     = Model{C.UC_CPU_ARM_CORTEX_A15, "cortex-a15"}
	ARMModelARM1176 = Model{C.UC_CPU_ARM_1176, "arm1176"}
	ARMModelARM926  = Model{C.UC_CPU_ARM_926, "arm926"}
)

// cpsrThumb is the T bit: the CPU is executing Thumb code.
const cpsrThumb = 1 << 5

// ARM is the 32-bit ARM architecture (EABI).
var ARM = &Arch{
	id:           1,
	Name:         "arm",
	Bits:         32,
	DefaultModel: ARMModelA15,
	TrapBase:     1 << 34,
	ArenaSize:    8 << 30,
	PCReg:        ARMPC,
	SPReg:        ARMSP,
	// Only bit 0 of the start address selects Thumb in uc_emu_start.
	resumePC: func(e *Engine, pc uint64) uint64 {
		if e.Reg(ARMCPSR)&cpsrThumb != 0 {
			return pc | 1
		}
		return pc
	},
}
