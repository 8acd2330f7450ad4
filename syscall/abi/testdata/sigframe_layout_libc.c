/*
 * glibc's view of the same structures (see sigframe_layout_uapi.c): its
 * ucontext_t and mcontext_t mirror the kernel's frame, so they confirm the
 * non-uapi ARM ucontext repeated there. Lines are "libc-off name value".
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <signal.h>
#include <ucontext.h>
#include <sys/signalfd.h>

void uapi_layout(void);

#define OFF(t, f, name) printf("libc-off %s %zu\n", name, offsetof(t, f))

int main(void)
{
	uapi_layout();

	OFF(ucontext_t, uc_flags, "ucontext.uc_flags");
	OFF(ucontext_t, uc_link, "ucontext.uc_link");
	OFF(ucontext_t, uc_stack, "ucontext.uc_stack");
	OFF(ucontext_t, uc_mcontext, "ucontext.uc_mcontext");
	OFF(ucontext_t, uc_sigmask, "ucontext.uc_sigmask");
#if defined(__aarch64__)
	OFF(mcontext_t, fault_address, "sigcontext.fault_address");
	OFF(mcontext_t, regs, "sigcontext.regs");
	OFF(mcontext_t, sp, "sigcontext.sp");
	OFF(mcontext_t, pc, "sigcontext.pc");
	OFF(mcontext_t, pstate, "sigcontext.pstate");
	OFF(mcontext_t, __reserved, "sigcontext.__reserved");
#else
	OFF(ucontext_t, uc_regspace, "ucontext.uc_regspace");
	OFF(mcontext_t, trap_no, "sigcontext.trap_no");
	OFF(mcontext_t, oldmask, "sigcontext.oldmask");
	OFF(mcontext_t, arm_r0, "sigcontext.arm_r0");
	OFF(mcontext_t, arm_pc, "sigcontext.arm_pc");
	OFF(mcontext_t, arm_cpsr, "sigcontext.arm_cpsr");
	OFF(mcontext_t, fault_address, "sigcontext.fault_address");
#endif
	OFF(siginfo_t, si_pid, "siginfo.si_pid");
	OFF(siginfo_t, si_value, "siginfo.si_value");
	OFF(siginfo_t, si_status, "siginfo.si_status");
	OFF(siginfo_t, si_utime, "siginfo.si_utime");
	OFF(siginfo_t, si_addr, "siginfo.si_addr");
	OFF(siginfo_t, si_band, "siginfo.si_band");
	OFF(siginfo_t, si_fd, "siginfo.si_fd");
	OFF(struct signalfd_siginfo, ssi_ptr, "signalfd_siginfo.ssi_ptr");
	OFF(struct signalfd_siginfo, ssi_arch, "signalfd_siginfo.ssi_arch");
	return 0;
}
