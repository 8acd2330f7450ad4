// User code runs in USR mode, as under Linux: privileged cp15 and VFP
// system registers raise SIGILL (ILL_ILLOPC, at the instruction), CPS and
// writes to CPSR's mode and mask bits are ignored, and what user mode may do
// still works: TPIDRURO (the TLS register, also through the kuser get_tls
// helper), TPIDRURW, VFP and NEON, FPSCR. Checks what a Linux kernel gives,
// so the program is its own oracle.
// xemu-test: arch=armhf
// xemu-test: oracle=self
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

static sigjmp_buf env;
static volatile uint32_t insn_at;
static volatile int got_code;
static volatile uint32_t got_addr;

static void on_sigill(int sig, siginfo_t *si, void *uc) {
	(void)sig, (void)uc;
	got_code = si->si_code;
	got_addr = (uint32_t)si->si_addr;
	siglongjmp(env, 1);
}

// PRIV runs one instruction that must raise SIGILL with ILL_ILLOPC at its own
// address (in ARM or Thumb code); r12 carries that address out first.
#define PRIV(name, insn)                                                              \
	do {                                                                          \
		got_code = 0;                                                         \
		if (sigsetjmp(env, 1) == 0) {                                         \
			__asm__ volatile("mov r0, #0\n\tadr r12, 1f\n\tstr r12, [%0]\n\t" \
					 ".balign 4\n1:\t" insn                       \
					 : : "r"(&insn_at) : "r0", "r12", "memory");      \
			check(0, name ": ran in USR mode");                           \
		} else {                                                              \
			check(got_code == ILL_ILLOPC && got_addr == (insn_at & ~1u),  \
			      name ": SIGILL, ILL_ILLOPC at the instruction");        \
		}                                                                     \
	} while (0)

static uint32_t cpsr(void) {
	uint32_t v;
	__asm__ volatile("mrs %0, apsr" : "=r"(v));
	return v;
}

// New threads and forked children start in USR mode too.
static void *in_thread(void *arg) {
	(void)arg;
	check((cpsr() & 0x1f) == 0x10, "thread: CPSR mode is USR");
	PRIV("thread: mcr SCTLR", "mcr p15, 0, r0, c1, c0, 0");
	return NULL;
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigill;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGILL, &sa, NULL);

	check((cpsr() & 0x1f) == 0x10, "CPSR mode is USR (0x10)");
	check((cpsr() & 0xc0) == 0, "IRQ and FIQ are not masked");

	PRIV("mrc SCTLR", "mrc p15, 0, r0, c1, c0, 0");
	PRIV("mcr SCTLR", "mcr p15, 0, r0, c1, c0, 0");
	PRIV("mrc MIDR (not emulated for 32-bit tasks)", "mrc p15, 0, r0, c0, c0, 0");
	PRIV("mrc VBAR", "mrc p15, 0, r0, c12, c0, 0");
	PRIV("mcr TPIDRURO", "mcr p15, 0, r0, c13, c0, 3");
	PRIV("mrc TPIDRPRW", "mrc p15, 0, r0, c13, c0, 4");
	PRIV("mcr TLBIALL", "mcr p15, 0, r0, c8, c7, 0");
	PRIV("vmrs FPEXC", "vmrs r0, fpexc");
	PRIV("vmsr FPEXC", "vmsr fpexc, r0");
	PRIV("vmrs MVFR0", "vmrs r0, mvfr0");

	// Mode and mask bits: MSR and CPS in USR mode leave them alone.
	uint32_t before = cpsr();
	__asm__ volatile("msr cpsr_c, %0" : : "r"(0xd3) : "cc");
	check((cpsr() & 0xff) == (before & 0xff), "msr cpsr_c cannot leave USR mode or mask interrupts");
	__asm__ volatile("cpsid if\n\tcps #0x13");
	check((cpsr() & 0xff) == (before & 0xff), "cps is ignored in USR mode");
	PRIV("mrc SCTLR after the attempts", "mrc p15, 0, r0, c1, c0, 0");

	// TLS.
	uint32_t tls;
	__asm__ volatile("mrc p15, 0, %0, c13, c0, 3" : "=r"(tls));
	check(tls != 0 && tls == (uint32_t)__builtin_thread_pointer(), "TPIDRURO is the thread pointer");
	uint32_t (*kuser_get_tls)(void) = (uint32_t (*)(void))0xffff0fe0;
	check(kuser_get_tls() == tls, "the kuser get_tls helper returns it");
	uint32_t rw = 0x12345678, rwback;
	__asm__ volatile("mcr p15, 0, %1, c13, c0, 2\n\tmrc p15, 0, %0, c13, c0, 2" : "=r"(rwback) : "r"(rw));
	check(rwback == rw, "TPIDRURW is writable in USR mode");

	// VFP and NEON.
	volatile double a = 1.5, b = 2.25;
	check(a * b == 3.375, "VFP in USR mode");
	uint32_t fpscr;
	__asm__ volatile("vmrs %0, fpscr\n\tvmsr fpscr, %0" : "=r"(fpscr));
	check(1, "FPSCR readable and writable");
	uint32_t v[4] = {1, 2, 3, 4}, w[4];
	__asm__ volatile(".fpu neon\n\tvld1.32 {d0-d1}, [%1]\n\tvadd.i32 q0, q0, q0\n\tvst1.32 {d0-d1}, [%0]"
			 : : "r"(w), "r"(v) : "d0", "d1", "memory");
	check(w[0] == 2 && w[3] == 8, "NEON in USR mode");

	pthread_t th;
	pthread_create(&th, NULL, in_thread, NULL);
	pthread_join(th, NULL);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		failures = 0;
		check((cpsr() & 0x1f) == 0x10, "child: CPSR mode is USR");
		PRIV("child: mcr SCTLR", "mcr p15, 0, r0, c1, c0, 0");
		fflush(stdout);
		_exit(failures != 0);
	}
	int st;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child found itself in USR mode");

	printf("%d failures\n", failures);
	return failures != 0;
}
