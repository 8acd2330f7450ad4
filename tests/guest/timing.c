// Clocks, sleeps and interval timers. Only relations between times print:
// monotonic never goes back, a sleep lasts at least what was asked, and so on.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define R(expr) report(#expr, (long)(expr))

static long report(const char *what, long r) {
	if (r < 0)
		printf("%s = -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s = %ld\n", what, r);
	return r;
}

static int64_t ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

// now reads a clock with the system call itself, not the vDSO.
static struct timespec now(clockid_t c) {
	struct timespec t = {0, 0};
	syscall(SYS_clock_gettime, c, &t);
	return t;
}

static void clocks(void) {
	struct timespec t;
	clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
			   CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME};
	for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		long r = syscall(SYS_clock_gettime, ids[i], &t);
		printf("clock %d: r=%ld nsec_ok=%d\n", ids[i], r, t.tv_nsec >= 0 && t.tv_nsec < 1000000000);
		struct timespec res = {-1, -1};
		r = syscall(SYS_clock_getres, ids[i], &res);
		printf("  res: r=%ld positive=%d below_1s=%d\n", r, ns(res) > 0, res.tv_sec == 0);
	}
	R(syscall(SYS_clock_gettime, 12345, &t));
	R(syscall(SYS_clock_getres, 12345, &t));
	R(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
	struct timespec res;
	clock_getres(CLOCK_MONOTONIC, &res);
	printf("monotonic resolution ns=%lld\n", (long long)ns(res));

	int back = 0;
	struct timespec prev = now(CLOCK_MONOTONIC);
	for (int i = 0; i < 10000; i++) {
		struct timespec cur = now(CLOCK_MONOTONIC);
		if (ns(cur) < ns(prev))
			back++;
		prev = cur;
	}
	printf("monotonic went back %d times\n", back);
	back = 0;
	struct timespec lib = {0, 0};
	clock_gettime(CLOCK_MONOTONIC, &lib);
	for (int i = 0; i < 1000; i++) {
		struct timespec cur;
		clock_gettime(CLOCK_MONOTONIC, &cur);
		if (ns(cur) < ns(lib))
			back++;
		lib = cur;
	}
	printf("libc monotonic went back %d times\n", back);

	time_t t0 = time(NULL);
	struct timespec rt = now(CLOCK_REALTIME);
	printf("realtime within 1s of time(): %d\n", rt.tv_sec - t0 <= 1 && rt.tv_sec - t0 >= 0);
	printf("realtime after 2020: %d\n", rt.tv_sec > 1577836800);
	struct timeval tv;
	struct timezone tz = {99, 99};
	R(gettimeofday(&tv, &tz));
	printf("gettimeofday: usec_ok=%d within 1s=%d tz=%d,%d\n", tv.tv_usec >= 0 && tv.tv_usec < 1000000,
	       tv.tv_sec - rt.tv_sec <= 1 && tv.tv_sec >= rt.tv_sec, tz.tz_minuteswest, tz.tz_dsttime);
	R(syscall(SYS_gettimeofday, NULL, NULL));
	time_t tt;
	printf("time(&t) stores: %d\n", time(&tt) == tt);

	struct timespec c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	volatile unsigned long x = 0;
	for (unsigned long i = 0; i < 20000000; i++)
		x += i;
	struct timespec c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	printf("cpu time advances: %d\n", ns(c1) > ns(c0));
}

static void sleeps(void) {
	struct timespec a = now(CLOCK_MONOTONIC);
	struct timespec req = {0, 10000000}, rem = {-1, -1};
	R(nanosleep(&req, &rem));
	struct timespec b = now(CLOCK_MONOTONIC);
	printf("nanosleep 10ms: elapsed>=10ms=%d\n", ns(b) - ns(a) >= 10000000);

	struct timespec deadline = now(CLOCK_MONOTONIC);
	deadline.tv_nsec += 20000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	R(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL));
	struct timespec c = now(CLOCK_MONOTONIC);
	printf("clock_nanosleep abstime: reached=%d\n", ns(c) >= ns(deadline));
	// A deadline in the past returns at once.
	struct timespec past = {0, 1};
	R(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL));
	struct timespec rt = now(CLOCK_REALTIME);
	rt.tv_nsec += 5000000;
	if (rt.tv_nsec >= 1000000000) {
		rt.tv_sec++;
		rt.tv_nsec -= 1000000000;
	}
	R(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &rt, NULL));
	struct timespec rel = {0, 1000000};
	R(syscall(SYS_clock_nanosleep, CLOCK_BOOTTIME, 0, &rel, NULL));
	R(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &rel, NULL));
	R(syscall(SYS_clock_nanosleep, 12345, 0, &rel, NULL));
	struct timespec badns = {0, 1000000000};
	R(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &badns, NULL));
	R(syscall(SYS_nanosleep, &badns, NULL));
	struct timespec neg = {-1, 0};
	R(syscall(SYS_nanosleep, &neg, NULL));
	struct timespec zero = {0, 0};
	R(syscall(SYS_nanosleep, &zero, NULL));
	R(usleep(1000));
}

static void itimers(void) {
	struct itimerval v;
	memset(&v, 0xff, sizeof v);
	R(getitimer(ITIMER_REAL, &v));
	printf("real idle: %ld %ld %ld %ld\n", (long)v.it_value.tv_sec, (long)v.it_value.tv_usec,
	       (long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec);
	R(getitimer(ITIMER_VIRTUAL, &v));
	R(getitimer(ITIMER_PROF, &v));
	R(getitimer(7, &v));

	struct itimerval set = {{5, 0}, {100, 0}}, old;
	R(setitimer(ITIMER_REAL, &set, &old));
	printf("old value: %ld\n", (long)old.it_value.tv_sec);
	R(getitimer(ITIMER_REAL, &v));
	printf("armed: remaining in (99,100]=%d interval=%ld.%06ld\n",
	       v.it_value.tv_sec == 99 || (v.it_value.tv_sec == 100 && v.it_value.tv_usec == 0),
	       (long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec);
	struct itimerval off = {{0, 0}, {0, 0}};
	R(setitimer(ITIMER_REAL, &off, &old));
	printf("old remaining in (99,100]=%d\n", old.it_value.tv_sec == 99 || old.it_value.tv_sec == 100);
	R(getitimer(ITIMER_REAL, &v));
	printf("disarmed: %ld %ld\n", (long)v.it_value.tv_sec, (long)v.it_value.tv_usec);
	struct itimerval bad = {{0, 0}, {0, 2000000}};
	R(setitimer(ITIMER_REAL, &bad, NULL));
	R(setitimer(ITIMER_VIRTUAL, &off, NULL));
	R(alarm(0));
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	clocks();
	sleeps();
	itimers();
	return 0;
}
