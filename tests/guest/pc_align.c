// A branch to a misaligned address takes the branch and then faults on the
// fetch: arm64's PC alignment exception (EC 0x22), which Linux answers with
// SIGBUS/BUS_ADRALN, si_addr and the frame's PC the misaligned address
// (arch/arm64/kernel/entry-common.c el0_pc, arch/arm64/mm/fault.c
// do_sp_pc_abort), for AArch64 tasks and AArch32 ones alike: on ARMv8 an A32
// PC with bit 1 set is a PC alignment fault too (ARMv7 left it
// UNPREDICTABLE). Before the check the bytes there were decoded as whatever
// they happened to be (SIGILL, or worse). qemu-user 7.2 gets this right.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#include "check.h"

static sigjmp_buf env;
static volatile int caught, caught_sig, caught_code;
static volatile uintptr_t caught_addr, caught_pc;
static volatile int caught_thumb = -1;

static void handler(int sig, siginfo_t *si, void *p) {
	ucontext_t *uc = p;
	caught++;
	caught_sig = sig;
	caught_code = si->si_code;
	caught_addr = (uintptr_t)si->si_addr;
#ifdef __aarch64__
	caught_pc = uc->uc_mcontext.pc;
#else
	caught_pc = uc->uc_mcontext.arm_pc;
	caught_thumb = (uc->uc_mcontext.arm_cpsr >> 5) & 1;
#endif
	siglongjmp(env, 1);
}

// A few instructions that return, to branch into the middle of.
#ifdef __aarch64__
__asm__(".text\n.balign 16\n.global target\n.type target, %function\ntarget:\n nop\n nop\n ret\n");
#else
// %function: a direct call from Thumb code becomes BLX.
__asm__(".text\n.arm\n.balign 16\n.global target\n.type target, %function\ntarget:\n nop\n nop\n bx lr\n"
#ifdef __thumb__
	".thumb\n"
#endif
);
#endif
extern char target[];

static void try_branch(const char *what, uintptr_t to) {
	caught = 0;
	caught_thumb = -1;
	if (!sigsetjmp(env, 1)) {
		void (*f)(void) = (void (*)(void))to;
		f();
	}
	char line[160];
	snprintf(line, sizeof line, "%s: one SIGBUS BUS_ADRALN, address and PC the target", what);
	int ok = caught == 1 && caught_sig == SIGBUS && caught_code == BUS_ADRALN && caught_addr == to && caught_pc == to;
#ifndef __aarch64__
	ok = ok && caught_thumb == 0;
#endif
	if (!ok)
		printf("  (%d signals, signal %d code %d addr %#lx pc %#lx thumb %d; target %#lx)\n", caught, caught_sig,
		       caught_code, (unsigned long)caught_addr, (unsigned long)caught_pc, caught_thumb, (unsigned long)to);
	check(line, ok);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	uintptr_t t = (uintptr_t)target;
	caught = 0;
	if (!sigsetjmp(env, 1))
		((void (*)(void))t)();
	if (caught)
		printf("  (signal %d code %d addr %#lx pc %#lx)\n", caught_sig, caught_code, (unsigned long)caught_addr, (unsigned long)caught_pc);
	check("an aligned branch runs", caught == 0);
#ifdef __aarch64__
	try_branch("branch to +2", t + 2);
	try_branch("branch to +1", t + 1);
	try_branch("branch to +7", t + 7);
	caught = 0;
	if (!sigsetjmp(env, 1))
		__asm__ volatile("mov x30, %0\n ret" : : "r"(t + 6) : "x30", "memory");
	check("ret to +6: one SIGBUS BUS_ADRALN at the target",
	      caught == 1 && caught_sig == SIGBUS && caught_code == BUS_ADRALN && caught_addr == t + 6 && caught_pc == t + 6);
#else
	// bit 0 clear: ARM state; bit 1 set: not a multiple of 4.
	try_branch("interworking branch to ARM state at +2", t + 2);
	try_branch("interworking branch to ARM state at +6", t + 6);
#endif
	return failures ? 1 : 0;
}
