package abi

import (
	"fmt"

	"xemu/cpu"
)

// A signal frame is what the kernel pushes on the user stack to run a
// handler and what rt_sigreturn (and ARM's sigreturn) reads back. This file
// and sigframe_aarch64.go / sigframe_arm32.go hold the exact layouts and the
// register changes of arch/arm64/kernel/signal.c and arch/arm/kernel/signal.c;
// deciding when to deliver, which stack to use and what to do with the result
// is the kernel layer's.
//
// Use:
//
//	f, err := abi.SigFrameAArch64.Build(&abi.SigFrameRequest{...})
//	// err: the frame does not fit below SP -> force SIGSEGV, as the kernel does
//	// write f.Bytes at f.Addr (EFAULT -> force SIGSEGV), then load f.Regs
//
//	regs, mask, stack, err := abi.SigFrameAArch64.ReturnFrame(sp, true, &cur, read)
//	// err (a *BadSigFrameError or the read error) -> force SIGSEGV, after
//	// installing the error's Mask when MaskRead (the kernel sets it first);
//	// else block mask &^ SigUnblockable, restore_altstack(stack) (rt only;
//	// its failure is SIGSEGV too) and load regs. The syscall "returns"
//	// regs.X[0]: nothing may overwrite it, and no syscall restart applies.

// StackT is stack_t: the sigaltstack settings as saved in uc_stack.
type StackT struct {
	SP    uint64
	Flags int32
	Size  uint64
}

// SigFrameRequest is everything a frame holds. The caller has already
// decided the signal, the mask and the stack.
type SigFrameRequest struct {
	// Regs are the interrupted registers; PC is where to resume (after a
	// syscall restart adjustment if any).
	Regs cpu.Regs
	// Mask is the blocked mask sigreturn restores (uc_sigmask; ARM also
	// stores its low word in sigcontext.oldmask).
	Mask uint64
	// Info is the siginfo; Info.Signo is the signal number the handler
	// receives in X0/R0 even when RT is false.
	Info SigInfo
	// RT is SA_SIGINFO. ARM: rt_sigframe instead of sigframe and R1/R2 set.
	// AArch64 always builds an rt_sigframe, but writes the siginfo and
	// sets X1/X2 only with SA_SIGINFO.
	RT bool
	// Stack is uc_stack (__save_altstack: ss_flags already computed for the
	// interrupted SP). ARM's non-rt sigframe does not store it.
	Stack StackT
	// SP is the top of the stack to build below: the alternate stack's top
	// or the interrupted SP. Build aligns as get_sigframe does.
	SP uint64
	// Handler is sa_handler; on ARM bit 0 selects a Thumb handler.
	Handler uint64
	// Restorer is sa_restorer when SA_RESTORER is set, else 0.
	Restorer uint64
	// Trampoline is where the caller maps TrampolineCode() (read+exec);
	// used when Restorer is 0.
	Trampoline uint64
	// Fault details. AArch64: FaultAddr -> sigcontext.fault_address, and an
	// esr_context record when ESR != 0 (thread.fault_code). ARM: TrapNo,
	// ErrorCode and FaultAddr -> sigcontext trap_no, error_code,
	// fault_address. The kernel keeps these per thread from its last fault
	// and writes them into every later frame too, fault or not; a caller
	// that wants that exactness keeps them per thread likewise.
	FaultAddr, ESR, TrapNo, ErrorCode uint64
}

// SigFrame is a built frame: write Bytes at Addr, then run with Regs.
type SigFrame struct {
	Addr  uint64 // the handler's SP: the frame's lowest address
	Bytes []byte
	Regs  cpu.Regs // registers at handler entry
}

// SigFrameLayout builds and reads one architecture's signal frames. There
// is one value per guest architecture: SigFrameAArch64, SigFrameARM.
type SigFrameLayout interface {
	// Build lays out the frame the kernel's setup_rt_frame (or ARM's
	// setup_frame when !RT) would, and the registers setup_return leaves.
	// It fails only when the frame does not fit below r.SP.
	Build(r *SigFrameRequest) (SigFrame, error)

	// ReturnFrame is rt_sigreturn (rt) or ARM's sigreturn (!rt): sp is SP
	// at the syscall, cur the registers then (ReturnFrame keeps what the
	// frame does not hold: TLS, and on ARM the CPSR bits user code does not
	// own), read fetches guest memory. It returns every register to resume
	// with, FP/SIMD included, uc_sigmask as stored (SIGKILL and SIGSTOP not
	// yet removed) and uc_stack (zero for ARM's non-rt frame, which has
	// none). A frame the kernel refuses gives a *BadSigFrameError; a failed
	// read returns read's error. Both mean SIGSEGV.
	ReturnFrame(sp uint64, rt bool, cur *cpu.Regs, read func(addr uint64, n int) ([]byte, error)) (regs cpu.Regs, mask uint64, stack StackT, err error)

	// TrampolineCode is the default signal-return code the kernel
	// provides, to be mapped read+exec at SigFrameRequest.Trampoline.
	// AArch64: the vDSO's `nop; __kernel_rt_sigreturn: mov x8, #139;
	// svc #0`. ARM: the sigpage's sigreturn_codes (ARM and Thumb sigreturn
	// and rt_sigreturn, then the FDPIC bounces). The entry points are the
	// SigTramp* offsets.
	TrampolineCode() []byte
}

// BadSigFrameError is a sigreturn the kernel would answer with SIGSEGV.
// The kernel installs uc_sigmask before it checks the registers, so when
// MaskRead is set the blocked mask should still become Mask.
type BadSigFrameError struct {
	Reason   string
	MaskRead bool
	Mask     uint64
}

func (e *BadSigFrameError) Error() string { return "bad signal frame: " + e.Reason }

// SigFrameTooLowError is a frame that does not fit below SigFrameRequest.SP.
type SigFrameTooLowError struct {
	SP, Size uint64
}

func (e *SigFrameTooLowError) Error() string {
	return fmt.Sprintf("signal frame of %d bytes does not fit below sp %#x", e.Size, e.SP)
}

// sigReadFull calls read and insists on n bytes.
func sigReadFull(read func(uint64, int) ([]byte, error), addr uint64, n int) ([]byte, error) {
	b, err := read(addr, n)
	if err != nil {
		return nil, err
	}
	if len(b) < n {
		return nil, fmt.Errorf("signal frame: short read of %d bytes at %#x", n, addr)
	}
	return b, nil
}
