// Nested signals: a handler raising another signal runs that signal's
// handler at once, on top of its own frame (a deeper stack); four levels
// deep and back; a fault inside a handler caught by a nested SIGSEGV handler;
// and siglongjmp from three levels down restoring the mask of the sigsetjmp.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char events[256];
static int nevents;
static void note(const char *s) {
	while (*s && nevents < (int)sizeof events - 1)
		events[nevents++] = *s++;
	events[nevents] = 0;
}
static void show(const char *what) {
	printf("%s: %s\n", what, events);
	nevents = 0;
	events[0] = 0;
}

static uintptr_t frames[8];
static volatile int level;
static int chain[] = {SIGUSR1, SIGUSR2, SIGHUP, SIGALRM};
static volatile int jump_at = -1;
static sigjmp_buf env;

static void chained(int sig) {
	char b[16];
	volatile char here;
	int me = level++;
	frames[me] = (uintptr_t)&here;
	snprintf(b, sizeof b, "%d<", sig);
	note(b);
	if (me == jump_at)
		siglongjmp(env, 1);
	if (me + 1 < 4)
		raise(chain[me + 1]);
	snprintf(b, sizeof b, ">%d ", sig);
	note(b);
	level--;
}

static volatile int segv_in_handler;
static int *volatile bad = (int *)24;
static sigjmp_buf inner;
static void on_segv(int sig) {
	(void)sig;
	segv_in_handler++;
	note("segv ");
	siglongjmp(inner, 1);
}
static void faulting_handler(int sig) {
	(void)sig;
	note("usr1< ");
	if (sigsetjmp(inner, 1) == 0)
		*bad = 1;
	note("recovered ");
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	// The mask sigsetjmp saved inside the handler: SIGUSR1 still blocked.
	note(sigismember(&cur, SIGUSR1) ? "usr1-blocked " : "usr1-unblocked ");
	note(">usr1");
}

static void install(int sig, void (*h)(int)) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void blocked(const char *what) {
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("%s blocked:", what);
	for (int s = 1; s < 32; s++)
		if (sigismember(&cur, s))
			printf(" %d", s);
	printf("\n");
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < 4; i++)
		install(chain[i], chained);
	raise(SIGUSR1);
	show("four deep");
	int deeper = 1;
	for (int i = 1; i < 4; i++)
		deeper &= frames[i] < frames[i - 1];
	printf("each nested frame below the last: %d, level back to %d\n", deeper, level);
	blocked("after");

	// siglongjmp out of the third handler: the mask of the sigsetjmp
	// (SIGINT blocked) comes back, not the handlers' masks.
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGINT);
	sigprocmask(SIG_BLOCK, &m, NULL);
	level = 0;
	jump_at = 2;
	if (sigsetjmp(env, 1) == 0)
		raise(SIGUSR1);
	show("jumped out of level 2");
	blocked("after siglongjmp");
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	// The handlers still work afterwards.
	level = 0;
	jump_at = -1;
	raise(SIGUSR1);
	show("again");

	install(SIGSEGV, on_segv);
	install(SIGUSR1, faulting_handler);
	for (int i = 0; i < 3; i++) {
		raise(SIGUSR1);
		show("fault in a handler");
	}
	printf("segv in handler: %d\n", segv_in_handler);
	blocked("at the end");
	return 0;
}
