// Which blocking calls a handled signal interrupts and which SA_RESTART
// restarts (signal(7)): each call blocks, a 30 ms interval timer ticks, and
// on the second tick the handler makes the call able to complete. Without
// SA_RESTART every call fails with EINTR at the first tick. With it, read,
// write, recv and accept are restarted and complete; a futex wait is
// restarted and then finds the word changed (EAGAIN); a socket with a
// receive timeout, poll, select, epoll_wait, nanosleep and sigtimedwait
// still fail with EINTR.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile int ticks;
static void (*action)(void);

static void on_tick(int sig) {
	(void)sig;
	if (++ticks == 2 && action)
		action();
}

static int p[2], sv[2], lsock;
static volatile int word;
static char buf[65536];

static void write_pipe(void) { write(p[1], "x", 1); }
static void drain_pipe(void) { read(p[0], buf, sizeof buf); }
static void send_sock(void) { send(sv[1], "z", 1, 0); }
static void set_word(void) { word = 1; }
static void connect_listener(void) {
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "sig_restart.sock"};
	connect(c, (struct sockaddr *)&a, sizeof a);
}

static long do_read(void) { return read(p[0], buf, 1); }
static long do_write(void) { return write(p[1], "y", 1); }
static long do_recv(void) { return recv(sv[0], buf, 1, 0); }
static long do_accept(void) {
	int fd = accept(lsock, NULL, NULL);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? -1 : 0;
}
static long do_futex(void) { return syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0); }
static long do_poll(void) {
	struct pollfd f = {.fd = p[0], .events = POLLIN};
	return poll(&f, 1, 2000);
}
static long do_select(void) {
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timeval tv = {2, 0};
	return select(p[0] + 1, &r, NULL, NULL, &tv);
}
static long do_epoll(void) {
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	long r = epoll_wait(ep, &ev, 1, 2000);
	int e = errno;
	close(ep);
	errno = e;
	return r;
}
static long do_nanosleep(void) {
	struct timespec ts = {2, 0};
	return nanosleep(&ts, NULL);
}
static long do_sigtimedwait(void) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	struct timespec ts = {2, 0};
	return sigtimedwait(&s, NULL, &ts);
}

static void setup_pipe(void) {
	pipe(p);
}
static void setup_full_pipe(void) {
	pipe(p);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	while (write(p[1], buf, sizeof buf) > 0)
		;
	while (write(p[1], buf, 1) > 0)
		;
	fcntl(p[1], F_SETFL, 0);
}
static void setup_sockets(void) { socketpair(AF_UNIX, SOCK_STREAM, 0, sv); }
static void setup_sockets_timeout(void) {
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct timeval tv = {5, 0};
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}
static void setup_listener(void) {
	unlink("sig_restart.sock");
	lsock = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "sig_restart.sock"};
	bind(lsock, (struct sockaddr *)&a, sizeof a);
	listen(lsock, 4);
}
static void setup_word(void) { word = 0; }

static const struct {
	const char *name;
	void (*setup)(void);
	long (*call)(void);
	void (*action)(void);
} cases[] = {
    {"read pipe", setup_pipe, do_read, write_pipe},
    {"write full pipe", setup_full_pipe, do_write, drain_pipe},
    {"recv socket", setup_sockets, do_recv, send_sock},
    {"recv socket with SO_RCVTIMEO", setup_sockets_timeout, do_recv, send_sock},
    {"accept", setup_listener, do_accept, connect_listener},
    {"futex wait", setup_word, do_futex, set_word},
    {"poll", setup_pipe, do_poll, write_pipe},
    {"select", setup_pipe, do_select, write_pipe},
    {"epoll_wait", setup_pipe, do_epoll, write_pipe},
    {"nanosleep", setup_word, do_nanosleep, set_word},
    {"sigtimedwait", setup_word, do_sigtimedwait, set_word},
};

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	for (int restart = 0; restart < 2; restart++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_tick;
		sa.sa_flags = restart ? SA_RESTART : 0;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			cases[i].setup();
			action = cases[i].action;
			ticks = 0;
			struct itimerval v = {{0, 30000}, {0, 30000}}, off = {{0, 0}, {0, 0}};
			setitimer(ITIMER_REAL, &v, NULL);
			errno = 0;
			long r = cases[i].call();
			int e = errno;
			setitimer(ITIMER_REAL, &off, NULL);
			printf("%s%s: ", cases[i].name, restart ? ", SA_RESTART" : "");
			if (r < 0)
				printf("-1 %s\n", strerrorname_np(e));
			else
				printf("%ld\n", r);
			close(p[0]);
			close(p[1]);
			close(sv[0]);
			close(sv[1]);
			close(lsock);
			p[0] = p[1] = sv[0] = sv[1] = lsock = -1;
		}
	}
	unlink("sig_restart.sock");
	return 0;
}
