// A handler installed with the raw rt_sigaction and no SA_RESTORER, as
// programs without glibc do (Go's runtime on arm64, for one): the kernel
// provides the way back itself (the vDSO's __kernel_rt_sigreturn on arm64,
// the sigpage's return code on ARM), and the handler returns to the
// interrupted code with its registers intact. Also sa_restorer given
// explicitly: trampolines of our own.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

// The kernel's struct sigaction (include/linux/signal_types.h): the mask is
// a sigset_t of unsigned longs, so on ARM it is at offset 12, not at a
// uint64_t's 8-byte-aligned 16.
struct ksigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask[64 / (8 * sizeof(unsigned long))];
};

static volatile int calls, info_signo;

static void plain(int sig) {
	(void)sig;
	calls++;
}

static void with_info(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	info_signo = si->si_signo;
	calls++;
}

// Trampolines of our own. ARM has two frame layouts: a handler without
// SA_SIGINFO gets a sigframe and must return through sigreturn (119), one
// with SA_SIGINFO an rt_sigframe and rt_sigreturn (173), as glibc's
// __default_sa_restorer and __default_rt_sa_restorer do. AArch64 has only
// rt_sigreturn (139).
#if defined(__aarch64__)
__asm__(".text\n.globl my_restorer, my_rt_restorer\nmy_restorer:\nmy_rt_restorer:\n\tmov x8, #139\n\tsvc #0\n");
#else
__asm__(".text\n.arm\n.globl my_restorer, my_rt_restorer\n"
        ".type my_restorer, %function\nmy_restorer:\n\tmov r7, #119\n\tsvc #0\n"
        ".type my_rt_restorer, %function\nmy_rt_restorer:\n\tmov r7, #173\n\tsvc #0\n"
#ifdef __thumb__
        ".thumb\n"
#endif
);
#endif
extern void my_restorer(void), my_rt_restorer(void);

static long kill_self(int sig) { return syscall(SYS_tgkill, getpid(), gettid(), sig); }

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	struct ksigaction k = {.handler = (void *)plain, .flags = 0, .restorer = NULL};
	printf("rt_sigaction without SA_RESTORER: %ld\n", syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, 8));
	volatile double d = 1.0 / 3;
	long r = kill_self(SIGUSR1);
	printf("handled: calls=%d tgkill=%ld double kept: %d\n", calls, r, d * 3 == 1.0);
	for (int i = 0; i < 1000; i++)
		kill_self(SIGUSR1);
	printf("1000 more: calls=%d\n", calls);

	k.handler = (void *)with_info;
	k.flags = SA_SIGINFO;
	syscall(SYS_rt_sigaction, SIGUSR2, &k, NULL, 8);
	calls = 0;
	kill_self(SIGUSR2);
	printf("SA_SIGINFO without SA_RESTORER: calls=%d si_signo=%d\n", calls, info_signo);

	k.handler = (void *)plain;
	k.flags = SA_RESTORER;
	k.restorer = my_restorer;
	syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, 8);
	calls = 0;
	for (int i = 0; i < 10; i++)
		kill_self(SIGUSR1);
	printf("own restorer: calls=%d\n", calls);
	k.handler = (void *)with_info;
	k.flags = SA_RESTORER | SA_SIGINFO;
	k.restorer = my_rt_restorer;
	syscall(SYS_rt_sigaction, SIGUSR2, &k, NULL, 8);
	calls = 0;
	info_signo = 0;
	for (int i = 0; i < 10; i++)
		kill_self(SIGUSR2);
	printf("own restorer, SA_SIGINFO: calls=%d si_signo=%d\n", calls, info_signo);
	return 0;
}
