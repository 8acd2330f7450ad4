// The alternate signal stack: an SA_ONSTACK handler runs on it (its locals
// are inside the stack given to sigaltstack) and sigaltstack reports
// SS_ONSTACK there, and refuses to change it (EPERM); a handler without
// SA_ONSTACK stays on the normal stack; a nested SA_ONSTACK handler stays on
// the alternate stack, below the outer frame; and a stack
// overflow by unbounded recursion caught by a SIGSEGV handler on the
// alternate stack, several times; a handler's stack pointer is aligned as
// the procedure call standard requires (16 bytes on AArch64, 8 on ARM) on
// the normal stack and on an alternate stack given at an odd address.
// SS_AUTODISARM, which qemu-user 7.2
// refuses, is sig_exact.c's.
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALT_SIZE (256 * 1024)
static char *alt;

static int on_alt(const volatile void *p) {
	return (uintptr_t)p >= (uintptr_t)alt && (uintptr_t)p < (uintptr_t)alt + ALT_SIZE;
}

struct seen {
	int on_alt, ss_onstack, ss_disable, change_err;
	uintptr_t local;
};
static struct seen outer, inner;
static volatile int nest;

static void look(struct seen *s, const volatile char *local) {
	stack_t now;
	sigaltstack(NULL, &now);
	s->on_alt = on_alt(local);
	s->local = (uintptr_t)local;
	s->ss_onstack = (now.ss_flags & SS_ONSTACK) != 0;
	s->ss_disable = (now.ss_flags & SS_DISABLE) != 0;
	stack_t other = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0};
	s->change_err = sigaltstack(&other, NULL) == 0 ? 0 : errno;
	if (s->change_err == 0) // put the original back
		sigaltstack(&now, NULL);
}

static void handler(int sig) {
	volatile char local = 0;
	if (sig == SIGUSR2 || !nest) {
		look(&inner, &local);
		return;
	}
	look(&outer, &local);
	raise(SIGUSR2);
}

static void show(const char *what, const struct seen *s) {
	printf("%s: on alt stack=%d SS_ONSTACK=%d SS_DISABLE=%d change: %s\n", what, s->on_alt, s->ss_onstack,
	       s->ss_disable, s->change_err ? strerrorname_np(s->change_err) : "allowed");
}

static void install(int sig, void (*h)(int), int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static volatile uintptr_t handler_sp;
static void sp_handler(int sig) {
	uintptr_t sp;
	(void)sig;
	__asm__ volatile("mov %0, sp" : "=r"(sp));
	handler_sp = sp;
}

static void alignment(void) {
#ifdef __aarch64__
	const uintptr_t align = 16;
#else
	const uintptr_t align = 8;
#endif
	install(SIGUSR1, sp_handler, 0);
	raise(SIGUSR1);
	printf("normal stack: sp aligned: %d\n", handler_sp % align == 0);
	stack_t odd = {.ss_sp = alt + 3, .ss_size = ALT_SIZE - 7, .ss_flags = 0}, old;
	sigaltstack(&odd, &old);
	install(SIGUSR1, sp_handler, SA_ONSTACK);
	raise(SIGUSR1);
	printf("odd alternate stack: sp aligned: %d, on it: %d\n", handler_sp % align == 0,
	       handler_sp > (uintptr_t)alt + 3 && handler_sp < (uintptr_t)alt + ALT_SIZE - 4);
	sigaltstack(&old, NULL);
	signal(SIGUSR1, SIG_DFL);
}

static sigjmp_buf env;
static volatile int segv_on_alt, segvs;
static void on_segv(int sig) {
	volatile char local = 0;
	(void)sig;
	segvs++;
	segv_on_alt = on_alt(&local);
	siglongjmp(env, 1);
}

static long recurse(volatile char *up, long n) {
	volatile char frame[512];
	frame[0] = (char)n;
	frame[511] = up[0];
	if (n < 0)
		return 0;
	return recurse(frame, n + 1) + frame[0];
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0};
	printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
	stack_t now;
	sigaltstack(NULL, &now);
	printf("outside a handler: flags=%d\n", now.ss_flags);

	install(SIGUSR1, handler, SA_ONSTACK);
	raise(SIGUSR1);
	show("SA_ONSTACK", &inner);
	install(SIGUSR1, handler, 0);
	raise(SIGUSR1);
	show("no SA_ONSTACK", &inner);

	// Nested: both on the alternate stack, the inner frame below.
	nest = 1;
	install(SIGUSR1, handler, SA_ONSTACK);
	install(SIGUSR2, handler, SA_ONSTACK);
	raise(SIGUSR1);
	show("outer", &outer);
	show("inner", &inner);
	printf("inner below outer: %d\n", inner.local < outer.local);
	// The outer handler on the normal stack, the inner one switches.
	install(SIGUSR1, handler, 0);
	raise(SIGUSR1);
	show("outer without SA_ONSTACK", &outer);
	show("inner with SA_ONSTACK", &inner);
	nest = 0;

	alignment();
	install(SIGSEGV, on_segv, SA_ONSTACK);
	char top = 0;
	for (int i = 0; i < 3; i++) {
		segv_on_alt = 0;
		if (sigsetjmp(env, 1) == 0)
			recurse(&top, 0);
		printf("stack overflow %d caught: segvs=%d on alt stack=%d\n", i + 1, segvs, segv_on_alt);
	}
	sigaltstack(NULL, &now);
	printf("after: flags=%d\n", now.ss_flags);
	return 0;
}
