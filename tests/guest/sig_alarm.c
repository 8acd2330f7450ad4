// Timer signals interrupt what blocks: alarm + pause returns -1 EINTR after
// the handler ran; an ITIMER_REAL tick interrupts a pipe read with EINTR
// without SA_RESTART, and with SA_RESTART the read goes on until the handler
// itself writes to the pipe on the third tick; nanosleep and poll are never
// restarted (signal(7)) and nanosleep reports the time it had left; a POSIX
// timer (timer_create, SIGEV_SIGNAL) delivers its signal with SI_TIMER and
// the sigev_value it was given.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int ticks, written_on_tick;
static int pipefd[2];
static volatile int write_on = -1;

static void on_alarm(int sig) {
	(void)sig;
	ticks++;
	if (ticks == write_on) {
		written_on_tick = ticks;
		write(pipefd[1], "x", 1);
	}
}

static volatile int timer_sig, timer_code, timer_value, timer_calls;
static void on_timer(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	timer_sig = sig;
	timer_code = si->si_code;
	timer_value = si->si_value.sival_int;
	timer_calls++;
}

static void install(int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void every(long usec) {
	struct itimerval v = {{0, usec}, {0, usec}};
	setitimer(ITIMER_REAL, &v, NULL);
}

static void stop(void) {
	struct itimerval v = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &v, NULL);
}

static const char *err(long r) {
	static char b[64];
	if (r >= 0)
		snprintf(b, sizeof b, "%ld", r);
	else
		snprintf(b, sizeof b, "-1 %s", strerrorname_np(errno));
	return b;
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	install(0);
	printf("alarm(10): %u\n", alarm(10));
	printf("alarm(1) replaces it, returns: %u\n", alarm(1));
	long r = pause();
	printf("pause: %s, ticks=%d\n", err(r), ticks);
	printf("alarm(0) after it fired: %u\n", alarm(0));

	pipe(pipefd);
	char c;
	ticks = 0;
	struct itimerval once = {{0, 0}, {0, 20000}};
	setitimer(ITIMER_REAL, &once, NULL);
	r = read(pipefd[0], &c, 1);
	printf("read without SA_RESTART: %s, ticks=%d\n", err(r), ticks);

	install(SA_RESTART);
	ticks = 0;
	write_on = 3;
	every(20000);
	r = read(pipefd[0], &c, 1);
	stop();
	printf("read with SA_RESTART: %s '%c', data written on tick %d\n", err(r), c, written_on_tick);
	write_on = -1;

	struct itimerval v = {{0, 0}, {0, 100000}}, left;
	setitimer(ITIMER_REAL, &v, NULL);
	getitimer(ITIMER_REAL, &left);
	printf("getitimer: left > 0: %d, <= set: %d\n", left.it_value.tv_sec == 0 && left.it_value.tv_usec > 0,
	       left.it_value.tv_usec <= 100000);
	ticks = 0;
	struct timespec req = {2, 0}, rem = {0, 0};
	r = nanosleep(&req, &rem);
	printf("nanosleep with SA_RESTART: %s, ticks=%d, 0 < left < 2s: %d\n", err(r), ticks,
	       (rem.tv_sec > 0 || rem.tv_nsec > 0) && rem.tv_sec < 2);

	setitimer(ITIMER_REAL, &v, NULL);
	ticks = 0;
	struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
	r = poll(&pfd, 1, 2000);
	printf("poll with SA_RESTART: %s, ticks=%d\n", err(r), ticks);

	setitimer(ITIMER_REAL, &v, NULL);
	ticks = 0;
	r = sleep(2);
	printf("sleep(2): returns %ld, ticks=%d\n", r, ticks);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	ev.sigev_value.sival_int = 1234;
	timer_t tid;
	printf("timer_create: %s\n", err(timer_create(CLOCK_MONOTONIC, &ev, &tid)));
	struct itimerspec its = {{0, 0}, {0, 20000000}};
	printf("timer_settime: %s\n", err(timer_settime(tid, 0, &its, NULL)));
	r = pause();
	printf("pause: %s, calls=%d sig=%d SI_TIMER: %d value=%d\n", err(r), timer_calls, timer_sig,
	       timer_code == SI_TIMER, timer_value);
	printf("timer_getoverrun: %s\n", err(timer_getoverrun(tid)));
	printf("timer_delete: %s\n", err(timer_delete(tid)));
	return 0;
}
