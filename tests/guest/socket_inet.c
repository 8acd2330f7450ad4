// IPv4 on the loopback interface with ports the kernel picks: UDP with
// sendto/recvfrom, sendmsg/recvmsg (names, iovecs, control messages) and
// sendmmsg/recvmmsg, then a TCP connection made with a nonblocking connect.
// Only data and facts that do not depend on the ports are printed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(x)                                                        \
	do {                                                            \
		if ((x) < 0) {                                          \
			printf("%s: %s\n", #x, strerrorname_np(errno)); \
			exit(1);                                        \
		}                                                       \
	} while (0)

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

// bound makes a socket bound to 127.0.0.1 on a port the kernel chooses.
static int bound(int type, struct sockaddr_in *addr) {
	int s = socket(AF_INET, type, 0);
	CHECK(s);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	CHECK(bind(s, (struct sockaddr *)&a, sizeof a));
	socklen_t len = sizeof *addr;
	CHECK(getsockname(s, (struct sockaddr *)addr, &len));
	return s;
}

static int sameAddr(const struct sockaddr_in *a, const struct sockaddr_in *b) {
	return a->sin_family == b->sin_family && a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

static void udp(void) {
	struct sockaddr_in aa, ba;
	int a = bound(SOCK_DGRAM, &aa), b = bound(SOCK_DGRAM, &ba);
	printf("bound to 127.0.0.1: %d, port chosen: %d\n", aa.sin_addr.s_addr == htonl(INADDR_LOOPBACK), aa.sin_port != 0);

	printf("sendto: %zd\n", sendto(a, "datagram one", 12, 0, (struct sockaddr *)&ba, sizeof ba));
	char buf[64] = {0};
	struct sockaddr_in from;
	socklen_t fromlen = sizeof from;
	ssize_t n = recvfrom(b, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fromlen);
	printf("recvfrom: %zd %s, from the sender %d, length %u\n", n, buf, sameAddr(&from, &aa), fromlen);

	// A sender address into too small a buffer: cut, full length reported.
	sendto(a, "x", 1, 0, (struct sockaddr *)&ba, sizeof ba);
	fromlen = 4;
	memset(&from, 0, sizeof from);
	n = recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
	printf("recvfrom with 4 bytes for the address: %zd, length %u, family %d, port kept out %d\n", n, fromlen, from.sin_family,
	       from.sin_port == 0);

	// Gather on send, scatter on receive, with a name and the TTL.
	int on = 1;
	CHECK(setsockopt(b, IPPROTO_IP, IP_RECVTTL, &on, sizeof on));
	struct iovec out[3] = {{"scatter", 7}, {"-", 1}, {"gather", 6}};
	struct msghdr msg = {.msg_name = &ba, .msg_namelen = sizeof ba, .msg_iov = out, .msg_iovlen = 3};
	printf("sendmsg: %zd\n", sendmsg(a, &msg, 0));
	char p1[5] = {0}, p2[16] = {0};
	struct iovec in[2] = {{p1, 4}, {p2, 15}};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	memset(&from, 0, sizeof from);
	msg = (struct msghdr){.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = in, .msg_iovlen = 2, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	n = recvmsg(b, &msg, 0);
	printf("recvmsg: %zd [%s][%s] from the sender %d namelen %u flags %#x\n", n, p1, p2, sameAddr(&from, &aa), msg.msg_namelen,
	       msg.msg_flags);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c) {
		int ttl;
		memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
		printf("cmsg level %d type %d len %zu ttl > 0: %d\n", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len, ttl > 0);
	}
	on = 0;
	CHECK(setsockopt(b, IPPROTO_IP, IP_RECVTTL, &on, sizeof on));

	// Receive timestamps: a struct timeval of the guest's longs.
	CHECK(setsockopt(b, SOL_SOCKET, SO_TIMESTAMP, &(int){1}, sizeof(int)));
	sendto(a, "stamped", 7, 0, (struct sockaddr *)&ba, sizeof ba);
	union {
		char buf[CMSG_SPACE(sizeof(struct timeval))];
		struct cmsghdr align;
	} tu;
	memset(&tu, 0, sizeof tu);
	memset(p2, 0, sizeof p2);
	struct iovec one = {p2, 15};
	msg = (struct msghdr){.msg_iov = &one, .msg_iovlen = 1, .msg_control = tu.buf, .msg_controllen = sizeof tu.buf};
	n = recvmsg(b, &msg, 0);
	c = CMSG_FIRSTHDR(&msg);
	printf("recvmsg: %zd %s controllen %zu ctrunc %d\n", n, p2, (size_t)msg.msg_controllen, !!(msg.msg_flags & MSG_CTRUNC));
	if (c) {
		struct timeval tv;
		memcpy(&tv, CMSG_DATA(c), sizeof tv);
		printf("cmsg level %d type %d len %zu, a time after 2020 %d, usec in range %d\n", c->cmsg_level, c->cmsg_type,
		       (size_t)c->cmsg_len, tv.tv_sec > 1577836800, tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	}
	CHECK(setsockopt(b, SOL_SOCKET, SO_TIMESTAMP, &(int){0}, sizeof(int)));

	// A datagram larger than the buffer.
	sendto(a, "0123456789abcdef", 16, 0, (struct sockaddr *)&ba, sizeof ba);
	memset(p1, 0, sizeof p1);
	struct iovec small = {p1, 4};
	msg = (struct msghdr){.msg_iov = &small, .msg_iovlen = 1};
	n = recvmsg(b, &msg, MSG_TRUNC);
	printf("recvmsg MSG_TRUNC: %zd %s truncated %d\n", n, p1, !!(msg.msg_flags & MSG_TRUNC));

	// Batches.
	const char *words[3] = {"alpha", "beta", "gamma"};
	struct mmsghdr mm[3];
	struct iovec iv[3];
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		iv[i] = (struct iovec){(void *)words[i], strlen(words[i])};
		mm[i].msg_hdr = (struct msghdr){.msg_name = &ba, .msg_namelen = sizeof ba, .msg_iov = &iv[i], .msg_iovlen = 1};
	}
	int k = sendmmsg(a, mm, 3, 0);
	printf("sendmmsg: %d lengths %u %u %u\n", k, mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
	char rb[4][16];
	struct sockaddr_in names[4];
	struct mmsghdr rm[4];
	struct iovec riv[4];
	memset(rm, 0, sizeof rm);
	memset(rb, 0, sizeof rb);
	for (int i = 0; i < 4; i++) {
		riv[i] = (struct iovec){rb[i], 15};
		rm[i].msg_hdr = (struct msghdr){.msg_name = &names[i], .msg_namelen = sizeof names[i], .msg_iov = &riv[i], .msg_iovlen = 1};
	}
	k = recvmmsg(b, rm, 4, MSG_WAITFORONE, NULL);
	printf("recvmmsg MSG_WAITFORONE: %d\n", k);
	for (int i = 0; i < k; i++)
		printf("  %u %s from the sender %d\n", rm[i].msg_len, rb[i], sameAddr(&names[i], &aa));
	printf("recvmmsg MSG_DONTWAIT when empty: %s\n", err(recvmmsg(b, rm, 4, MSG_DONTWAIT, NULL)));
	struct timespec ts = {0, 1000000};
	sendto(a, "timed", 5, 0, (struct sockaddr *)&ba, sizeof ba);
	memset(rb, 0, sizeof rb);
	k = recvmmsg(b, rm, 1, 0, &ts);
	printf("recvmmsg with a timeout: %d %s\n", k, rb[0]);
	// (An invalid timeout is EINVAL on Linux; qemu-user waits forever.)
	printf("sendmmsg of nothing: %d\n", sendmmsg(a, mm, 0, 0));

	// A connected UDP socket.
	CHECK(connect(a, (struct sockaddr *)&ba, sizeof ba));
	printf("send on connected: %zd\n", send(a, "connected", 9, 0));
	memset(buf, 0, sizeof buf);
	printf("recv: %zd %s\n", recv(b, buf, sizeof buf, 0), buf);
	struct sockaddr_in peer;
	socklen_t peerlen = sizeof peer;
	CHECK(getpeername(a, (struct sockaddr *)&peer, &peerlen));
	printf("peer is b: %d\n", sameAddr(&peer, &ba));
	peerlen = sizeof peer;
	printf("getpeername of an unconnected socket: %s\n", err(getpeername(b, (struct sockaddr *)&peer, &peerlen)));
	printf("send on unconnected: %s\n", err(send(b, "x", 1, 0)));
	printf("sendmsg with iovlen over UIO_MAXIOV: ");
	msg = (struct msghdr){.msg_iov = out, .msg_iovlen = 1025};
	printf("%s\n", err(sendmsg(a, &msg, 0)));
	close(a);
	close(b);
}

static void tcp(void) {
	struct sockaddr_in la;
	int l = bound(SOCK_STREAM, &la);
	CHECK(listen(l, 8));
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(c);
	int r = connect(c, (struct sockaddr *)&la, sizeof la);
	printf("nonblocking connect: %s\n", r == 0 || errno == EINPROGRESS ? "started" : strerrorname_np(errno));
	struct pollfd pfd = {c, POLLOUT, 0};
	int n = poll(&pfd, 1, 5000);
	printf("poll for POLLOUT: %d revents %#x\n", n, pfd.revents);
	int soerr = -1;
	socklen_t len = sizeof soerr;
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &soerr, &len));
	printf("SO_ERROR %d\n", soerr);
	printf("connect again: %s\n", err(connect(c, (struct sockaddr *)&la, sizeof la)));

	struct sockaddr_in peer, mine;
	socklen_t peerlen = sizeof peer, minelen = sizeof mine;
	int s = accept(l, (struct sockaddr *)&peer, &peerlen);
	CHECK(s);
	CHECK(getsockname(c, (struct sockaddr *)&mine, &minelen));
	printf("accepted the client: %d\n", sameAddr(&peer, &mine));

	int one = 1, v = 0;
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
	len = sizeof v;
	CHECK(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &len));
	printf("TCP_NODELAY %d\n", v != 0);
	len = sizeof v;
	CHECK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
	printf("SO_TYPE %d\n", v);

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = 0x8000000000000007ULL};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	printf("send: %zd\n", send(c, "over tcp", 8, 0));
	struct epoll_event got;
	n = epoll_wait(ep, &got, 1, 5000);
	printf("epoll_wait: %d events %#x data %#llx\n", n, got.events, (unsigned long long)got.data.u64);
	char buf[32] = {0};
	printf("recv: %zd %s\n", recv(s, buf, sizeof buf - 1, 0), buf);
	CHECK(shutdown(c, SHUT_WR));
	n = epoll_wait(ep, &got, 1, 5000);
	printf("after shutdown: %d events %#x\n", n, got.events);
	printf("recv: %zd\n", recv(s, buf, sizeof buf, 0));
	close(ep);
	close(s);
	close(c);
	close(l);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	udp();
	tcp();
	return 0;
}
