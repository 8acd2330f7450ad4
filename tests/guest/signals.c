// Signal state: dispositions (rt_sigaction), the blocked mask
// (rt_sigprocmask), pending signals and the alternate stack, as system calls
// see them; nothing is sent here. Delivery is sig_*.c's; abort.c and
// killself.c check death by signal.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define R(expr) report(#expr, (long)(expr))

static long report(const char *what, long r) {
	if (r < 0)
		printf("%s = -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s = %ld\n", what, r);
	return r;
}

// The kernel's struct sigaction (include/linux/signal_types.h): the mask is
// a sigset_t of unsigned longs, so on ARM it sits at offset 12, not at a
// uint64_t's 8-byte-aligned 16.
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask __attribute__((packed, aligned(sizeof(unsigned long))));
};
_Static_assert(sizeof(struct ksigaction) == 3 * sizeof(long) + 8, "kernel layout");

static void on_usr1(int sig) { (void)sig; }
static void on_info(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)si;
	(void)uc;
}

static void show_set(const char *label, const sigset_t *s) {
	printf("%s:", label);
	for (int i = 1; i < 65; i++)
		if (sigismember(s, i) == 1)
			printf(" %d", i);
	printf("\n");
}

static void actions(void) {
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaddset(&sa.sa_mask, SIGTERM);
	memset(&old, 0xff, sizeof old);
	R(sigaction(SIGUSR1, &sa, &old));
	printf("old: default=%d flags=%#x\n", old.sa_handler == SIG_DFL, old.sa_flags);
	show_set("old mask", &old.sa_mask);
	memset(&old, 0, sizeof old);
	R(sigaction(SIGUSR1, NULL, &old));
	printf("got: handler equal=%d flags=%#x\n", old.sa_handler == on_usr1, old.sa_flags);
	show_set("got mask", &old.sa_mask);

	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigfillset(&sa.sa_mask);
	R(sigaction(SIGUSR1, &sa, &old));
	printf("replaced: handler equal=%d\n", old.sa_handler == on_usr1);
	R(sigaction(SIGUSR1, NULL, &old));
	printf("got: sigaction equal=%d flags=%#x\n", old.sa_sigaction == on_info, old.sa_flags);
	// Linux drops SIGKILL and SIGSTOP from a handler's mask; qemu-user 7.2
	// keeps them, so they are not shown.
	sigdelset(&old.sa_mask, SIGKILL);
	sigdelset(&old.sa_mask, SIGSTOP);
	show_set("full mask", &old.sa_mask);

	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	R(sigaction(SIGUSR2, &sa, NULL));
	R(sigaction(SIGUSR2, NULL, &old));
	printf("ignored=%d\n", old.sa_handler == SIG_IGN);
	sa.sa_handler = SIG_DFL;
	R(sigaction(SIGUSR2, &sa, NULL));
	R(sigaction(SIGUSR1, &sa, NULL));

	// The raw call: every signal's default, and what is refused.
	struct ksigaction k;
	int nondefault = 0;
	for (int s = 1; s <= 64; s++) {
		memset(&k, 0xff, sizeof k);
		if (syscall(SYS_rt_sigaction, s, NULL, &k, 8) != 0)
			printf("rt_sigaction(%d) query failed: %s\n", s, strerrorname_np(errno));
		else if (k.handler != SIG_DFL)
			nondefault++;
	}
	printf("signals not at default: %d\n", nondefault);
	struct ksigaction kn = {.handler = (void *)on_usr1, .flags = 0, .mask = 0};
	R(syscall(SYS_rt_sigaction, SIGKILL, &kn, NULL, 8));
	R(syscall(SYS_rt_sigaction, SIGSTOP, &kn, NULL, 8));
	R(syscall(SYS_rt_sigaction, SIGKILL, NULL, &k, 8));
	R(syscall(SYS_rt_sigaction, 0, NULL, &k, 8));
	R(syscall(SYS_rt_sigaction, 65, NULL, &k, 8));
	R(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &k, 16));
	R(syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 8));
	kn.mask = ~0ull;
	kn.flags = SA_SIGINFO;
	R(syscall(SYS_rt_sigaction, SIGRTMIN + 3, &kn, NULL, 8));
	memset(&k, 0, sizeof k);
	R(syscall(SYS_rt_sigaction, SIGRTMIN + 3, NULL, &k, 8));
	printf("raw: handler equal=%d flags=%#lx mask=%#llx\n", k.handler == (void *)on_usr1, k.flags,
	       (unsigned long long)(k.mask & ~(1ull << (SIGKILL - 1) | 1ull << (SIGSTOP - 1))));
	kn.handler = SIG_DFL;
	kn.mask = 0;
	syscall(SYS_rt_sigaction, SIGRTMIN + 3, &kn, NULL, 8);
}

static void masks(void) {
	sigset_t set, old;
	sigemptyset(&set);
	R(sigprocmask(SIG_BLOCK, NULL, &old));
	show_set("initial", &old);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	R(sigprocmask(SIG_BLOCK, &set, &old));
	show_set("before block", &old);
	R(sigprocmask(SIG_BLOCK, NULL, &old));
	show_set("blocked", &old);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	R(sigprocmask(SIG_UNBLOCK, &set, &old));
	R(sigprocmask(SIG_BLOCK, NULL, &old));
	show_set("after unblock", &old);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGRTMIN + 1);
	R(sigprocmask(SIG_SETMASK, &set, &old));
	show_set("replaced", &old);
	R(sigprocmask(SIG_BLOCK, NULL, &old));
	show_set("set", &old);

	// SIGKILL and SIGSTOP cannot be blocked: they drop out silently.
	uint64_t raw = ~0ull, got = 0;
	R(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &raw, NULL, 8));
	R(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 8));
	// qemu-user keeps signals 63 and 64 for itself, so only 1-62 are shown.
	printf("all blocked: %#llx\n", (unsigned long long)(got & 0x3fffffffffffffffull));
	R(syscall(SYS_rt_sigprocmask, 7, &raw, NULL, 8));
	R(syscall(SYS_rt_sigprocmask, 7, NULL, &got, 8));
	R(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 4));
	raw = 0;
	R(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &raw, NULL, 8));
	R(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, NULL, 8));

	sigset_t pend;
	R(sigpending(&pend));
	show_set("pending", &pend);
	R(syscall(SYS_rt_sigpending, &raw, 4));
	R(syscall(SYS_rt_sigpending, &raw, 16));
}

static void altstack(void) {
	stack_t ss, old;
	memset(&old, 0xff, sizeof old);
	R(sigaltstack(NULL, &old));
	printf("initial: sp_null=%d flags=%d size=%zu\n", old.ss_sp == NULL, old.ss_flags, old.ss_size);
	char *mem = malloc(65536);
	ss.ss_sp = mem;
	ss.ss_size = 65536;
	ss.ss_flags = 0;
	R(sigaltstack(&ss, &old));
	printf("old flags=%d\n", old.ss_flags);
	memset(&old, 0, sizeof old);
	R(sigaltstack(NULL, &old));
	printf("set: sp equal=%d flags=%d size=%zu\n", old.ss_sp == mem, old.ss_flags, old.ss_size);
	ss.ss_size = 1024;
	R(sigaltstack(&ss, NULL));
	ss.ss_size = 65536;
	ss.ss_flags = 12345;
	R(sigaltstack(&ss, NULL));
	R(sigaltstack(NULL, &old));
	printf("unchanged: sp equal=%d size=%zu\n", old.ss_sp == mem, old.ss_size);
	// SS_ONSTACK is an old way of asking to enable.
	ss.ss_flags = SS_ONSTACK;
	ss.ss_size = 32768;
	R(sigaltstack(&ss, NULL));
	R(sigaltstack(NULL, &old));
	printf("onstack request: flags=%d size=%zu\n", old.ss_flags, old.ss_size);
	// One buffer for both: the new stack is taken before the old is written.
	ss.ss_sp = mem;
	ss.ss_size = 40000;
	ss.ss_flags = 0;
	R(syscall(SYS_sigaltstack, &ss, &ss));
	printf("same buffer: old size=%zu\n", ss.ss_size);
	R(sigaltstack(NULL, &old));
	printf("same buffer: new size=%zu\n", old.ss_size);
	ss.ss_flags = SS_DISABLE;
	R(sigaltstack(&ss, &old));
	printf("old: sp equal=%d flags=%d\n", old.ss_sp == mem, old.ss_flags);
	R(sigaltstack(NULL, &old));
	printf("disabled: flags=%d size=%zu\n", old.ss_flags, old.ss_size);
	free(mem);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	actions();
	masks();
	altstack();
	return 0;
}
