// Readiness of pipes through every waiting call: poll, ppoll, select,
// pselect and epoll (level- and edge-triggered, one-shot, the 64-bit data
// field), and the errors each reports.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(x)                                                        \
	do {                                                            \
		if ((x) < 0) {                                          \
			printf("%s: %s\n", #x, strerrorname_np(errno)); \
			exit(1);                                        \
		}                                                       \
	} while (0)

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

static void polls(void) {
	int p[2];
	CHECK(pipe(p));
	struct pollfd fds[4] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {-1, POLLIN, 0}, {999, POLLIN, 0}};
	int n = poll(fds, 4, 0);
	printf("poll: %d revents %#x %#x %#x %#x\n", n, fds[0].revents, fds[1].revents, fds[2].revents, fds[3].revents);
	write(p[1], "abc", 3);
	n = poll(fds, 2, 1000);
	printf("poll after a write: %d revents %#x %#x\n", n, fds[0].revents, fds[1].revents);

	struct timespec ts = {0, 0};
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	n = ppoll(fds, 1, &ts, &mask);
	printf("ppoll with a mask: %d revents %#x\n", n, fds[0].revents);
	n = ppoll(fds, 1, NULL, NULL);
	printf("ppoll without a timeout: %d revents %#x\n", n, fds[0].revents);
	char buf[8];
	read(p[0], buf, sizeof buf);
	ts = (struct timespec){0, 20000000};
	n = ppoll(fds, 1, &ts, NULL);
	printf("ppoll when empty, 20ms: %d revents %#x, time left <= 20ms %d\n", n, fds[0].revents, ts.tv_sec == 0 && ts.tv_nsec <= 20000000);
	ts = (struct timespec){0, 1000000000};
	printf("ppoll with tv_nsec 1e9: %s\n", err(ppoll(fds, 1, &ts, NULL)));
	ts = (struct timespec){-1, 0};
	printf("ppoll with a negative time: %s\n", err(ppoll(fds, 1, &ts, NULL)));
	ts = (struct timespec){0, 0};
	printf("ppoll with a 7-byte sigset: %s\n", err(syscall(SYS_ppoll, fds, 1, &ts, &mask, 7)));

	close(p[1]);
	fds[0].events = POLLIN;
	n = poll(fds, 1, 0);
	printf("poll after the writer closed: %d revents %#x\n", n, fds[0].revents);
	close(p[0]);
}

static void selects(void) {
	int p[2];
	CHECK(pipe(p));
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = {0, 0};
	int n = select(p[1] + 1, &r, &w, NULL, &tv);
	printf("select: %d read %d write %d\n", n, FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
	write(p[1], "x", 1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	FD_SET(p[1], &r);
	tv = (struct timeval){1, 0};
	n = select(p[1] + 1, &r, NULL, NULL, &tv);
	printf("select after a write: %d read end %d write end %d\n", n, FD_ISSET(p[0], &r), FD_ISSET(p[1], &r));

	// A large descriptor number: all of FD_SETSIZE is looked at.
	int hi = dup2(p[0], 700);
	CHECK(hi);
	FD_ZERO(&r);
	FD_SET(hi, &r);
	n = select(FD_SETSIZE, &r, NULL, NULL, NULL);
	printf("select on descriptor 700: %d set %d\n", n, FD_ISSET(hi, &r));

	sigset_t mask;
	sigemptyset(&mask);
	struct timespec ts = {0, 0};
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	n = pselect(p[0] + 1, &r, NULL, NULL, &ts, &mask);
	printf("pselect with a mask: %d set %d\n", n, FD_ISSET(p[0], &r));
	read(p[0], (char[4]){0}, 4);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ts = (struct timespec){0, 10000000};
	n = pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL);
	printf("pselect when empty, 10ms: %d set %d\n", n, FD_ISSET(p[0], &r));

	printf("select with a negative count: %s\n", err(select(-1, &r, NULL, NULL, &tv)));
	FD_ZERO(&r);
	FD_SET(600, &r);
	tv = (struct timeval){0, 0};
	printf("select on a closed descriptor: %s\n", err(select(601, &r, NULL, NULL, &tv)));
	FD_ZERO(&r);
	tv = (struct timeval){0, -1};
	printf("select with a negative timeout: %s\n", err(select(1, &r, NULL, NULL, &tv)));
	// pselect6's sixth argument points to {sigset pointer, size}.
	struct {
		void *ss;
		size_t len;
	} sig = {&mask, 4};
	ts = (struct timespec){0, 0};
	printf("pselect6 with a 4-byte sigset: %s\n", err(syscall(SYS_pselect6, 1, &r, NULL, NULL, &ts, &sig)));
	sig.ss = NULL;
	printf("pselect6 with no sigset and a bad size: %s\n", err(syscall(SYS_pselect6, 1, &r, NULL, NULL, &ts, &sig)));
	close(hi);
	close(p[0]);
	close(p[1]);
}

static void epolls(void) {
	int p[2], q[2];
	CHECK(pipe(p));
	CHECK(pipe(q));
	int lt = epoll_create1(0), et = epoll_create(1);
	CHECK(lt);
	CHECK(et);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x0123456789abcdefULL};
	CHECK(epoll_ctl(lt, EPOLL_CTL_ADD, p[0], &ev));
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data.u64 = 0xfedcba9876543210ULL};
	CHECK(epoll_ctl(et, EPOLL_CTL_ADD, p[0], &ev));
	struct epoll_event got[4];
	memset(got, 0, sizeof got);
	printf("epoll_wait when empty: %d\n", epoll_wait(lt, got, 4, 0));
	write(p[1], "ab", 2);
	for (int i = 0; i < 2; i++) {
		int n = epoll_wait(lt, got, 4, 1000);
		printf("level-triggered wait %d: %d events %#x data %#llx\n", i, n, got[0].events, (unsigned long long)got[0].data.u64);
		n = epoll_wait(et, got, 4, 0);
		printf("edge-triggered wait %d: %d", i, n);
		if (n > 0)
			printf(" events %#x data %#llx", got[0].events, (unsigned long long)got[0].data.u64);
		printf("\n");
	}
	write(p[1], "c", 1);
	int n = epoll_wait(et, got, 4, 0);
	printf("edge-triggered after another write: %d data %#llx\n", n, (unsigned long long)got[0].data.u64);

	// Two ready descriptors, taken one at a time.
	ev = (struct epoll_event){.events = EPOLLOUT, .data.u64 = 2};
	CHECK(epoll_ctl(lt, EPOLL_CTL_ADD, q[1], &ev));
	uint64_t seen = 0;
	for (int i = 0; i < 2; i++) {
		n = epoll_wait(lt, got, 1, 0);
		seen |= got[0].data.u64 == 2 ? 1 : got[0].data.u64 == 0x0123456789abcdefULL ? 2 : 4;
		printf("maxevents 1: %d\n", n);
	}
	printf("both seen: %d\n", seen == 3);
	n = epoll_wait(lt, got, 4, 0);
	printf("maxevents 4: %d\n", n);

	// One-shot: reported once, then again after EPOLL_CTL_MOD.
	ev = (struct epoll_event){.events = EPOLLOUT | EPOLLONESHOT, .data.u64 = 3};
	CHECK(epoll_ctl(lt, EPOLL_CTL_MOD, q[1], &ev));
	CHECK(epoll_ctl(lt, EPOLL_CTL_DEL, p[0], NULL));
	printf("one-shot: %d", epoll_wait(lt, got, 4, 0));
	printf(" then %d", epoll_wait(lt, got, 4, 0));
	CHECK(epoll_ctl(lt, EPOLL_CTL_MOD, q[1], &ev));
	printf(" after re-arming %d data %llu\n", epoll_wait(lt, got, 4, 0), (unsigned long long)got[0].data.u64);

	sigset_t mask;
	sigemptyset(&mask);
	ev = (struct epoll_event){.events = EPOLLIN, .data.fd = q[0]};
	CHECK(epoll_ctl(lt, EPOLL_CTL_ADD, q[0], &ev));
	close(q[1]);
	n = epoll_pwait(lt, got, 4, 1000, &mask);
	printf("epoll_pwait after the writer closed: %d events %#x fd matches %d\n", n, got[0].events, got[0].data.fd == q[0]);

	printf("add twice: %s\n", err(epoll_ctl(lt, EPOLL_CTL_ADD, q[0], &ev)));
	printf("modify one not added: %s\n", err(epoll_ctl(lt, EPOLL_CTL_MOD, p[1], &ev)));
	printf("delete one not added: %s\n", err(epoll_ctl(lt, EPOLL_CTL_DEL, p[1], NULL)));
	printf("add itself: %s\n", err(epoll_ctl(lt, EPOLL_CTL_ADD, lt, &ev)));
	printf("add a closed descriptor: %s\n", err(epoll_ctl(lt, EPOLL_CTL_ADD, 555, &ev)));
	printf("bad op: %s\n", err(epoll_ctl(lt, 99, q[0], &ev)));
	printf("epoll_ctl on a pipe: %s\n", err(epoll_ctl(p[0], EPOLL_CTL_ADD, q[0], &ev)));
	int f = open("/proc/self/exe", O_RDONLY);
	printf("add a regular file: %s\n", err(epoll_ctl(lt, EPOLL_CTL_ADD, f, &ev)));
	close(f);
	printf("maxevents 0: %s\n", err(epoll_wait(lt, got, 0, 0)));
	printf("maxevents -1: %s\n", err(syscall(SYS_epoll_pwait, lt, got, -1, 0, NULL, 8)));
	printf("epoll_wait on a pipe: %s\n", err(epoll_wait(p[0], got, 4, 0)));
	printf("epoll_wait on a closed descriptor: %s\n", err(epoll_wait(555, got, 4, 0)));
	printf("epoll_pwait with a 4-byte sigset: %s\n", err(syscall(SYS_epoll_pwait, lt, got, 4, 0, &mask, 4)));
	printf("epoll_create(0): %s\n", err(epoll_create(0)));
	printf("epoll_create1 with a bad flag: %s\n", err(epoll_create1(1)));
	int ce = epoll_create1(EPOLL_CLOEXEC);
	printf("EPOLL_CLOEXEC: %d\n", fcntl(ce, F_GETFD) & FD_CLOEXEC);

	// epoll of epoll.
	ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = 77};
	CHECK(epoll_ctl(ce, EPOLL_CTL_ADD, lt, &ev));
	n = epoll_wait(ce, got, 4, 0);
	printf("nested: %d data %llu\n", n, (unsigned long long)got[0].data.u64);
	close(ce);
	close(lt);
	close(et);
	close(p[0]);
	close(p[1]);
	close(q[0]);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	polls();
	selects();
	epolls();
	return 0;
}
