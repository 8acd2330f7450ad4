// UNIX domain sockets: descriptor and credential passing over a socketpair,
// datagram boundaries, and a stream server and client in one process driven
// by nonblocking calls, poll and epoll; socket options and shutdown.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CHECK(x)                                                        \
	do {                                                            \
		if ((x) < 0) {                                          \
			printf("%s: %s\n", #x, strerrorname_np(errno)); \
			exit(1);                                        \
		}                                                       \
	} while (0)

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

// sendFDs sends one byte with an SCM_RIGHTS message carrying n descriptors.
static ssize_t sendFDs(int s, const int *fds, int n) {
	char byte = 'F';
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = CMSG_SPACE(n * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	return sendmsg(s, &msg, 0);
}

static void rights(void) {
	int sv[2], p[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK(pipe(p));
	printf("sendmsg with SCM_RIGHTS: %zd\n", sendFDs(sv[0], &p[0], 1));
	close(p[0]);

	char byte = 0;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	ssize_t n = recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC);
	printf("recvmsg: %zd byte %c flags %#x controllen %zu\n", n, byte, msg.msg_flags, (size_t)msg.msg_controllen);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c) {
		printf("no control message\n");
		exit(1);
	}
	printf("cmsg level %d type %d len %zu\n", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	printf("received descriptor close-on-exec: %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	write(p[1], "through the passed pipe", 23);
	char buf[64] = {0};
	printf("read %zd: %s\n", read(fd, buf, sizeof buf - 1), buf);
	close(fd);

	// Three descriptors into room for two: the third is dropped.
	int three[3] = {p[1], p[1], p[1]};
	printf("sendmsg with three descriptors: %zd\n", sendFDs(sv[0], three, 3));
	memset(&u, 0, sizeof u);
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof u.buf;
	n = recvmsg(sv[1], &msg, 0);
	c = CMSG_FIRSTHDR(&msg);
	// (Linux also sets MSG_CTRUNC here; qemu-user, which receives into a
	// bigger buffer and cuts it down itself, does not.)
	printf("recvmsg: %zd controllen %zu fds %zu\n", n, (size_t)msg.msg_controllen, c ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0);
	for (size_t i = 0; c && i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
		memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
		printf("descriptor %zu close-on-exec: %d\n", i, fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	}

	// No room for control messages at all.
	printf("sendmsg again: %zd\n", sendFDs(sv[0], &p[1], 1));
	msg.msg_control = NULL;
	msg.msg_controllen = 0;
	n = recvmsg(sv[1], &msg, 0);
	printf("recvmsg without room: %zd ctrunc %d controllen %zu\n", n, !!(msg.msg_flags & MSG_CTRUNC), (size_t)msg.msg_controllen);

	// Passing a descriptor that is not open. (Malformed cmsg_len values are
	// not tried: Linux refuses them with EINVAL but qemu-user sends the
	// message without them; syscall/sys_socket_test.go covers them.)
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} bad;
	memset(&bad, 0, sizeof bad);
	msg.msg_control = bad.buf;
	msg.msg_controllen = sizeof bad.buf;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	int notopen = 999;
	memcpy(CMSG_DATA(c), &notopen, sizeof notopen);
	printf("sendmsg passing a closed descriptor: %s\n", err(sendmsg(sv[0], &msg, 0)));
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void credentials(void) {
	int sv[2], on = 1;
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));

	// Explicit credentials from the sender.
	char byte = 'C';
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred me = {getpid(), getuid(), getgid()};
	memcpy(CMSG_DATA(c), &me, sizeof me);
	printf("sendmsg with SCM_CREDENTIALS: %zd\n", sendmsg(sv[0], &msg, 0));
	// And none: the kernel attaches them because of SO_PASSCRED.
	printf("send without: %zd\n", send(sv[0], "D", 1, 0));

	for (int i = 0; i < 2; i++) {
		memset(&u, 0, sizeof u);
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof u.buf;
		ssize_t n = recvmsg(sv[1], &msg, 0);
		c = CMSG_FIRSTHDR(&msg);
		printf("recvmsg: %zd byte %c controllen %zu", n, byte, (size_t)msg.msg_controllen);
		if (c && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cr;
			memcpy(&cr, CMSG_DATA(c), sizeof cr);
			printf(" pid matches %d uid matches %d gid matches %d\n", cr.pid == getpid(), cr.uid == getuid(), cr.gid == getgid());
		} else {
			printf(" no credentials\n");
		}
	}

	struct ucred peer;
	socklen_t len = sizeof peer;
	CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &peer, &len));
	printf("SO_PEERCRED len %u uid matches %d\n", len, peer.uid == getuid());

	// Datagrams keep their boundaries; MSG_TRUNC reports the full length.
	send(sv[0], "0123456789", 10, 0);
	char buf[4];
	printf("recv MSG_PEEK|MSG_TRUNC: %zd\n", recv(sv[1], buf, sizeof buf, MSG_PEEK | MSG_TRUNC));
	iov = (struct iovec){buf, sizeof buf};
	msg = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n = recvmsg(sv[1], &msg, 0);
	printf("recvmsg into 4 bytes: %zd truncated %d data %.4s\n", n, !!(msg.msg_flags & MSG_TRUNC), buf);
	close(sv[0]);
	close(sv[1]);
}

static void server(void) {
	int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(srv);
	printf("server O_NONBLOCK %d FD_CLOEXEC %d\n", !!(fcntl(srv, F_GETFL) & O_NONBLOCK), fcntl(srv, F_GETFD) & FD_CLOEXEC);
	// Autobind: the kernel picks a unique abstract name.
	struct sockaddr_un name = {.sun_family = AF_UNIX};
	CHECK(bind(srv, (struct sockaddr *)&name, sizeof(sa_family_t)));
	socklen_t namelen = sizeof name;
	CHECK(getsockname(srv, (struct sockaddr *)&name, &namelen));
	printf("autobound name: length %u abstract %d\n", namelen, name.sun_path[0] == 0);
	CHECK(listen(srv, 4));

	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0xfeedface00000001ULL};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev));
	struct epoll_event got[4];
	printf("epoll_wait before connect: %d\n", epoll_wait(ep, got, 4, 0));
	printf("accept before connect: %s\n", err(accept(srv, NULL, NULL)));

	int cli = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(cli);
	int n, r = connect(cli, (struct sockaddr *)&name, namelen);
	printf("nonblocking connect: %s\n", r == 0 || errno == EINPROGRESS ? "started" : strerrorname_np(errno));
	struct pollfd pfd = {cli, POLLOUT, 0};
	n = poll(&pfd, 1, 5000);
	printf("poll client for POLLOUT: %d revents %#x\n", n, pfd.revents);
	int soerr = -1;
	socklen_t len = sizeof soerr;
	CHECK(getsockopt(cli, SOL_SOCKET, SO_ERROR, &soerr, &len));
	printf("SO_ERROR %d\n", soerr);

	n = epoll_wait(ep, got, 4, 5000);
	printf("epoll_wait: %d events %#x data %#llx\n", n, got[0].events, (unsigned long long)got[0].data.u64);
	struct sockaddr_un peer;
	socklen_t peerlen = sizeof peer;
	int conn = accept4(srv, (struct sockaddr *)&peer, &peerlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	CHECK(conn);
	printf("accepted: peer address length %u, O_NONBLOCK %d FD_CLOEXEC %d\n", peerlen, !!(fcntl(conn, F_GETFL) & O_NONBLOCK),
	       fcntl(conn, F_GETFD) & FD_CLOEXEC);

	struct sockaddr_un other;
	socklen_t otherlen = sizeof other;
	CHECK(getpeername(cli, (struct sockaddr *)&other, &otherlen));
	printf("client's peer is the server: %d\n", otherlen == namelen && memcmp(&other, &name, namelen) == 0);
	otherlen = 4;
	CHECK(getpeername(cli, (struct sockaddr *)&other, &otherlen));
	printf("getpeername into 4 bytes reports %u\n", otherlen);

	// Edge-triggered readiness on the connection.
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data.u64 = 0xfeedface00000002ULL};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, conn, &ev));
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, srv, NULL));
	printf("send ping: %zd\n", send(cli, "ping", 4, 0));
	n = epoll_wait(ep, got, 4, 5000);
	printf("epoll_wait: %d events %#x data %#llx\n", n, got[0].events, (unsigned long long)got[0].data.u64);
	printf("again, edge-triggered: %d\n", epoll_wait(ep, got, 4, 0));
	char buf[16] = {0};
	printf("recv: %zd %s\n", recv(conn, buf, sizeof buf - 1, 0), buf);
	printf("recv when empty: %s\n", err(recv(conn, buf, sizeof buf, 0)));
	printf("sendto with no address: %zd\n", sendto(conn, "pong", 4, 0, NULL, 0));
	pfd = (struct pollfd){cli, POLLIN, 0};
	n = poll(&pfd, 1, 5000);
	printf("poll client for POLLIN: %d revents %#x\n", n, pfd.revents);
	memset(buf, 0, sizeof buf);
	printf("recvfrom: %zd %s\n", recvfrom(cli, buf, sizeof buf - 1, 0, NULL, NULL), buf);

	// Socket options.
	int v;
	len = sizeof v;
	CHECK(getsockopt(conn, SOL_SOCKET, SO_TYPE, &v, &len));
	printf("SO_TYPE %d len %u\n", v, len);
	len = sizeof v;
	CHECK(getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN, &v, &len));
	printf("SO_ACCEPTCONN on the server %d\n", v);
	len = sizeof v;
	CHECK(getsockopt(conn, SOL_SOCKET, SO_DOMAIN, &v, &len));
	printf("SO_DOMAIN %d\n", v);
	len = sizeof v;
	CHECK(getsockopt(conn, SOL_SOCKET, SO_RCVBUF, &v, &len));
	printf("SO_RCVBUF > 0: %d\n", v > 0);
	v = 32768;
	CHECK(setsockopt(conn, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
	len = sizeof v;
	CHECK(getsockopt(conn, SOL_SOCKET, SO_SNDBUF, &v, &len));
	printf("SO_SNDBUF after setting 32768: %d\n", v);
	struct timeval tv = {3, 500000};
	CHECK(setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	memset(&tv, 0, sizeof tv);
	len = sizeof tv;
	CHECK(getsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, &len));
	printf("SO_RCVTIMEO %ld.%06ld len %u\n", (long)tv.tv_sec, (long)tv.tv_usec, len);
	struct linger lg = {1, 7};
	CHECK(setsockopt(conn, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	memset(&lg, 0, sizeof lg);
	len = sizeof lg;
	CHECK(getsockopt(conn, SOL_SOCKET, SO_LINGER, &lg, &len));
	printf("SO_LINGER %d %d\n", lg.l_onoff, lg.l_linger);
	// (A negative length is EINVAL on Linux, but qemu-user takes it as a
	// huge unsigned one; syscall/sys_socket_test.go covers it.)
	printf("setsockopt with a short length: %s\n", err(setsockopt(conn, SOL_SOCKET, SO_SNDBUF, &v, 2)));
	printf("getsockopt of an unknown option: %s\n", err(getsockopt(conn, SOL_SOCKET, 9999, &v, &len)));
	printf("getsockopt on a pipe: %s\n", err(getsockopt(0, SOL_SOCKET, SO_TYPE, &v, &len)));

	// Shutdown: the reader sees end of file, the writer EPIPE.
	CHECK(shutdown(cli, SHUT_WR));
	pfd = (struct pollfd){conn, POLLIN | POLLRDHUP, 0};
	n = poll(&pfd, 1, 5000);
	printf("poll after shutdown: %d revents %#x\n", n, pfd.revents);
	printf("recv after shutdown: %zd\n", recv(conn, buf, sizeof buf, 0));
	printf("send after shutdown: %s\n", err(send(cli, "x", 1, MSG_NOSIGNAL)));
	printf("shutdown with a bad how: %s\n", err(shutdown(cli, 7)));
	printf("shutdown of a pipe: %s\n", err(shutdown(0, SHUT_RD)));

	close(conn);
	close(cli);
	close(srv);
	// Nobody listens there any more.
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("connect to a closed server: %s\n", err(connect(cli, (struct sockaddr *)&name, namelen)));
	printf("connect with an oversized address: %s\n", err(connect(cli, (struct sockaddr *)&name, 200)));
	printf("bind with a negative length: %s\n", err(bind(cli, (struct sockaddr *)&name, -1)));
	close(cli);
	close(ep);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	rights();
	credentials();
	server();
	printf("socket with a bad family: %s\n", err(socket(12345, SOCK_STREAM, 0)));
	printf("socket with a bad type: %s\n", err(socket(AF_UNIX, 77, 0)));
	return 0;
}
