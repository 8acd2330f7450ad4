// Timer signals interrupt what blocks: alarm + pause returns -1 EINTR after
// the handler ran; an ITIMER_REAL tick interrupts a pipe read with EINTR
// without SA_RESTART, and with SA_RESTART the read goes on until the handler
// itself writes to the pipe on the third tick; nanosleep and poll are never
// restarted (signal(7)) and nanosleep reports the time it had left.
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
	every(20000);
	r = read(pipefd[0], &c, 1);
	stop();
	printf("read without SA_RESTART: %s, ticks=%d\n", err(r), ticks);

	install(SA_RESTART);
	ticks = 0;
	write_on = 3;
	every(20000);
	r = read(pipefd[0], &c, 1);
	stop();
	printf("read with SA_RESTART: %s '%c', data written on tick %d\n", err(r), c, written_on_tick);
	write_on = -1;

	struct itimerval v = {{0, 0}, {0, 50000}}, left;
	setitimer(ITIMER_REAL, &v, NULL);
	getitimer(ITIMER_REAL, &left);
	printf("getitimer: left > 0: %d, <= set: %d\n", left.it_value.tv_sec == 0 && left.it_value.tv_usec > 0,
	       left.it_value.tv_usec <= 50000);
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
	return 0;
}
