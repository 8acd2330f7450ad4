// A signal arriving while the stack pointer points at nothing: with an
// alternate stack (SA_ONSTACK) the handler runs there and siglongjmp brings
// the program back. With argument "bare", without one: the kernel cannot
// write the frame and forces SIGSEGV (signal_setup_done -> force_sigsegv),
// whose frame cannot be written either, so the process dies of SIGSEGV
// (128+11) though SIGSEGV has a handler. qemu-user 7.2 spins forever there,
// so that part is run by TestSignalBadStack on xemu alone.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile int calls, on_alt;
static char alt[65536];

static void handler(int sig) {
	volatile char local;
	(void)sig;
	calls++;
	on_alt = (uintptr_t)&local >= (uintptr_t)alt && (uintptr_t)&local < (uintptr_t)alt + sizeof alt;
	siglongjmp(env, 1);
}

// signal_with_bad_sp sends SIGUSR1 to this thread with sp = 64.
__attribute__((noinline)) static void signal_with_bad_sp(long pid, long tid) {
#if defined(__aarch64__)
	register long x0 __asm__("x0") = pid;
	register long x1 __asm__("x1") = tid;
	register long x2 __asm__("x2") = SIGUSR1;
	register long x8 __asm__("x8") = SYS_tgkill;
	__asm__ volatile("mov x9, #64\n\tmov sp, x9\n\tsvc #0\n1:\tb 1b" : : "r"(x0), "r"(x1), "r"(x2), "r"(x8) : "x9", "memory");
#else
	register long r0 __asm__("r0") = pid;
	register long r1 __asm__("r1") = tid;
	register long r2 __asm__("r2") = SIGUSR1;
	register long r7 __asm__("r7") = SYS_tgkill;
	__asm__ volatile("mov r3, #64\n\tmov sp, r3\n\tsvc #0\n1:\tb 1b" : : "r"(r0), "r"(r1), "r"(r2), "r"(r7) : "r3", "memory");
#endif
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	for (int i = 0; i < 3; i++)
		if (sigsetjmp(env, 1) == 0)
			signal_with_bad_sp(getpid(), gettid());
	printf("with an alternate stack: calls=%d on it: %d\n", calls, on_alt);
	if (argc < 2 || strcmp(argv[1], "bare") != 0)
		return 0;

	// Without SA_ONSTACK the frame goes below sp = 64: nowhere.
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	printf("without: ");
	if (sigsetjmp(env, 1) == 0)
		signal_with_bad_sp(getpid(), gettid());
	printf("not reached, calls=%d\n", calls);
	return 0;
}
