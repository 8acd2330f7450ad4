package kernel

import (
	"encoding/binary"

	"xemu/cpu"
	"xemu/cpu/mem"
)

// User code runs at EL0, where the CPU's ID registers are not readable:
// MRS of one raises an undefined-instruction exception. Linux answers it
// (arch/arm64/kernel/cpufeature.c, try_emulate_mrs and do_emulate_mrs;
// advertised by HWCAP_CPUID) with a sanitised value and skips the
// instruction, for op0 3, op1 0, CRn 0 and CRm 0 or 2..7 only:
//
//   - MIDR_EL1 is the CPU's own, MPIDR_EL1 is BIT(31) (SYS_MPIDR_SAFE_VAL),
//     REVIDR_EL1 is 0; other CRm 0 registers are not emulated (SIGILL).
//   - a tracked feature register is arm64_ftr_reg_user_value: the fields
//     marked FTR_VISIBLE from the CPU's value, every hidden field at its
//     safe value;
//   - an untracked one (implementation defined or reserved) reads 0.
//
// The tables are those of a kernel without SVE, SME, pointer authentication,
// BTI and MTE support, matching the HWCAPs xemu gives (aarch64HWCaps):
// their fields are hidden with safe value 0.

// idRegUser is what EL0 sees of one feature register: the visible fields
// come from the CPU, hidden ones read as the safe values in user.
type idRegUser struct {
	visible uint64
	user    uint64
}

// fields4 is the mask of the 4-bit fields at the given shifts.
func fields4(shifts ...uint) uint64 {
	var m uint64
	for _, s := range shifts {
		m |= 0xf << s
	}
	return m
}

// aarch64IDRegs: the tracked registers of Linux's arm64_ftr_regs with
// op1 0, CRn 0 and CRm 2..7, keyed by CRm<<3 | op2 (field shifts from
// arch/arm64/tools/sysreg).
var aarch64IDRegs = map[uint32]idRegUser{
	// CRm 2: the AArch32 ID_ISARn / ID_MMFR4 registers.
	2<<3 | 0: {},                                   // ID_ISAR0_EL1
	2<<3 | 1: {},                                   // ID_ISAR1_EL1
	2<<3 | 2: {},                                   // ID_ISAR2_EL1
	2<<3 | 3: {},                                   // ID_ISAR3_EL1
	2<<3 | 4: {},                                   // ID_ISAR4_EL1
	2<<3 | 5: {visible: fields4(16, 12, 8, 4)},     // ID_ISAR5_EL1: CRC32 SHA2 SHA1 AES
	2<<3 | 6: {},                                   // ID_MMFR4_EL1
	2<<3 | 7: {visible: fields4(24, 20, 12, 8, 4)}, // ID_ISAR6_EL1: I8MM BF16 SB FHM DP
	// CRm 3
	3<<3 | 0: {visible: fields4(8)},                     // MVFR0_EL1: FPDP
	3<<3 | 1: {visible: fields4(28, 24, 20, 16, 12, 8)}, // MVFR1_EL1: SIMDFMAC FPHP SIMDHP SIMDSP SIMDInt SIMDLS
	3<<3 | 2: {},                                        // MVFR2_EL1
	3<<3 | 4: {visible: fields4(4)},                     // ID_PFR2_EL1: SSBS
	3<<3 | 5: {},                                        // ID_DFR1_EL1
	3<<3 | 6: {},                                        // ID_MMFR5_EL1
	// CRm 4: ID_AA64PFR0_EL1: DIT AdvSIMD FP; EL1 and EL0 hidden as
	// "64-bit only" (1).
	4<<3 | 0: {visible: fields4(48, 20, 16), user: 1<<4 | 1},
	4<<3 | 1: {visible: fields4(4)}, // ID_AA64PFR1_EL1: SSBS
	4<<3 | 4: {},                    // ID_AA64ZFR0_EL1 (no SVE)
	4<<3 | 5: {},                    // ID_AA64SMFR0_EL1 (no SME)
	// CRm 5: ID_AA64DFR0_EL1: DebugVer hidden at 6 (ARMv8.0 debug).
	5<<3 | 0: {user: 6},
	5<<3 | 1: {}, // ID_AA64DFR1_EL1
	// CRm 6: ID_AA64ISAR0_EL1: RNDR TS FHM DP SM4 SM3 SHA3 RDM ATOMIC CRC32
	// SHA2 SHA1 AES.
	6<<3 | 0: {visible: fields4(60, 52, 48, 44, 40, 36, 32, 28, 20, 16, 12, 8, 4)},
	// ID_AA64ISAR1_EL1: I8MM DGH BF16 SB FRINTTS LRCPC FCMA JSCVT DPB.
	6<<3 | 1: {visible: fields4(52, 48, 44, 36, 32, 20, 16, 12, 0)},
	// ID_AA64ISAR2_EL1: CSSC RPRFM RPRES WFxT.
	6<<3 | 2: {visible: fields4(52, 48, 4, 0)},
	// CRm 7: ID_AA64MMFR0_EL1: ECV; TGran4_2, TGran64_2, TGran16_2 hidden
	// at 1, TGran4 and TGran64 at 0xf (not implemented).
	7<<3 | 0: {visible: fields4(60), user: 1<<40 | 1<<36 | 1<<32 | 0xf<<28 | 0xf<<24},
	7<<3 | 1: {visible: fields4(44)}, // ID_AA64MMFR1_EL1: AFP
	7<<3 | 2: {visible: fields4(32)}, // ID_AA64MMFR2_EL1: AT
}

// aarch64MPIDRSafe is SYS_MPIDR_SAFE_VAL (arch/arm64/include/asm/cputype.h).
const aarch64MPIDRSafe = 1 << 31

// AArch64IDRegUser is the value Linux gives EL0 for MRS of the ID register
// op0 3, op1 0, CRn 0, crm, op2, and whether it emulates that read at all.
func AArch64IDRegUser(e *cpu.Engine, crm, op2 int) (uint64, bool) {
	switch {
	case crm == 0:
		switch op2 {
		case 0: // MIDR_EL1
			v, err := e.SysReg(3, 0, 0, 0, 0)
			return v, err == nil
		case 5: // MPIDR_EL1
			return aarch64MPIDRSafe, true
		case 6: // REVIDR_EL1
			return 0, true
		}
		return 0, false
	case crm < 2 || crm > 7:
		return 0, false
	}
	r, ok := aarch64IDRegs[uint32(crm<<3|op2)]
	if !ok {
		return 0, true // untracked: RAZ
	}
	v, _ := e.SysReg(3, 0, 0, crm, op2)
	return v&r.visible | r.user, true
}

// AArch64 instruction encodings the undefined-instruction path looks at.
const (
	a64MRSMask = 0xfff00000 // MRS Xt, <sysreg>: 1101 0101 0011 ...
	a64MRS     = 0xd5300000
	a64WFI     = 0xd503207f
)

// aarch64EmulateUndef does what Linux does for an undefined-instruction
// exception at EL0 before it sends SIGILL: MRS of an ID register is emulated
// (try_emulate_mrs) and WFI, trapped because SCTLR_EL1.nTWI is clear, is
// skipped (traps.c wfi_handler). Reports whether the instruction was
// handled and execution goes on after it.
func aarch64EmulateUndef(t *Task, e *cpu.Engine, intno uint32) bool {
	if intno != excpUDef {
		return false
	}
	pc := e.PC()
	var b [4]byte
	if err := t.P.Mem.Read(mem.GuestAddr(pc), b[:]); err != nil {
		return false
	}
	insn := binary.LittleEndian.Uint32(b[:])
	switch {
	case insn == a64WFI:
	case insn&a64MRSMask == a64MRS:
		op0 := 2 + int(insn>>19&1)
		op1, crn, crm, op2 := int(insn>>16&7), int(insn>>12&0xf), int(insn>>8&0xf), int(insn>>5&7)
		if op0 != 3 || op1 != 0 || crn != 0 {
			return false
		}
		v, ok := AArch64IDRegUser(e, crm, op2)
		if !ok {
			return false
		}
		if rt := int(insn & 0x1f); rt != 31 { // XZR: the value goes nowhere
			e.SetReg(cpu.A64X(rt), v)
		}
	default:
		return false
	}
	e.SetReg(cpu.A64PC, pc+4)
	return true
}
