package abi

import (
	"encoding/binary"
	"unsafe"

	"xemu/cpu"
)

// AArch64 signal frame layouts (arch/arm64/include/uapi/asm/sigcontext.h,
// arch/arm64/include/uapi/asm/ucontext.h, arch/arm64/kernel/signal.c).
// Pinned against the cross headers by TestSigLayoutsMatchHeaders.

// StackTAArch64 is stack_t (include/uapi/asm-generic/signal.h).
type StackTAArch64 struct {
	SP    uint64
	Flags int32
	_     [4]byte
	Size  uint64
}

// SigcontextAArch64 is struct sigcontext; __reserved is 16-byte aligned.
type SigcontextAArch64 struct {
	FaultAddress uint64
	Regs         [31]uint64
	SP           uint64
	PC           uint64
	PState       uint64
	_            [8]byte // __reserved is __aligned__(16)
	Reserved     [4096]byte
}

// UcontextAArch64 is struct ucontext: the sigset is padded to glibc's 1024
// bits, and uc_mcontext inherits sigcontext's 16-byte alignment.
type UcontextAArch64 struct {
	Flags    uint64
	Link     uint64
	Stack    StackTAArch64
	Sigmask  uint64
	_        [1024/8 - 8]byte
	_        [8]byte // align uc_mcontext to 16
	Mcontext SigcontextAArch64
}

// RTSigframeAArch64 is arch/arm64/kernel/signal.c struct rt_sigframe.
type RTSigframeAArch64 struct {
	Info [SigInfoSize]byte
	UC   UcontextAArch64
}

// AArch64Ctx is struct _aarch64_ctx, the header of each __reserved record.
type AArch64Ctx struct {
	Magic uint32
	Size  uint32
}

// FPSIMDContextAArch64 is struct fpsimd_context (528 bytes).
type FPSIMDContextAArch64 struct {
	Head  AArch64Ctx
	FPSR  uint32
	FPCR  uint32
	VRegs [32][2]uint64 // __uint128_t, low half first
}

// ESRContextAArch64 is struct esr_context.
type ESRContextAArch64 struct {
	Head AArch64Ctx
	ESR  uint64
}

// ExtraContextAArch64 is struct extra_context.
type ExtraContextAArch64 struct {
	Head  AArch64Ctx
	Datap uint64
	Size  uint32
	_     [3]uint32
}

// Record magics (arch/arm64/include/uapi/asm/sigcontext.h).
const (
	FPSIMD_MAGIC = 0x46508001
	ESR_MAGIC    = 0x45535201
	EXTRA_MAGIC  = 0x45585401
	SVE_MAGIC    = 0x53564501
	ZA_MAGIC     = 0x54366345
)

const (
	// SigTrampAArch64RT is the offset of __kernel_rt_sigreturn in
	// TrampolineCode (after the nop the vDSO puts before it for unwinders).
	SigTrampAArch64RT = 4

	// sigframeMaxAArch64 is SIGFRAME_MAXSZ (arch/arm64/kernel/signal.c).
	sigframeMaxAArch64 = 64 << 10

	sigPStateNZCV = 0xf0000000
	// valid_native_regs: EL0t (M[3:0] == 0), AArch64 (M[4] == 0), D, A, I
	// and F clear; none of these are among SPSR_EL1_AARCH64_RES0_BITS,
	// which the kernel strips first.
	sigPStateMode         = 0x1f
	sigPStateDAIF         = 0x3c0
	rtSigframeSizeAArch64 = int(unsafe.Sizeof(RTSigframeAArch64{}))
)

var (
	offUCAArch64       = uint64(unsafe.Offsetof(RTSigframeAArch64{}.UC))
	offReservedAArch64 = offUCAArch64 + uint64(unsafe.Offsetof(UcontextAArch64{}.Mcontext)) +
		uint64(unsafe.Offsetof(SigcontextAArch64{}.Reserved))
)

// MinSigStkSzAArch64 is the AT_MINSIGSTKSZ an arm64 kernel computes for a
// CPU without SVE, SME, FPMR, POE or GCS (minsigstksz_setup: the largest
// frame, rt_sigframe rounded to 16, plus the 16-byte frame record and 16
// bytes of alignment padding): every frame Build makes below an SP fits in
// this many bytes.
const MinSigStkSzAArch64 = uint64(unsafe.Sizeof(RTSigframeAArch64{})+15)&^15 + 16 + 16

// Build lays the frame record right after the rt_sigframe in one struct,
// which is get_sigframe's placement only because sizeof(rt_sigframe) is a
// multiple of 16; this fails to compile otherwise.
var _ [0]struct{} = [unsafe.Sizeof(RTSigframeAArch64{}) % 16]struct{}{}

type sigFrameAArch64 struct{}

// SigFrameAArch64 builds and reads AArch64 rt_sigframes.
var SigFrameAArch64 SigFrameLayout = sigFrameAArch64{}

var sigTrampAArch64 = []byte{
	0x1f, 0x20, 0x03, 0xd5, // nop
	0x68, 0x11, 0x80, 0xd2, // mov x8, #139 (__NR_rt_sigreturn)
	0x01, 0x00, 0x00, 0xd4, // svc #0
}

func (sigFrameAArch64) TrampolineCode() []byte { return append([]byte(nil), sigTrampAArch64...) }

// Build is setup_rt_frame: get_sigframe places a frame record {x29, x30}
// 16-aligned below SP and the rt_sigframe (its records: fpsimd_context,
// esr_context if ESR != 0, terminator) 16-aligned below that. At handler
// entry x0 = signo, x1 = &info and x2 = &uc (SA_SIGINFO only), sp = the
// frame, x29 = &frame record, x30 = restorer or __kernel_rt_sigreturn, pc =
// handler. PSTATE is left as interrupted: setup_return only sets BTYPE and
// clears TCO (and SME state), none of which cpu.Regs holds; FP/SIMD
// registers are left as they were.
func (sigFrameAArch64) Build(r *SigFrameRequest) (SigFrame, error) {
	const recordSize = 16 // struct frame_record
	frameSize := uint64(rtSigframeSizeAArch64+15) &^ 15
	if r.SP < frameSize+2*recordSize {
		return SigFrame{}, &SigFrameTooLowError{SP: r.SP, Size: frameSize + recordSize}
	}
	next := (r.SP - recordSize) &^ 15
	addr := next - frameSize

	// One allocation, built in place: the frame and the frame record above
	// it, which is where get_sigframe puts it (frameSize is already a
	// multiple of 16).
	buf := new(struct {
		frame  RTSigframeAArch64
		record [2]uint64
	})
	f := &buf.frame
	if r.RT {
		r.Info.marshalInto(f.Info[:], 64)
	}
	uc := &f.UC
	uc.Stack = StackTAArch64{SP: r.Stack.SP, Flags: r.Stack.Flags, Size: r.Stack.Size}
	uc.Sigmask = r.Mask
	sc := &uc.Mcontext
	sc.FaultAddress = r.FaultAddr
	sc.Regs = r.Regs.X
	sc.SP, sc.PC, sc.PState = r.Regs.SP, r.Regs.PC, r.Regs.PState&sigPStateNZCV

	// setup_sigframe_layout: each record 16-byte padded, then the terminator.
	off := 0
	fp := FPSIMDContextAArch64{
		Head: AArch64Ctx{Magic: FPSIMD_MAGIC, Size: uint32(unsafe.Sizeof(FPSIMDContextAArch64{}))},
		FPSR: uint32(r.Regs.FPSR), FPCR: uint32(r.Regs.FPCR), VRegs: r.Regs.V,
	}
	off += copy(sc.Reserved[off:], sigLayoutBytes(&fp))
	if r.ESR != 0 {
		esr := ESRContextAArch64{Head: AArch64Ctx{Magic: ESR_MAGIC, Size: uint32(unsafe.Sizeof(ESRContextAArch64{}))}, ESR: r.ESR}
		copy(sc.Reserved[off:], sigLayoutBytes(&esr))
	}

	buf.record = [2]uint64{r.Regs.X[29], r.Regs.X[30]}
	b := sigLayoutBytes(buf)

	regs := r.Regs
	regs.X[0] = uint64(uint32(r.Info.Signo))
	if r.RT {
		regs.X[1] = addr
		regs.X[2] = addr + offUCAArch64
	}
	regs.SP = addr
	regs.X[29] = next
	if r.Restorer != 0 {
		regs.X[30] = r.Restorer
	} else {
		regs.X[30] = r.Trampoline + SigTrampAArch64RT
	}
	regs.PC = r.Handler
	return SigFrame{Addr: addr, Bytes: b, Regs: regs}, nil
}

// ReturnFrame is sys_rt_sigreturn / restore_sigframe / parse_user_sigframe.
// rt is ignored: AArch64 has only rt_sigreturn. Accepted records are those
// the kernel accepts on a CPU without SVE, SME, TPIDR2, FPMR, POE or GCS:
// fpsimd_context (required, exactly once), esr_context (ignored),
// extra_context (followed as the kernel does), terminator; any other magic
// is refused, as the kernel refuses records of features it lacks.
func (sigFrameAArch64) ReturnFrame(sp uint64, rt bool, cur *cpu.Regs, read func(uint64, int) ([]byte, error)) (cpu.Regs, uint64, StackT, error) {
	bad := &BadSigFrameError{}
	fail := func(reason string) (cpu.Regs, uint64, StackT, error) {
		bad.Reason = reason
		return cpu.Regs{}, 0, StackT{}, bad
	}
	if sp&15 != 0 {
		return fail("sp not 16-byte aligned")
	}
	head, err := sigReadFull(read, sp+offUCAArch64, int(offReservedAArch64-offUCAArch64))
	if err != nil {
		return cpu.Regs{}, 0, StackT{}, err
	}
	var uc UcontextAArch64
	sigLayoutFrom(&uc, head)
	bad.Mask, bad.MaskRead = uc.Sigmask, true
	sc := &uc.Mcontext
	stack := StackT{SP: uc.Stack.SP, Flags: uc.Stack.Flags, Size: uc.Stack.Size}

	if sc.PState&sigPStateMode != 0 || sc.PState&sigPStateDAIF != 0 {
		return fail("pstate is not EL0t with DAIF clear")
	}

	var fp *FPSIMDContextAArch64
	var fpSize uint32
	base, offset, limit := sp+offReservedAArch64, uint64(0), uint64(len(sc.Reserved))
	haveExtra := false
	for {
		if limit-offset < 8 {
			return fail("no room for a record header")
		}
		if offset&15 != 0 {
			return fail("misaligned record")
		}
		hb, err := sigReadFull(read, base+offset, 8)
		if err != nil {
			return cpu.Regs{}, 0, StackT{}, err
		}
		magic, size := binary.LittleEndian.Uint32(hb), binary.LittleEndian.Uint32(hb[4:])
		if limit-offset < uint64(size) {
			return fail("record overruns its area")
		}
		switch magic {
		case 0:
			if size != 0 {
				return fail("terminator with nonzero size")
			}
		case FPSIMD_MAGIC:
			if fp != nil {
				return fail("second fpsimd_context")
			}
			if size < uint32(unsafe.Sizeof(FPSIMDContextAArch64{})) {
				return fail("short fpsimd_context")
			}
			rb, err := sigReadFull(read, base+offset, int(unsafe.Sizeof(FPSIMDContextAArch64{})))
			if err != nil {
				return cpu.Regs{}, 0, StackT{}, err
			}
			fp = new(FPSIMDContextAArch64)
			sigLayoutFrom(fp, rb)
			fpSize = size
		case ESR_MAGIC:
		case EXTRA_MAGIC:
			if haveExtra {
				return fail("second extra_context")
			}
			if size < uint32(unsafe.Sizeof(ExtraContextAArch64{})) {
				return fail("short extra_context")
			}
			rb, err := sigReadFull(read, base+offset, int(unsafe.Sizeof(ExtraContextAArch64{})))
			if err != nil {
				return cpu.Regs{}, 0, StackT{}, err
			}
			var extra ExtraContextAArch64
			sigLayoutFrom(&extra, rb)
			userp := base + offset + uint64(size)
			if limit-offset-uint64(size) < 16 {
				return fail("no terminator after extra_context")
			}
			eb, err := sigReadFull(read, userp, 8)
			if err != nil {
				return cpu.Regs{}, 0, StackT{}, err
			}
			if binary.LittleEndian.Uint64(eb) != 0 {
				return fail("extra_context not followed by a terminator")
			}
			userp += 16
			haveExtra = true
			if extra.Datap&15 != 0 || extra.Size&15 != 0 || extra.Datap != userp {
				return fail("extra_context data misplaced")
			}
			if uint64(extra.Size) > sp+sigframeMaxAArch64-userp {
				return fail("extra_context too large")
			}
			base, offset, limit = extra.Datap, 0, uint64(extra.Size)
			continue
		default:
			return fail("unknown record magic")
		}
		if magic == 0 {
			break
		}
		if size < 8 {
			return fail("record smaller than its header")
		}
		if limit-offset < uint64(size) {
			return fail("record overruns its area")
		}
		offset += uint64(size)
	}
	if fp == nil {
		return fail("no fpsimd_context")
	}
	// restore_fpsimd_context wants the exact size.
	if fpSize != uint32(unsafe.Sizeof(FPSIMDContextAArch64{})) {
		return fail("fpsimd_context of the wrong size")
	}

	regs := *cur
	regs.X = sc.Regs
	regs.SP, regs.PC = sc.SP, sc.PC
	regs.PState = sc.PState & sigPStateNZCV
	regs.V = fp.VRegs
	regs.FPSR, regs.FPCR = uint64(fp.FPSR), uint64(fp.FPCR)
	return regs, uc.Sigmask, stack, nil
}
