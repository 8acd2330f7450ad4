/*
 * Prints the signal ABI as the kernel's uapi headers (the Debian cross
 * compilers' /usr/<triple>/include/{asm,linux}) define it, one
 * "kind name value" line each; TestSigLayoutsMatchHeaders compares them with
 * the Go layouts in syscall/abi. Built static for aarch64 and armhf and run
 * under qemu-user as a printer only. Together with sigframe_layout_libc.c,
 * which holds main and the glibc view; the two cannot share a translation
 * unit because glibc's and the kernel's signal types collide.
 */
#include <stddef.h>
#include <stdio.h>
#include <asm/signal.h>
#include <asm/siginfo.h>
#include <asm/sigcontext.h>
#include <linux/signal.h>
#include <linux/signalfd.h>

#define SZ(t, name) printf("size %s %zu\n", name, sizeof(t))
#define OFF(t, f, name) printf("off %s %zu\n", name, offsetof(t, f))
#define VAL(x) printf("val %s %lld\n", #x, (long long)(x))
#define VALP(x) printf("val %s %lld\n", #x, (long long)(unsigned long)(x))

#if defined(__aarch64__)
#include <asm/ucontext.h>

/* arch/arm64/kernel/signal.c */
struct rt_sigframe {
	siginfo_t info;
	struct ucontext uc;
};

static void arch_layout(void)
{
	SZ(struct sigcontext, "sigcontext");
	OFF(struct sigcontext, fault_address, "sigcontext.fault_address");
	OFF(struct sigcontext, regs, "sigcontext.regs");
	OFF(struct sigcontext, sp, "sigcontext.sp");
	OFF(struct sigcontext, pc, "sigcontext.pc");
	OFF(struct sigcontext, pstate, "sigcontext.pstate");
	OFF(struct sigcontext, __reserved, "sigcontext.__reserved");
	SZ(((struct sigcontext *)0)->__reserved, "sigcontext.__reserved");

	SZ(struct ucontext, "ucontext");
	OFF(struct ucontext, uc_flags, "ucontext.uc_flags");
	OFF(struct ucontext, uc_link, "ucontext.uc_link");
	OFF(struct ucontext, uc_stack, "ucontext.uc_stack");
	OFF(struct ucontext, uc_sigmask, "ucontext.uc_sigmask");
	OFF(struct ucontext, uc_mcontext, "ucontext.uc_mcontext");

	SZ(struct rt_sigframe, "rt_sigframe");
	OFF(struct rt_sigframe, uc, "rt_sigframe.uc");

	SZ(struct _aarch64_ctx, "_aarch64_ctx");
	SZ(struct fpsimd_context, "fpsimd_context");
	OFF(struct fpsimd_context, fpsr, "fpsimd_context.fpsr");
	OFF(struct fpsimd_context, fpcr, "fpsimd_context.fpcr");
	OFF(struct fpsimd_context, vregs, "fpsimd_context.vregs");
	SZ(struct esr_context, "esr_context");
	OFF(struct esr_context, esr, "esr_context.esr");
	SZ(struct extra_context, "extra_context");
	OFF(struct extra_context, datap, "extra_context.datap");
	OFF(struct extra_context, size, "extra_context.size");
	VAL(FPSIMD_MAGIC);
	VAL(ESR_MAGIC);
	VAL(EXTRA_MAGIC);
	VAL(SVE_MAGIC);
	VAL(ZA_MAGIC);
}

#elif defined(__arm__)

/*
 * arch/arm/include/asm/ucontext.h, asm/user.h and kernel/signal.h are not
 * uapi: repeated here, with the kernel's sigset_t (_NSIG = 64; the uapi
 * asm/signal.h sigset_t is the old 32-bit one). sigframe_layout_libc.c checks
 * the ucontext against glibc's ucontext_t, which mirrors it.
 */
typedef struct { unsigned long sig[2]; } kernel_sigset_t;

struct user_vfp {
	unsigned long long fpregs[32];
	unsigned long fpscr;
};

struct user_vfp_exc {
	unsigned long fpexc;
	unsigned long fpinst;
	unsigned long fpinst2;
};

#define VFP_MAGIC 0x56465001

struct vfp_sigframe {
	unsigned long magic;
	unsigned long size;
	struct user_vfp ufp;
	struct user_vfp_exc ufp_exc;
} __attribute__((__aligned__(8)));

struct aux_sigframe {
	struct vfp_sigframe vfp;
	unsigned long end_magic;
} __attribute__((__aligned__(8)));

struct ucontext {
	unsigned long uc_flags;
	struct ucontext *uc_link;
	stack_t uc_stack;
	struct sigcontext uc_mcontext;
	kernel_sigset_t uc_sigmask;
	int __unused[32 - (sizeof(kernel_sigset_t) / sizeof(int))];
	unsigned long uc_regspace[128] __attribute__((__aligned__(8)));
};

struct sigframe {
	struct ucontext uc;
	unsigned long retcode[4];
};

struct rt_sigframe {
	siginfo_t info;
	struct sigframe sig;
};

static void arch_layout(void)
{
	SZ(struct sigcontext, "sigcontext");
	OFF(struct sigcontext, trap_no, "sigcontext.trap_no");
	OFF(struct sigcontext, error_code, "sigcontext.error_code");
	OFF(struct sigcontext, oldmask, "sigcontext.oldmask");
	OFF(struct sigcontext, arm_r0, "sigcontext.arm_r0");
	OFF(struct sigcontext, arm_r10, "sigcontext.arm_r10");
	OFF(struct sigcontext, arm_fp, "sigcontext.arm_fp");
	OFF(struct sigcontext, arm_ip, "sigcontext.arm_ip");
	OFF(struct sigcontext, arm_sp, "sigcontext.arm_sp");
	OFF(struct sigcontext, arm_lr, "sigcontext.arm_lr");
	OFF(struct sigcontext, arm_pc, "sigcontext.arm_pc");
	OFF(struct sigcontext, arm_cpsr, "sigcontext.arm_cpsr");
	OFF(struct sigcontext, fault_address, "sigcontext.fault_address");

	SZ(struct ucontext, "ucontext");
	OFF(struct ucontext, uc_flags, "ucontext.uc_flags");
	OFF(struct ucontext, uc_link, "ucontext.uc_link");
	OFF(struct ucontext, uc_stack, "ucontext.uc_stack");
	OFF(struct ucontext, uc_mcontext, "ucontext.uc_mcontext");
	OFF(struct ucontext, uc_sigmask, "ucontext.uc_sigmask");
	OFF(struct ucontext, uc_regspace, "ucontext.uc_regspace");

	SZ(struct sigframe, "sigframe");
	OFF(struct sigframe, retcode, "sigframe.retcode");
	OFF(struct sigframe, retcode[3], "sigframe.retcode[3]");
	SZ(struct rt_sigframe, "rt_sigframe");
	OFF(struct rt_sigframe, sig, "rt_sigframe.sig");
	OFF(struct rt_sigframe, sig.retcode[3], "rt_sigframe.sig.retcode[3]");

	SZ(struct vfp_sigframe, "vfp_sigframe");
	OFF(struct vfp_sigframe, ufp.fpregs, "vfp_sigframe.ufp.fpregs");
	OFF(struct vfp_sigframe, ufp.fpscr, "vfp_sigframe.ufp.fpscr");
	OFF(struct vfp_sigframe, ufp_exc.fpexc, "vfp_sigframe.ufp_exc.fpexc");
	OFF(struct vfp_sigframe, ufp_exc.fpinst, "vfp_sigframe.ufp_exc.fpinst");
	OFF(struct vfp_sigframe, ufp_exc.fpinst2, "vfp_sigframe.ufp_exc.fpinst2");
	OFF(struct aux_sigframe, end_magic, "aux_sigframe.end_magic");
	VAL(VFP_MAGIC);
	VAL(SA_THIRTYTWO);
}
#else
#error "aarch64 or arm only"
#endif

void uapi_layout(void)
{
	arch_layout();

	SZ(stack_t, "stack_t");
	OFF(stack_t, ss_sp, "stack_t.ss_sp");
	OFF(stack_t, ss_flags, "stack_t.ss_flags");
	OFF(stack_t, ss_size, "stack_t.ss_size");

	SZ(siginfo_t, "siginfo");
	OFF(siginfo_t, si_signo, "siginfo.si_signo");
	OFF(siginfo_t, si_errno, "siginfo.si_errno");
	OFF(siginfo_t, si_code, "siginfo.si_code");
	OFF(siginfo_t, si_pid, "siginfo.si_pid");
	OFF(siginfo_t, si_uid, "siginfo.si_uid");
	OFF(siginfo_t, si_tid, "siginfo.si_tid");
	OFF(siginfo_t, si_overrun, "siginfo.si_overrun");
	OFF(siginfo_t, si_value, "siginfo.si_value");
	OFF(siginfo_t, si_status, "siginfo.si_status");
	OFF(siginfo_t, si_utime, "siginfo.si_utime");
	OFF(siginfo_t, si_stime, "siginfo.si_stime");
	OFF(siginfo_t, si_addr, "siginfo.si_addr");
	OFF(siginfo_t, si_addr_lsb, "siginfo.si_addr_lsb");
	OFF(siginfo_t, si_lower, "siginfo.si_lower");
	OFF(siginfo_t, si_upper, "siginfo.si_upper");
	OFF(siginfo_t, si_pkey, "siginfo.si_pkey");
	OFF(siginfo_t, si_perf_data, "siginfo.si_perf_data");
	OFF(siginfo_t, si_perf_type, "siginfo.si_perf_type");
	OFF(siginfo_t, si_perf_flags, "siginfo.si_perf_flags");
	OFF(siginfo_t, si_band, "siginfo.si_band");
	OFF(siginfo_t, si_fd, "siginfo.si_fd");
	OFF(siginfo_t, si_call_addr, "siginfo.si_call_addr");
	OFF(siginfo_t, si_syscall, "siginfo.si_syscall");
	OFF(siginfo_t, si_arch, "siginfo.si_arch");

	SZ(struct signalfd_siginfo, "signalfd_siginfo");
	OFF(struct signalfd_siginfo, ssi_signo, "signalfd_siginfo.ssi_signo");
	OFF(struct signalfd_siginfo, ssi_errno, "signalfd_siginfo.ssi_errno");
	OFF(struct signalfd_siginfo, ssi_code, "signalfd_siginfo.ssi_code");
	OFF(struct signalfd_siginfo, ssi_pid, "signalfd_siginfo.ssi_pid");
	OFF(struct signalfd_siginfo, ssi_uid, "signalfd_siginfo.ssi_uid");
	OFF(struct signalfd_siginfo, ssi_fd, "signalfd_siginfo.ssi_fd");
	OFF(struct signalfd_siginfo, ssi_tid, "signalfd_siginfo.ssi_tid");
	OFF(struct signalfd_siginfo, ssi_band, "signalfd_siginfo.ssi_band");
	OFF(struct signalfd_siginfo, ssi_overrun, "signalfd_siginfo.ssi_overrun");
	OFF(struct signalfd_siginfo, ssi_trapno, "signalfd_siginfo.ssi_trapno");
	OFF(struct signalfd_siginfo, ssi_status, "signalfd_siginfo.ssi_status");
	OFF(struct signalfd_siginfo, ssi_int, "signalfd_siginfo.ssi_int");
	OFF(struct signalfd_siginfo, ssi_ptr, "signalfd_siginfo.ssi_ptr");
	OFF(struct signalfd_siginfo, ssi_utime, "signalfd_siginfo.ssi_utime");
	OFF(struct signalfd_siginfo, ssi_stime, "signalfd_siginfo.ssi_stime");
	OFF(struct signalfd_siginfo, ssi_addr, "signalfd_siginfo.ssi_addr");
	OFF(struct signalfd_siginfo, ssi_addr_lsb, "signalfd_siginfo.ssi_addr_lsb");
	OFF(struct signalfd_siginfo, ssi_syscall, "signalfd_siginfo.ssi_syscall");
	OFF(struct signalfd_siginfo, ssi_call_addr, "signalfd_siginfo.ssi_call_addr");
	OFF(struct signalfd_siginfo, ssi_arch, "signalfd_siginfo.ssi_arch");

	VAL(SIGHUP); VAL(SIGINT); VAL(SIGQUIT); VAL(SIGILL); VAL(SIGTRAP);
	VAL(SIGABRT); VAL(SIGIOT); VAL(SIGBUS); VAL(SIGFPE); VAL(SIGKILL);
	VAL(SIGUSR1); VAL(SIGSEGV); VAL(SIGUSR2); VAL(SIGPIPE); VAL(SIGALRM);
	VAL(SIGTERM); VAL(SIGSTKFLT); VAL(SIGCHLD); VAL(SIGCONT); VAL(SIGSTOP);
	VAL(SIGTSTP); VAL(SIGTTIN); VAL(SIGTTOU); VAL(SIGURG); VAL(SIGXCPU);
	VAL(SIGXFSZ); VAL(SIGVTALRM); VAL(SIGPROF); VAL(SIGWINCH); VAL(SIGIO);
	VAL(SIGPOLL); VAL(SIGPWR); VAL(SIGSYS); VAL(SIGRTMIN);

	VAL(SA_NOCLDSTOP); VAL(SA_NOCLDWAIT); VAL(SA_SIGINFO); VAL(SA_UNSUPPORTED);
	VAL(SA_EXPOSE_TAGBITS); VAL(SA_RESTORER); VAL(SA_ONSTACK); VAL(SA_RESTART);
	VAL(SA_NODEFER); VAL(SA_RESETHAND);
	VALP(SIG_DFL); VALP(SIG_IGN);
	VAL(SS_ONSTACK); VAL(SS_DISABLE); VAL(SS_AUTODISARM);

	VAL(SI_USER); VAL(SI_KERNEL); VAL(SI_QUEUE); VAL(SI_TIMER); VAL(SI_MESGQ);
	VAL(SI_ASYNCIO); VAL(SI_SIGIO); VAL(SI_TKILL); VAL(SI_DETHREAD); VAL(SI_ASYNCNL);
	VAL(ILL_ILLOPC); VAL(ILL_ILLOPN); VAL(ILL_ILLADR); VAL(ILL_ILLTRP);
	VAL(ILL_PRVOPC); VAL(ILL_PRVREG); VAL(ILL_COPROC); VAL(ILL_BADSTK);
	VAL(ILL_BADIADDR); VAL(NSIGILL);
	VAL(FPE_INTDIV); VAL(FPE_INTOVF); VAL(FPE_FLTDIV); VAL(FPE_FLTOVF);
	VAL(FPE_FLTUND); VAL(FPE_FLTRES); VAL(FPE_FLTINV); VAL(FPE_FLTSUB);
	VAL(FPE_FLTUNK); VAL(FPE_CONDTRAP); VAL(NSIGFPE);
	VAL(SEGV_MAPERR); VAL(SEGV_ACCERR); VAL(SEGV_BNDERR); VAL(SEGV_PKUERR);
	VAL(SEGV_ACCADI); VAL(SEGV_ADIDERR); VAL(SEGV_ADIPERR); VAL(SEGV_MTEAERR);
	VAL(SEGV_MTESERR); VAL(NSIGSEGV);
	VAL(BUS_ADRALN); VAL(BUS_ADRERR); VAL(BUS_OBJERR); VAL(BUS_MCEERR_AR);
	VAL(BUS_MCEERR_AO); VAL(NSIGBUS);
	VAL(TRAP_BRKPT); VAL(TRAP_TRACE); VAL(TRAP_BRANCH); VAL(TRAP_HWBKPT);
	VAL(TRAP_UNK); VAL(TRAP_PERF); VAL(NSIGTRAP);
	VAL(CLD_EXITED); VAL(CLD_KILLED); VAL(CLD_DUMPED); VAL(CLD_TRAPPED);
	VAL(CLD_STOPPED); VAL(CLD_CONTINUED); VAL(NSIGCHLD);
	VAL(POLL_IN); VAL(POLL_OUT); VAL(POLL_MSG); VAL(POLL_ERR); VAL(POLL_PRI);
	VAL(POLL_HUP); VAL(NSIGPOLL);
	VAL(SYS_SECCOMP); VAL(SYS_USER_DISPATCH); VAL(NSIGSYS);
}
