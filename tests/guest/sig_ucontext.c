// A handler's ucontext is the interrupted state, and what the handler writes
// there is what the program resumes with: it moves the PC past an undefined
// instruction and past a faulting load, sets a register, and adds a signal to
// uc_sigmask, and rewrites a floating-point register in the frame's FP/SIMD
// record (AArch64: fpsimd_context, magic 0x46508001, first in __reserved;
// ARM: vfp_sigframe, magic 0x56465001, first in uc_regspace). On ARM the PC
// in arm_pc has no Thumb bit; Thumb state is the T bit (bit 5) of arm_cpsr
// and must survive the return.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

// Labels around the instructions the handlers skip (plain labels: in
// Thumb code their addresses have no Thumb bit).
extern char udf_at[], udf_after[], load_at[], load_after[];

#if defined(__aarch64__)
__attribute__((noinline, noclone)) static long run_udf(long v) {
	register long x0 __asm__("x0") = v;
	__asm__ volatile(".globl udf_at, udf_after\n"
	                 "udf_at: udf #0\n"
	                 "udf_after: add x0, x0, #1\n"
	                 : "+r"(x0)
	                 :
	                 : "memory");
	return x0;
}
__attribute__((noinline, noclone)) static long run_load(long *p) {
	register long x0 __asm__("x0") = 5;
	register long *x1 __asm__("x1") = p;
	__asm__ volatile(".globl load_at, load_after\n"
	                 "load_at: ldr x0, [x1]\n"
	                 "load_after: add x0, x0, #1\n"
	                 : "+r"(x0)
	                 : "r"(x1)
	                 : "memory");
	return x0;
}
#define PC(uc) ((uc)->uc_mcontext.pc)
#define R0(uc) ((uc)->uc_mcontext.regs[0])
#define THUMB(uc) 0
#else
__attribute__((noinline, noclone)) static long run_udf(long v) {
	register long r0 __asm__("r0") = v;
	__asm__ volatile(".globl udf_at, udf_after\n"
	                 "udf_at: udf #0\n"
	                 "udf_after: add r0, r0, #1\n"
	                 : "+r"(r0)
	                 :
	                 : "memory");
	return r0;
}
__attribute__((noinline, noclone)) static long run_load(long *p) {
	register long r0 __asm__("r0") = 5;
	register long *r1 __asm__("r1") = p;
	__asm__ volatile(".globl load_at, load_after\n"
	                 "load_at: ldr r0, [r1]\n"
	                 "load_after: add r0, r0, #1\n"
	                 : "+r"(r0)
	                 : "r"(r1)
	                 : "memory");
	return r0;
}
#define PC(uc) ((uc)->uc_mcontext.arm_pc)
#define R0(uc) ((uc)->uc_mcontext.arm_r0)
#define THUMB(uc) (((uc)->uc_mcontext.arm_cpsr >> 5) & 1)
#endif

// run_fp holds a double in d8 across an undefined instruction; the SIGILL
// handler replaces it in the frame. armel has no FP registers to use.
extern char fp_udf_at[], fp_udf_after[];
#if defined(__aarch64__)
#define HAVE_FP 1
__attribute__((noinline, noclone)) static double run_fp(double v) {
	double out;
	__asm__ volatile("fmov d8, %d1\n"
	                 ".globl fp_udf_at, fp_udf_after\n"
	                 "fp_udf_at: udf #0\n"
	                 "fp_udf_after: fmov %d0, d8\n"
	                 : "=w"(out)
	                 : "w"(v)
	                 : "v8", "memory");
	return out;
}
#elif defined(__ARM_PCS_VFP)
#define HAVE_FP 1
__attribute__((noinline, noclone)) static double run_fp(double v) {
	double out;
	__asm__ volatile("vmov.f64 d8, %P1\n"
	                 ".globl fp_udf_at, fp_udf_after\n"
	                 "fp_udf_at: udf #0\n"
	                 "fp_udf_after: vmov.f64 %P0, d8\n"
	                 : "=w"(out)
	                 : "w"(v)
	                 : "d8", "memory");
	return out;
}
#else
#define HAVE_FP 0
#endif

#if HAVE_FP
static volatile int fp_record_found;
static volatile double fp_seen;

// fp_reg returns where the frame keeps d8 (the low 64 bits of v8).
static void *fp_reg(ucontext_t *uc) {
#if defined(__aarch64__)
	struct fpsimd_context *f = (void *)uc->uc_mcontext.__reserved;
	if (f->head.magic != 0x46508001 || f->head.size != sizeof *f)
		return NULL;
	return &f->vregs[8];
#else
	unsigned long *r = (unsigned long *)uc->uc_regspace;
	if (r[0] != 0x56465001 || r[1] != 288)
		return NULL;
	return (char *)(r + 2) + 8 * 8; // struct user_vfp: u64 fpregs[32]
#endif
}

static void on_ill_fp(int sig, siginfo_t *si, void *p) {
	ucontext_t *uc = p;
	(void)sig;
	(void)si;
	void *d8 = fp_reg(uc);
	fp_record_found = d8 != NULL;
	double v = 2.75;
	if (d8) {
		double old;
		memcpy(&old, d8, 8);
		fp_seen = old;
		memcpy(d8, &v, 8);
	}
#if defined(__aarch64__)
	// An sve_context with register data (qemu-user writes one whenever its
	// CPU has SVE; Linux only when the thread's SVE state is live) is what
	// sigreturn restores the vector registers from, so d8 changes there too:
	// Z8's low 64 bits at SVE_SIG_ZREG_OFFSET(vq, 8).
	unsigned char *r = uc->uc_mcontext.__reserved;
	for (unsigned off = 0; off + 16 <= sizeof uc->uc_mcontext.__reserved;) {
		struct _aarch64_ctx *h = (void *)(r + off);
		if (h->magic == 0 || h->size == 0)
			break;
		if (h->magic == SVE_MAGIC && h->size > sizeof(struct sve_context)) {
			struct sve_context *sve = (void *)h;
			unsigned vq = sve->vl / 16;
			memcpy((char *)sve + 16 + 8 * vq * 16, &v, 8);
		}
		off += h->size;
	}
#endif
	PC(uc) = (uintptr_t)fp_udf_after;
}
#endif

static volatile int calls, pc_ok, addr_ok, thumb, r0_seen, usr2_in_uc, usr1_in_uc, code;

static void on_ill(int sig, siginfo_t *si, void *p) {
	ucontext_t *uc = p;
	(void)sig;
	calls++;
	code = si->si_code;
	pc_ok = PC(uc) == (uintptr_t)udf_at;
	addr_ok = si->si_addr == (void *)udf_at;
	thumb = THUMB(uc);
	r0_seen = R0(uc);
	usr2_in_uc = sigismember(&uc->uc_sigmask, SIGUSR2);
	usr1_in_uc = sigismember(&uc->uc_sigmask, SIGUSR1);
	PC(uc) = (uintptr_t)udf_after;
	R0(uc) = 41;
}

static void on_segv(int sig, siginfo_t *si, void *p) {
	ucontext_t *uc = p;
	(void)sig;
	calls++;
	code = si->si_code;
	pc_ok = PC(uc) == (uintptr_t)load_at;
	addr_ok = si->si_addr == (void *)8;
	thumb = THUMB(uc);
	PC(uc) = (uintptr_t)load_after;
	R0(uc) = 99;
}

static void add_usr1(int sig, siginfo_t *si, void *p) {
	ucontext_t *uc = p;
	(void)sig;
	(void)si;
	calls++;
	usr1_in_uc = sigismember(&uc->uc_sigmask, SIGUSR1);
	sigaddset(&uc->uc_sigmask, SIGHUP);
	sigdelset(&uc->uc_sigmask, SIGUSR2);
}

static void install(int sig, void (*h)(int, siginfo_t *, void *)) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static int blocked(int sig) {
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
#ifdef __thumb__
	const int want_thumb = 1;
#else
	const int want_thumb = 0;
#endif
	install(SIGILL, on_ill);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigprocmask(SIG_BLOCK, &m, NULL);
	long r = run_udf(7);
	// si_code (ILL_ILLOPC; qemu-user says ILL_ILLOPN) is sig_exact.c's.
	printf("udf skipped: calls=%d pc ok: %d si_addr ok: %d r0 seen=%d\n", calls, pc_ok, addr_ok, r0_seen);
	printf("r0 set by handler, then +1: %ld\n", r);
	printf("thumb state as compiled: %d\n", thumb == want_thumb);
	printf("uc_sigmask: SIGUSR2 (blocked before)=%d SIGUSR1=%d\n", usr2_in_uc, usr1_in_uc);
	calls = 0;
	for (int i = 0; i < 100; i++)
		r = run_udf(i);
	printf("100 more: calls=%d last r=%ld\n", calls, r);
	calls = 0;

	install(SIGSEGV, on_segv);
	long ok = 1000;
	r = run_load(&ok);
	printf("load that works: %ld calls=%d\n", r, calls);
	r = run_load((long *)8);
	printf("faulting load skipped: calls=%d si_code is SEGV_MAPERR: %d pc ok: %d si_addr ok: %d\n", calls,
	       code == SEGV_MAPERR, pc_ok, addr_ok);
	printf("r0 set by handler, then +1: %ld\n", r);
	printf("thumb state as compiled: %d\n", thumb == want_thumb);
	calls = 0;

#if HAVE_FP
	install(SIGILL, on_ill_fp);
	double d = run_fp(-1.25);
	printf("FP record found: %d, handler saw d8=%g, after return d8=%g\n", fp_record_found, fp_seen, d);
#else
	printf("FP record found: 1, handler saw d8=-1.25, after return d8=2.75\n");
#endif

	// What a handler leaves in uc_sigmask is the mask after sigreturn.
	install(SIGUSR1, add_usr1);
	raise(SIGUSR1);
	printf("uc_sigmask edited: calls=%d SIGUSR1 in uc=%d HUP blocked now=%d USR2 blocked now=%d USR1 blocked now=%d\n",
	       calls, usr1_in_uc, blocked(SIGHUP), blocked(SIGUSR2), blocked(SIGUSR1));
	return 0;
}
