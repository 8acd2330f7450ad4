// Bad pointers given to the socket and waiting calls: an unmapped address
// must give EFAULT, not a crash, and must not lose data or events.
// Raw system calls, so that no C library wrapper touches the pointers first.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

// Hidden from the compiler, which would otherwise warn about the calls.
static void *volatile bad = (void *)8;
#define BAD bad

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	send(sv[0], "kept", 4, 0);
	printf("recvfrom into an unmapped buffer: %s\n", err(syscall(SYS_recvfrom, sv[1], BAD, 16, 0, NULL, NULL)));
	char buf[8] = {0};
	printf("then recv: %zd %s\n", recv(sv[1], buf, sizeof buf - 1, 0), buf);
	send(sv[0], "more", 4, 0);
	socklen_t len = 16;
	printf("recvfrom with an unmapped address length: %s\n",
	       err(syscall(SYS_recvfrom, sv[1], buf, sizeof buf, 0, (char[16]){0}, BAD)));
	printf("sendto from an unmapped buffer: %s\n", err(syscall(SYS_sendto, sv[0], BAD, 4, 0, NULL, 0)));
	printf("sendmsg with an unmapped msghdr: %s\n", err(syscall(SYS_sendmsg, sv[0], BAD, 0)));
	printf("recvmsg with an unmapped msghdr: %s\n", err(syscall(SYS_recvmsg, sv[1], BAD, 0)));
	struct iovec iov = {BAD, 4};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	printf("sendmsg from an unmapped iovec base: %s\n", err(syscall(SYS_sendmsg, sv[0], &msg, 0)));
	msg.msg_iov = BAD;
	printf("sendmsg with an unmapped iovec array: %s\n", err(syscall(SYS_sendmsg, sv[0], &msg, 0)));
	iov = (struct iovec){buf, 4};
	msg = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1, .msg_control = BAD, .msg_controllen = 32};
	printf("sendmsg with an unmapped control buffer: %s\n", err(syscall(SYS_sendmsg, sv[0], &msg, 0)));
	printf("sendmmsg with an unmapped vector: %s\n", err(syscall(SYS_sendmmsg, sv[0], BAD, 2, 0)));
	printf("recvmmsg with an unmapped vector: %s\n", err(syscall(SYS_recvmmsg, sv[1], BAD, 2, MSG_DONTWAIT, NULL)));
	printf("socketpair into an unmapped array: %s\n", err(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, BAD)));
	printf("getsockopt with an unmapped length: %s\n", err(syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, buf, BAD)));
	len = 4;
	printf("getsockopt into an unmapped value: %s\n", err(syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, BAD, &len)));
	printf("setsockopt from an unmapped value: %s\n", err(syscall(SYS_setsockopt, sv[0], SOL_SOCKET, SO_SNDBUF, BAD, 4)));
	printf("getsockname with an unmapped length: %s\n", err(syscall(SYS_getsockname, sv[0], buf, BAD)));
	printf("connect from an unmapped address: %s\n", err(syscall(SYS_connect, sv[0], BAD, 16)));
	printf("bind from an unmapped address: %s\n", err(syscall(SYS_bind, socket(AF_UNIX, SOCK_STREAM, 0), BAD, 16)));

	printf("ppoll on an unmapped array: %s\n", err(syscall(SYS_ppoll, BAD, 1, NULL, NULL, 8)));
	printf("poll on an unmapped array: %s\n", err(poll(BAD, 1, 0)));
	struct pollfd pfd = {sv[1], POLLIN, 0};
	printf("ppoll with an unmapped timeout: %s\n", err(syscall(SYS_ppoll, &pfd, 1, BAD, NULL, 8)));
	printf("ppoll with an unmapped signal mask: %s\n", err(syscall(SYS_ppoll, &pfd, 1, NULL, BAD, 8)));
	struct timespec ts = {0, 0};
	printf("pselect6 with an unmapped set: %s\n", err(syscall(SYS_pselect6, 4, BAD, NULL, NULL, &ts, NULL)));
	printf("pselect6 with an unmapped timeout: %s\n", err(syscall(SYS_pselect6, 4, NULL, NULL, NULL, BAD, NULL)));
	printf("pselect6 with an unmapped sigset pair: %s\n", err(syscall(SYS_pselect6, 4, NULL, NULL, NULL, &ts, BAD)));

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 42};
	printf("epoll_ctl with an unmapped event: %s\n", err(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, sv[1], BAD)));
	epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev);
	send(sv[0], "ready", 5, 0);
	printf("epoll_wait into an unmapped array: %s\n", err(epoll_wait(ep, BAD, 4, 0)));
	struct epoll_event got = {0};
	int n = epoll_wait(ep, &got, 1, 0);
	printf("then epoll_wait: %d data %llu\n", n, (unsigned long long)got.data.u64);
	printf("epoll_pwait with an unmapped signal mask: %s\n", err(syscall(SYS_epoll_pwait, ep, &got, 1, 0, BAD, 8)));

	printf("timerfd_settime from an unmapped value: %s\n", err(syscall(SYS_timerfd_settime, ep, 0, BAD, NULL)));
	return 0;
}
