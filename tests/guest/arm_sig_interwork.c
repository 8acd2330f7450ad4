// ARM/Thumb interworking in signal delivery: handlers compiled as ARM code
// and as Thumb code (whatever the program's own mode), entered in the state
// their address's low bit says; the interrupted context's T bit in
// arm_cpsr tells ARM from Thumb code; sigreturn goes back to the state that
// was interrupted, here an undefined instruction in ARM code and in Thumb
// code skipped by handlers of the other state.
// xemu-test: arch=armhf,armel
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static volatile int calls, interrupted_thumb;
static volatile uintptr_t interrupted_pc;

#define HANDLER(name, isa)                                                                                            \
	__attribute__((target(isa), noinline)) static void name(int sig, siginfo_t *si, void *p) {                     \
		ucontext_t *uc = p;                                                                                    \
		(void)sig;                                                                                             \
		(void)si;                                                                                              \
		calls++;                                                                                               \
		interrupted_thumb = (uc->uc_mcontext.arm_cpsr >> 5) & 1;                                               \
		interrupted_pc = uc->uc_mcontext.arm_pc;                                                               \
		if (sig == SIGILL)                                                                                     \
			uc->uc_mcontext.arm_pc += interrupted_thumb ? 2 : 4;                                           \
	}
HANDLER(arm_handler, "arm")
HANDLER(thumb_handler, "thumb")

extern char arm_udf[], thumb_udf[];

__attribute__((target("arm"), noinline)) static int in_arm(int v) {
	__asm__ volatile(".globl arm_udf\narm_udf: udf #0" ::: "memory");
	return v + 1;
}

__attribute__((target("thumb"), noinline)) static int in_thumb(int v) {
	__asm__ volatile(".globl thumb_udf\nthumb_udf: udf #0" ::: "memory");
	return v + 2;
}

static void install(int sig, void (*h)(int, siginfo_t *, void *)) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	struct {
		const char *name;
		void (*h)(int, siginfo_t *, void *);
	} handlers[] = {{"ARM handler", arm_handler}, {"Thumb handler", thumb_handler}};
	for (int i = 0; i < 2; i++) {
		calls = 0;
		install(SIGUSR1, handlers[i].h);
		install(SIGILL, handlers[i].h);
		raise(SIGUSR1);
		printf("%s, raise: calls=%d\n", handlers[i].name, calls);
		int r = in_arm(10);
		printf("%s, udf in ARM code: calls=%d T=%d pc ok=%d result=%d\n", handlers[i].name, calls,
		       interrupted_thumb, interrupted_pc == (uintptr_t)arm_udf, r);
		r = in_thumb(20);
		printf("%s, udf in Thumb code: calls=%d T=%d pc ok=%d result=%d\n", handlers[i].name, calls,
		       interrupted_thumb, interrupted_pc == (uintptr_t)thumb_udf, r);
	}
	return 0;
}
