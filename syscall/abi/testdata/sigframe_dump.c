/*
 * Takes a signal on a zeroed alternate stack and prints, from inside its
 * SA_SIGINFO handler, the registers it was entered with and every byte from
 * the frame's start to the top of the stack. TestSigFrameMatchesQemu runs it
 * under qemu-user, rebuilds the same frame with syscall/abi from what the
 * dump says was interrupted, and compares placement, bytes and registers.
 * "kill" sends SIGUSR1 with kill(2); "segv" stores to an unmapped address;
 * "nort" (ARM) sends SIGUSR1 to a handler without SA_SIGINFO, which gets the
 * non-rt sigframe and reports the sp and lr it was entered with.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static unsigned char altstack[65536] __attribute__((aligned(16)));

static void handler(int sig, siginfo_t *info, void *uc);

static void dump(int sig, siginfo_t *info, void *uc, void *fp, void *lr)
{
	uintptr_t top = (uintptr_t)altstack + sizeof altstack;
	printf("handler %lx\n", (unsigned long)(uintptr_t)handler);
	printf("sig %x\n", sig);
	printf("info %lx\n", (unsigned long)(uintptr_t)info);
	printf("uc %lx\n", (unsigned long)(uintptr_t)uc);
	printf("fp %lx\n", (unsigned long)(uintptr_t)fp);
	printf("lr %lx\n", (unsigned long)(uintptr_t)lr);
	printf("top %lx\n", (unsigned long)top);
	printf("frame ");
	for (unsigned char *p = (unsigned char *)info; (uintptr_t)p < top; p++)
		printf("%02x", *p);
	printf("\n");
	fflush(stdout);
	_exit(0);
}

/*
 * At -O0 with frame pointers the prologue saves lr and, on AArch64, the
 * entry x29 in a frame record; ARM's fp is not checked.
 */
__attribute__((noinline)) static void handler(int sig, siginfo_t *info, void *uc)
{
	dump(sig, info, uc, __builtin_frame_address(1), __builtin_return_address(0));
}

#ifdef __arm__
void dump_nort(int sig, void *sp, void *lr)
{
	dump(sig, sp, 0, 0, lr);
}

/* Entered with r0 = signo, sp = the sigframe, lr = the restorer. */
__attribute__((naked)) static void handler_nort(int sig)
{
	__asm__ volatile("mov r1, sp\n\tmov r2, lr\n\tb dump_nort\n");
}
#endif

int main(int argc, char **argv)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	if (sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGSEGV, &sa, NULL))
		return 1;
#ifdef __arm__
	if (argc > 1 && strcmp(argv[1], "nort") == 0) {
		sa.sa_handler = handler_nort;
		sa.sa_flags = SA_ONSTACK;
		if (sigaction(SIGUSR1, &sa, NULL))
			return 1;
		printf("handler_nort %lx\n", (unsigned long)(uintptr_t)handler_nort);
	}
#endif
	if (argc > 1 && strcmp(argv[1], "segv") == 0)
		*(volatile int *)16 = 1;
	else
		kill(getpid(), SIGUSR1);
	return 2;
}
