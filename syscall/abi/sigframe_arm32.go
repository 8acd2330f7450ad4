package abi

import (
	"encoding/binary"
	"unsafe"

	"xemu/cpu"
)

// ARM (EABI) signal frame layouts. struct sigcontext is uapi
// (arch/arm/include/uapi/asm/sigcontext.h), but struct ucontext and
// vfp_sigframe are not: they come from arch/arm/include/asm/ucontext.h and
// asm/user.h (struct user_vfp, user_vfp_exc), with the kernel's 64-bit
// sigset_t; sigframe and rt_sigframe from arch/arm/kernel/signal.h.
// testdata/sigframe_layout.c repeats those definitions and checks them
// against glibc's ucontext_t, which mirrors the kernel's.

// StackTARM is stack_t (arch/arm/include/uapi/asm/signal.h).
type StackTARM struct {
	SP    uint32
	Flags int32
	Size  uint32
}

// SigcontextARM is struct sigcontext.
type SigcontextARM struct {
	TrapNo       uint32
	ErrorCode    uint32
	OldMask      uint32
	R            [11]uint32 // arm_r0..arm_r10
	FP, IP       uint32     // r11, r12
	SP, LR, PC   uint32
	CPSR         uint32
	FaultAddress uint32
}

// VFPSigframeARM is struct vfp_sigframe (VFP_STORAGE_SIZE = 288 bytes).
type VFPSigframeARM struct {
	Magic   uint32
	Size    uint32
	FPRegs  [32]uint64 // user_vfp.fpregs: D0..D31
	FPSCR   uint32
	_       uint32 // user_vfp is 8-byte aligned
	FPExc   uint32 // user_vfp_exc
	FPInst  uint32
	FPInst2 uint32
	_       uint32 // vfp_sigframe is __aligned__(8)
}

// AuxSigframeARM is struct aux_sigframe as a kernel without iWMMXt or
// Crunch lays it out in uc_regspace: vfp_sigframe then end_magic 0. (An
// iWMMXt-capable kernel puts a 160-byte dummy record first; the arm64 kernel
// running ARM tasks never does.)
type AuxSigframeARM struct {
	VFP      VFPSigframeARM
	EndMagic uint32
	_        [128*4 - 288 - 4]byte
}

// UcontextARM is struct ucontext: uc_sigmask padded to glibc's 1024 bits,
// uc_regspace 8-byte aligned.
type UcontextARM struct {
	Flags    uint32
	Link     uint32
	Stack    StackTARM
	Mcontext SigcontextARM
	Sigmask  [2]uint32
	_        [32 - 2]int32
	Regspace AuxSigframeARM
}

// SigframeARM is struct sigframe (retcode[4] since FDPIC support).
type SigframeARM struct {
	UC      UcontextARM
	Retcode [4]uint32
}

// RTSigframeARM is struct rt_sigframe.
type RTSigframeARM struct {
	Info [SigInfoSize]byte
	Sig  SigframeARM
}

const (
	VFP_MAGIC = 0x56465001

	// setup_frame marks a non-rt ucontext with a uc_flags value
	// sigcontext.trap_no never has.
	sigframeUCFlagsARM = 0x5ac3c35a

	// Entry points in TrampolineCode (sigreturn_codes: idx << 2, +1 for
	// Thumb handlers' LR).
	SigTrampARMSigreturn     = 0
	SigTrampThumbSigreturn   = 8
	SigTrampARMRTSigreturn   = 12
	SigTrampThumbRTSigreturn = 20

	sigCPSRUSRMode  = 0x10
	sigCPSRModeMask = 0x1f
	sigCPSRF        = 1 << 6
	sigCPSRI        = 1 << 7
	sigCPSRA        = 1 << 8
	sigCPSRE        = 1 << 9
	sigCPSRThumb    = 1 << 5
	sigCPSRFlags    = 0xff000000 // PSR_f: N Z C V Q IT[1:0] J
	sigCPSRITMask   = 0x0600fc00

	sigFPEXCEnable    = 1 << 30
	sigFPSCRLenStride = 7<<16 | 3<<20 // FPSCR_LENGTH_MASK | FPSCR_STRIDE_MASK
)

var (
	offSigInRTARM  = uint64(unsafe.Offsetof(RTSigframeARM{}.Sig))
	offRegspaceARM = uint64(unsafe.Offsetof(UcontextARM{}.Regspace))
	offRetcodeARM  = uint64(unsafe.Offsetof(SigframeARM{}.Retcode))
)

// sigreturnCodesARM is arch/arm/kernel/sigreturn_codes.S as the kernel
// copies it into the sigpage: 12-byte slots of `mov r7, #NR; swi
// #NR|0x900000` (ARM) and `movs r7, #NR; swi #0` (Thumb, at +8) for
// sigreturn (119) and rt_sigreturn (173), then the FDPIC bounces
// (`ldr r3, [sp, #(RT_)SIGFRAME_RC3_OFFSET]; ldmia; bx`) and a pad word.
// setup_return copies two of these words into sigframe.retcode.
var sigreturnCodesARM = [17]uint32{
	0xe3a07077, 0xef900077, 0xdf002777,
	0xe3a070ad, 0xef9000ad, 0xdf0027ad,
	0xe59d32f4, 0xe8930208, 0xe12fff13, 0xcb0c9bbd, 0x47104699,
	0xe59d3374, 0xe8930208, 0xe12fff13, 0xcb0c9bdd, 0x47104699,
	0,
}

type sigFrameARM struct{}

// SigFrameARM builds and reads ARM sigframes and rt_sigframes.
var SigFrameARM SigFrameLayout = sigFrameARM{}

func (sigFrameARM) TrampolineCode() []byte {
	b := make([]byte, 4*len(sigreturnCodesARM))
	for i, w := range sigreturnCodesARM {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return b
}

// sigUserCPSR is the CPSR a user-mode thread shows the kernel: its own bits
// (cpu.ARMCPSRUserMask) in USR mode. The engine may run the guest in
// another mode; frames store what a real kernel would.
func sigUserCPSR(pstate uint64) uint32 {
	return uint32(pstate&cpu.ARMCPSRUserMask) | sigCPSRUSRMode
}

// Build is setup_frame (!RT) or setup_rt_frame: the frame goes at
// (SP - size) &^ 7. At handler entry r0 = signo, r1 = &info and r2 = &uc
// (RT only), sp = the frame, lr = restorer or the sigpage's code for this
// kind of handler (+1 for Thumb), pc = handler &^ 1; CPSR loses N Z C V Q J
// IT and E, and T follows the handler's bit 0 (setup_return); FPSCR's LEN
// and STRIDE are cleared (vfp_preserve_user_clear_hwstate). The frame's
// sigcontext stores the interrupted CPSR in USR mode, and its vfp_sigframe
// FPEXC = EN, FPINST = FPINST2 = 0.
func (sigFrameARM) Build(r *SigFrameRequest) (SigFrame, error) {
	var sizeof uint64
	if r.RT {
		sizeof = uint64(unsafe.Sizeof(RTSigframeARM{}))
	} else {
		sizeof = uint64(unsafe.Sizeof(SigframeARM{}))
	}
	sp := r.SP & 0xffffffff
	if sp < sizeof+8 {
		return SigFrame{}, &SigFrameTooLowError{SP: r.SP, Size: sizeof}
	}
	addr := (sp - sizeof) &^ 7

	rt := new(RTSigframeARM)
	sf := &rt.Sig
	uc := &sf.UC
	if r.RT {
		r.Info.marshalInto(rt.Info[:], 32)
		uc.Stack = StackTARM{SP: uint32(r.Stack.SP), Flags: r.Stack.Flags, Size: uint32(r.Stack.Size)}
	} else {
		uc.Flags = sigframeUCFlagsARM
	}
	sc := &uc.Mcontext
	sc.TrapNo, sc.ErrorCode, sc.FaultAddress = uint32(r.TrapNo), uint32(r.ErrorCode), uint32(r.FaultAddr)
	sc.OldMask = uint32(r.Mask)
	for i := range sc.R {
		sc.R[i] = uint32(r.Regs.X[i])
	}
	sc.FP, sc.IP = uint32(r.Regs.X[11]), uint32(r.Regs.X[12])
	sc.SP, sc.LR, sc.PC = uint32(r.Regs.SP), uint32(r.Regs.X[14]), uint32(r.Regs.PC)
	sc.CPSR = sigUserCPSR(r.Regs.PState)
	uc.Sigmask = [2]uint32{uint32(r.Mask), uint32(r.Mask >> 32)}
	vfp := &uc.Regspace.VFP
	vfp.Magic, vfp.Size = VFP_MAGIC, uint32(unsafe.Sizeof(VFPSigframeARM{}))
	for i := range vfp.FPRegs {
		vfp.FPRegs[i] = r.Regs.V[i/2][i%2]
	}
	vfp.FPSCR = uint32(r.Regs.FPSR)
	vfp.FPExc = sigFPEXCEnable

	thumb := r.Handler & 1
	cpsr := r.Regs.PState &^ (sigCPSRFlags | sigCPSRE | sigCPSRITMask | sigCPSRThumb)
	if thumb != 0 {
		cpsr |= sigCPSRThumb
	}
	var lr uint64
	if r.Restorer != 0 {
		lr = r.Restorer
	} else {
		idx := thumb << 1
		if r.RT {
			idx += 3
		}
		sf.Retcode[0], sf.Retcode[1] = sigreturnCodesARM[idx], sigreturnCodesARM[idx+1]
		lr = (r.Trampoline + idx<<2 + thumb) & 0xffffffff
	}

	b := sigLayoutBytes(rt)
	if !r.RT {
		b = b[offSigInRTARM:]
	}

	regs := r.Regs
	regs.X[0] = uint64(uint32(r.Info.Signo))
	if r.RT {
		regs.X[1] = addr
		regs.X[2] = addr + offSigInRTARM
	}
	regs.SP = addr
	regs.X[14] = lr
	regs.PC = r.Handler &^ 1 & 0xffffffff
	regs.PState = cpsr
	regs.FPSR &^= sigFPSCRLenStride
	return SigFrame{Addr: addr, Bytes: b, Regs: regs}, nil
}

// ReturnFrame is sys_sigreturn (!rt) / sys_rt_sigreturn and
// restore_sigframe: sp must be 8-byte aligned; valid_user_regs wants USR
// mode with I clear (A and F are cleared, not refused); the vfp_sigframe at
// uc_regspace must have VFP_MAGIC and size 288. The CPSR returned is cur's
// with the user-owned bits (cpu.ARMCPSRUserMask) taken from the frame, so
// the engine's own mode survives; PC loses bit 0 in Thumb state.
func (sigFrameARM) ReturnFrame(sp uint64, rt bool, cur *cpu.Regs, read func(uint64, int) ([]byte, error)) (cpu.Regs, uint64, StackT, error) {
	bad := &BadSigFrameError{}
	fail := func(reason string) (cpu.Regs, uint64, StackT, error) {
		bad.Reason = reason
		return cpu.Regs{}, 0, StackT{}, bad
	}
	if sp&7 != 0 {
		return fail("sp not 8-byte aligned")
	}
	sf := sp
	if rt {
		sf += offSigInRTARM
	}
	hb, err := sigReadFull(read, sf, int(offRegspaceARM))
	if err != nil {
		return cpu.Regs{}, 0, StackT{}, err
	}
	var uc UcontextARM
	sigLayoutFrom(&uc, hb)
	mask := uint64(uc.Sigmask[0]) | uint64(uc.Sigmask[1])<<32
	bad.Mask, bad.MaskRead = mask, true
	sc := &uc.Mcontext

	cpsr := sc.CPSR &^ (sigCPSRF | sigCPSRA)
	if cpsr&sigCPSRI != 0 || cpsr&sigCPSRModeMask != sigCPSRUSRMode {
		return fail("cpsr is not USR mode with IRQs enabled")
	}

	vb, err := sigReadFull(read, sf+offRegspaceARM, int(unsafe.Sizeof(VFPSigframeARM{})))
	if err != nil {
		return cpu.Regs{}, 0, StackT{}, err
	}
	var vfp VFPSigframeARM
	sigLayoutFrom(&vfp, vb)
	if vfp.Magic != VFP_MAGIC || vfp.Size != uint32(unsafe.Sizeof(VFPSigframeARM{})) {
		return fail("bad vfp_sigframe magic or size")
	}

	regs := *cur
	for i, v := range sc.R {
		regs.X[i] = uint64(v)
	}
	regs.X[11], regs.X[12] = uint64(sc.FP), uint64(sc.IP)
	regs.SP, regs.X[14], regs.PC = uint64(sc.SP), uint64(sc.LR), uint64(sc.PC)
	regs.PState = cur.PState&^cpu.ARMCPSRUserMask | uint64(cpsr)&cpu.ARMCPSRUserMask
	if cpsr&sigCPSRThumb != 0 {
		regs.PC &^= 1
	}
	for i, d := range vfp.FPRegs {
		regs.V[i/2][i%2] = d
	}
	regs.FPSR = uint64(vfp.FPSCR)

	var stack StackT
	if rt {
		stack = StackT{SP: uint64(uc.Stack.SP), Flags: uc.Stack.Flags, Size: uint64(uc.Stack.Size)}
	}
	return regs, mask, stack, nil
}
