package cpu

// #include "engine.h"
import "C"

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"xemu/cpu/mem"
)

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
	ARMFPSID Reg = C.UC_ARM_REG_FPSID    // VFP identification
	ARMMVFR0 Reg = C.UC_ARM_REG_MVFR0    // VFP/NEON feature registers
	ARMMVFR1 Reg = C.UC_ARM_REG_MVFR1
)

// ARM CPU models; the model is a parameter so ARMv6 and ARMv5 programs can
// get a CPU that matches them.
var (
	ARMModelA15     = Model{C.UC_CPU_ARM_CORTEX_A15, "cortex-a15"}
	ARMModelARM1176 = Model{C.UC_CPU_ARM_1176, "arm1176"}
	ARMModelARM926  = Model{C.UC_CPU_ARM_926, "arm926"}
)

// CPSR bits: T (the CPU is executing Thumb code) and the mode field; user
// code runs in USR mode, as under Linux.
const (
	cpsrThumb   = 1 << 5
	cpsrMode    = 0x1f
	cpsrModeUSR = 0x10
	cpsrModeSVC = 0x13
)

// ARM is the 32-bit ARM architecture (EABI).
var ARM = &Arch{
	id:           1,
	Name:         "arm",
	Bits:         32,
	DefaultModel: ARMModelA15,
	TrapBase:     1 << 34,
	ArenaSize:    8 << 30,
	RetReg:       ARMR0,
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

// CoprocReg reads an ARM coprocessor register (mrc p<cp>, <opc1>, rX, c<crn>,
// c<crm>, <opc2>): the cp15 ID registers that say what the CPU implements.
func (e *Engine) CoprocReg(cp, opc1, crn, crm, opc2 int) (uint64, error) {
	var v C.uint64_t
	err := check(C.xemu_read_arm_cp_reg(e.c, C.int(cp), C.int(opc1), C.int(crn), C.int(crm), C.int(opc2), &v))
	return uint64(v), err
}

// MediaFeatures reads MVFR0 and MVFR1, the VFP and Advanced SIMD feature
// registers. Unicorn does not expose them as registers, so a probe reads them
// the way Linux's vfp_init does, with vmrs, on a scratch page mapped for the
// purpose and unmapped after; the registers it touches are put back.
func (e *Engine) MediaFeatures() (mvfr0, mvfr1 uint32, err error) {
	if e.arch != ARM {
		return 0, 0, fmt.Errorf("cpu: MVFR registers are ARM's")
	}
	probe := []uint32{
		0xeef70a10, // vmrs r0, mvfr0
		0xeef61a10, // vmrs r1, mvfr1
		0xe7f000f0, // udf #0: ends the run
	}
	code := make([]byte, 4*len(probe))
	for i, w := range probe {
		binary.LittleEndian.PutUint32(code[4*i:], w)
	}
	s := e.space
	at, err := s.Map(mem.MapRequest{Length: mem.PageSize, Prot: mem.ProtRead | mem.ProtExec, FD: -1})
	if err != nil {
		return 0, 0, err
	}
	defer s.Unmap(at, mem.PageSize)
	if err := s.Poke(at, code); err != nil {
		return 0, 0, err
	}
	// Put back in this order: CPSR (mode, and with it the banked SP and
	// LR) before the PC, whose bit 0 then keeps the Thumb state.
	regs := []Reg{ARMR0, ARMR0 + 1, ARMCPSR, ARMPC}
	saved := make([]uint64, len(regs))
	for i, r := range regs {
		saved[i] = e.Reg(r)
	}
	defer func() {
		for i, r := range regs {
			v := saved[i]
			if r == ARMPC && saved[2]&cpsrThumb != 0 {
				v |= 1
			}
			e.SetReg(r, v)
		}
	}()
	// MVFR0/1 are readable at PL1 only: the probe runs in SVC mode, and
	// the guest's user mode comes back with CPSR above.
	if err := e.SetReg(ARMCPSR, saved[2]&^(cpsrMode|cpsrThumb)|cpsrModeSVC); err != nil {
		return 0, 0, err
	}
	// An Interrupt, pending or arriving during the probe, is kept for the
	// guest's own next Run.
	interrupted := e.ClearInterrupt()
	defer func() {
		if interrupted {
			atomic.StoreInt32((*int32)(unsafe.Pointer(&e.c.interrupt_pending)), 1)
		}
	}()
	stop := e.Run(uint64(at))
	for stop.Kind == StopInterrupted {
		interrupted = true
		stop = e.Run(ARM.ResumePC(e, stop.PC))
	}
	if stop.Kind != StopInvalid || stop.PC != uint64(at)+8 {
		return 0, 0, fmt.Errorf("cpu: MVFR probe stopped at %#x (kind %d)", stop.PC, stop.Kind)
	}
	return uint32(e.Reg(ARMR0)), uint32(e.Reg(ARMR0 + 1)), nil
}
