// recvmsg whose control buffer cannot be written still receives the data
// (net/core/scm.c): put_cmsg's EFAULT is ignored by scm_recv, so a message
// such as SCM_CREDENTIALS that cannot be written is left out without
// MSG_CTRUNC; scm_detach_fds stores each descriptor number before the
// header and stops at the first store that faults, the descriptor then not
// installed, and sets MSG_CTRUNC for those not passed; a header that cannot
// be written after descriptors were stored leaves them installed, uncounted.
// msg_controllen is what was consumed. The message is never lost.
// qemu-user copies the whole buffer out at once, so the program checks
// itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define PG 4096

static int lowest_free_fd(void) {
	int fd = dup(0);
	close(fd);
	return fd;
}

static void send_with_fd(int sock, const char *data, int fd) {
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iov = {(void *)data, strlen(data)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	if (sendmsg(sock, &m, 0) != (ssize_t)strlen(data))
		perror("sendmsg");
}

// Receives into buf with control at ctl (ctllen bytes); returns the result.
static ssize_t recv_into(int sock, char *buf, size_t n, void *ctl, size_t ctllen, struct msghdr *m) {
	static struct iovec iov;
	iov.iov_base = buf;
	iov.iov_len = n;
	memset(m, 0, sizeof *m);
	m->msg_iov = &iov;
	m->msg_iovlen = 1;
	m->msg_control = ctl;
	m->msg_controllen = ctllen;
	return recvmsg(sock, m, 0);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	int sv[2], p[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0 || pipe(p) != 0)
		return 2;
	char *pages = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED)
		return 3;
	// Page 0 read-only, page 1 writable, page 2 read-only.
	mprotect(pages, PG, PROT_READ);
	mprotect(pages + 2 * PG, PG, PROT_READ);
	char buf[64];
	struct msghdr m;

	// The whole buffer read-only: the data, MSG_CTRUNC, nothing consumed,
	// no descriptor installed.
	int before = lowest_free_fd();
	send_with_fd(sv[0], "first", p[1]);
	send_with_fd(sv[0], "second", p[1]);
	memset(buf, 0, sizeof buf);
	ssize_t r = recv_into(sv[1], buf, sizeof buf, pages, CMSG_SPACE(sizeof(int)), &m);
	check("read-only buffer: the data is received", r == 5 && memcmp(buf, "first", 5) == 0);
	check("read-only buffer: MSG_CTRUNC, msg_controllen 0", (m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0);
	check("read-only buffer: no descriptor installed", lowest_free_fd() == before);

	// The next message is there, with its descriptor.
	char ctl[CMSG_SPACE(sizeof(int))];
	r = recv_into(sv[1], buf, sizeof buf, ctl, sizeof ctl, &m);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int got = -1;
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&got, CMSG_DATA(c), sizeof got);
	check("the next message is intact", r == 6 && memcmp(buf, "second", 6) == 0 && !(m.msg_flags & MSG_CTRUNC) &&
						    got >= 0 && fcntl(got, F_GETFD) >= 0);
	if (got >= 0)
		close(got);

	// Unmapped: the same.
	char *gone = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, PG);
	send_with_fd(sv[0], "third", p[1]);
	r = recv_into(sv[1], buf, sizeof buf, gone, CMSG_SPACE(sizeof(int)), &m);
	check("unmapped buffer: data, MSG_CTRUNC, msg_controllen 0",
	      r == 5 && (m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0 && lowest_free_fd() == before);

	// Header writable, descriptor slot read-only: the header is not written
	// either (descriptors are stored first).
	char *hdr_ok = pages + 2 * PG - CMSG_LEN(0);
	memset(hdr_ok, 0xaa, CMSG_LEN(0));
	send_with_fd(sv[0], "fourth", p[1]);
	r = recv_into(sv[1], buf, sizeof buf, hdr_ok, CMSG_SPACE(sizeof(int)), &m);
	int untouched = 1;
	for (size_t i = 0; i < CMSG_LEN(0); i++)
		untouched = untouched && (unsigned char)hdr_ok[i] == 0xaa;
	check("descriptor slot read-only: data, MSG_CTRUNC, header not written",
	      r == 6 && (m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0 && untouched && lowest_free_fd() == before);

	// Header read-only, descriptor slot writable: the descriptor is
	// installed and its number stored, but nothing is counted and all were
	// passed (no MSG_CTRUNC).
	char *hdr_ro = pages + PG - CMSG_LEN(0);
	send_with_fd(sv[0], "fifth", p[1]);
	r = recv_into(sv[1], buf, sizeof buf, hdr_ro, CMSG_SPACE(sizeof(int)), &m);
	int stored;
	memcpy(&stored, pages + PG, sizeof stored);
	check("header read-only: data, no MSG_CTRUNC, msg_controllen 0",
	      r == 5 && !(m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0);
	int works = stored >= 0 && write(stored, "x", 1) == 1;
	char x = 0;
	works = works && read(p[0], &x, 1) == 1 && x == 'x';
	check("header read-only: the stored descriptor is installed and is the pipe", works);
	if (stored >= 0)
		close(stored);

	// Credentials (SO_PASSCRED) into a read-only buffer: left out, no
	// MSG_CTRUNC.
	int on = 1;
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
	send(sv[0], "sixth", 5, 0);
	r = recv_into(sv[1], buf, sizeof buf, pages, CMSG_SPACE(sizeof(struct ucred)), &m);
	check("credentials, read-only buffer: data, no MSG_CTRUNC, msg_controllen 0",
	      r == 5 && !(m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0);
	// Credentials and a descriptor: both left out, MSG_CTRUNC for the
	// descriptor.
	send_with_fd(sv[0], "seventh", p[1]);
	r = recv_into(sv[1], buf, sizeof buf, pages, CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int)), &m);
	check("credentials and a descriptor, read-only buffer: data, MSG_CTRUNC, msg_controllen 0",
	      r == 7 && (m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0 && lowest_free_fd() == before);
	// Writable again: both arrive.
	send_with_fd(sv[0], "eighth", p[1]);
	char ctl2[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
	r = recv_into(sv[1], buf, sizeof buf, ctl2, sizeof ctl2, &m);
	int kinds = 0;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_type == SCM_CREDENTIALS)
			kinds |= 1;
		if (c->cmsg_type == SCM_RIGHTS) {
			kinds |= 2;
			memcpy(&got, CMSG_DATA(c), sizeof got);
			close(got);
		}
	}
	check("writable buffer: credentials and descriptor", r == 6 && kinds == 3 && !(m.msg_flags & MSG_CTRUNC) &&
								  m.msg_controllen == sizeof ctl2);
	return failures ? 1 : 0;
}
