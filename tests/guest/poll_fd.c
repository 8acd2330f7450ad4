// Descriptors made to be waited on: eventfd's counter (plain and
// semaphore), and timerfd with a short timeout, read directly and through
// poll and epoll. Times are never printed, only facts about them.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHECK(x)                                                        \
	do {                                                            \
		if ((x) < 0) {                                          \
			printf("%s: %s\n", #x, strerrorname_np(errno)); \
			exit(1);                                        \
		}                                                       \
	} while (0)

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

static void counter(void) {
	int e = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(e);
	printf("eventfd O_NONBLOCK %d FD_CLOEXEC %d\n", !!(fcntl(e, F_GETFL) & O_NONBLOCK), fcntl(e, F_GETFD) & FD_CLOEXEC);
	uint64_t v = 0;
	ssize_t r = read(e, &v, sizeof v);
	printf("read: %zd value %llu\n", r, (unsigned long long)v);
	printf("read when zero: %s\n", err(read(e, &v, sizeof v)));
	struct pollfd pfd = {e, POLLIN | POLLOUT, 0};
	int n = poll(&pfd, 1, 0);
	printf("poll when zero: %d revents %#x\n", n, pfd.revents);
	v = 2;
	write(e, &v, sizeof v);
	v = 5;
	write(e, &v, sizeof v);
	n = poll(&pfd, 1, 0);
	printf("poll after writes: %d revents %#x\n", n, pfd.revents);
	CHECK(eventfd_read(e, &v));
	printf("eventfd_read: %llu\n", (unsigned long long)v);
	v = UINT64_MAX;
	printf("write of UINT64_MAX: %s\n", err(write(e, &v, sizeof v)));
	printf("write of 4 bytes: %s\n", err(write(e, &v, 4)));
	printf("read into 4 bytes: %s\n", err(read(e, &v, 4)));
	v = UINT64_MAX - 1;
	printf("write up to the maximum: %zd\n", write(e, &v, sizeof v));
	v = 1;
	printf("write past the maximum: %s\n", err(write(e, &v, sizeof v)));
	pfd.events = POLLOUT;
	n = poll(&pfd, 1, 0);
	printf("poll when full: %d revents %#x\n", n, pfd.revents);
	close(e);

	e = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	CHECK(e);
	for (int i = 0; i < 4; i++) {
		r = read(e, &v, sizeof v);
		printf("semaphore read %d: %s", i, err(r));
		if (r > 0)
			printf(" value %llu", (unsigned long long)v);
		printf("\n");
	}
	close(e);
	e = syscall(SYS_eventfd2, 9, 0);
	CHECK(e);
	CHECK(eventfd_read(e, &v));
	printf("eventfd2 initial value %llu, blocking %d\n", (unsigned long long)v, !(fcntl(e, F_GETFL) & O_NONBLOCK));
	close(e);
	printf("eventfd with a bad flag: %s\n", err(eventfd(0, 0x10)));
}

static void timers(void) {
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	CHECK(t);
	struct itimerspec cur;
	CHECK(timerfd_gettime(t, &cur));
	printf("new timer disarmed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
	// Armed far ahead for the reading, so a loaded machine cannot let it
	// expire first; then armed for 20 ms for the wait.
	struct itimerspec its = {.it_value = {10, 0}};
	CHECK(timerfd_settime(t, 0, &its, NULL));
	CHECK(timerfd_gettime(t, &cur));
	printf("armed: interval zero %d, value in (9s, 10s] %d\n", cur.it_interval.tv_sec == 0 && cur.it_interval.tv_nsec == 0,
	       (cur.it_value.tv_sec == 9 && cur.it_value.tv_nsec > 0) || (cur.it_value.tv_sec == 10 && cur.it_value.tv_nsec == 0));
	its = (struct itimerspec){.it_value = {0, 20000000}};
	CHECK(timerfd_settime(t, 0, &its, NULL));
	struct pollfd pfd = {t, POLLIN, 0};
	int n = poll(&pfd, 1, 5000);
	printf("poll: %d revents %#x\n", n, pfd.revents);
	uint64_t exp = 0;
	ssize_t r = read(t, &exp, sizeof exp);
	printf("read: %zd expirations >= 1: %d\n", r, exp >= 1);
	CHECK(timerfd_gettime(t, &cur));
	printf("expired timer disarmed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

	// A periodic timer, waited for through epoll, then replaced.
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0xabcdef0011223344ULL};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev));
	its = (struct itimerspec){.it_interval = {0, 5000000}, .it_value = {0, 5000000}};
	CHECK(timerfd_settime(t, 0, &its, NULL));
	struct epoll_event got;
	n = epoll_wait(ep, &got, 1, 5000);
	printf("epoll_wait: %d data %#llx\n", n, (unsigned long long)got.data.u64);
	CHECK(read(t, &exp, sizeof exp));
	printf("periodic expirations >= 1: %d\n", exp >= 1);
	struct itimerspec old;
	its = (struct itimerspec){0};
	CHECK(timerfd_settime(t, 0, &its, &old));
	printf("old interval 5ms: %d\n", old.it_interval.tv_sec == 0 && old.it_interval.tv_nsec == 5000000);

	// An absolute time already past expires at once.
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	its = (struct itimerspec){.it_value = now};
	CHECK(timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL));
	r = read(t, &exp, sizeof exp);
	printf("absolute time in the past: read %zd expirations %llu\n", r, (unsigned long long)exp);

	its = (struct itimerspec){.it_value = {0, 1000000000}};
	printf("settime with tv_nsec 1e9: %s\n", err(timerfd_settime(t, 0, &its, NULL)));
	its = (struct itimerspec){.it_value = {0, 1}};
	printf("settime with a bad flag: %s\n", err(timerfd_settime(t, 0x100, &its, NULL)));
	printf("settime on a pipe: %s\n", err(timerfd_settime(0, 0, &its, NULL)));
	close(t);
	close(ep);

	t = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	CHECK(t);
	printf("read of a disarmed nonblocking timer: %s\n", err(read(t, &exp, sizeof exp)));
	close(t);
	printf("timerfd_create with a bad clock: %s\n", err(timerfd_create(12345, 0)));
	// (A bad flag is EINVAL on Linux; qemu-user drops unknown flags.)
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	counter();
	timers();
	return 0;
}
