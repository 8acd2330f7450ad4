// Timer signals interrupt a program that makes no system calls: ITIMER_REAL,
// ITIMER_VIRTUAL and ITIMER_PROF handlers run while it computes, and the
// computation, interrupted at arbitrary instructions, still gets the same
// result: integer, flag, floating-point and (in Thumb code) IT-block state
// all survive every delivery and return, and a pointer chase (p = p->next,
// "ldr x0, [x0]") neither skips nor repeats a load when a signal arrives
// at it.
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static volatile int ticks, stop;

static void on_tick(int sig) {
	(void)sig;
	if (++ticks == 20)
		stop = 1;
}

// compute mixes integer arithmetic, conditional selects (csel on AArch64,
// IT blocks in Thumb, conditional execution in ARM) and doubles.
__attribute__((noinline)) static uint64_t compute(uint32_t n) {
	uint32_t h = 2166136261u, a = 1;
	double d = 0.25;
	for (uint32_t i = 0; i < n; i++) {
		h ^= i;
		h *= 16777619u;
		a = (h & 1) ? a + (h >> 3) : a - (h >> 5);
		if ((int32_t)h < 0)
			a ^= i << 2;
		d = d * 0.5 + (double)(h & 255);
	}
	return ((uint64_t)h << 32 | a) ^ (uint64_t)(d * 1024);
}

struct node {
	struct node *next;
	uint32_t val;
};
static struct node nodes[4096];

__attribute__((noinline)) static uint64_t chase(uint32_t n) {
	struct node *p = &nodes[0];
	uint64_t sum = 0;
	for (uint32_t i = 0; i < n; i++) {
		sum = sum * 31 + p->val;
		p = p->next;
	}
	return sum ^ (uint64_t)(p - nodes);
}

static const struct {
	int which, sig;
	const char *name;
} timers[] = {
    {ITIMER_REAL, SIGALRM, "ITIMER_REAL"},
    {ITIMER_VIRTUAL, SIGVTALRM, "ITIMER_VIRTUAL"},
    {ITIMER_PROF, SIGPROF, "ITIMER_PROF"},
};

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	const uint32_t n = 20000;
	// A cycle through all the nodes in a scrambled order.
	for (uint32_t i = 0; i < 4096; i++) {
		nodes[i * 1031 % 4096].next = &nodes[(i + 1) * 1031 % 4096];
		nodes[i].val = i * 2654435761u;
	}
	uint64_t want = compute(n) ^ chase(n);
	for (int t = 0; t < 3; t++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_tick;
		sigemptyset(&sa.sa_mask);
		sigaction(timers[t].sig, &sa, NULL);
		ticks = stop = 0;
		struct itimerval v = {{0, 2000}, {0, 2000}};
		setitimer(timers[t].which, &v, NULL);
		long rounds = 0, wrong = 0;
		while (!stop) {
			wrong += (compute(n) ^ chase(n)) != want;
			rounds++;
		}
		struct itimerval off = {{0, 0}, {0, 0}};
		setitimer(timers[t].which, &off, NULL);
		printf("%s: ticks >= 20: %d, wrong results: %ld, rounds > 0: %d\n", timers[t].name, ticks >= 20, wrong,
		       rounds > 0);
		signal(timers[t].sig, SIG_DFL);
	}
	return 0;
}
