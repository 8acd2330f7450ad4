// The vector forms reach what the scalar ones reach on xemu's own files:
// readv, writev, preadv, pwritev, preadv2 and pwritev2 on /proc/self/mem
// move the guest's own bytes, segment by segment, stopping short where the
// memory ends (EIO when nothing moved), EFAULT for a buffer the caller
// cannot write, the file position advancing for the forms without an
// offset; readv on a signalfd gives whole signalfd_siginfo records across
// the iovecs. qemu-user's /proc/self/mem is its own (see procmem.c), so the
// program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64 // mappings above 2 GiB on ARM
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static char secret[64] = "0123456789abcdefghijklmnopqrstuvwxyz";

int main(void) {
	off_t at = (off_t)(uintptr_t)secret;
	int fd = open("/proc/self/mem", O_RDWR);
	check("open", fd >= 0);

	char a[4] = {0}, b[7] = {0}, c[10] = {0};
	struct iovec in[3] = {{a, 3}, {b, 6}, {c, 9}};
	check("preadv: three segments", preadv(fd, in, 3, at) == 18);
	check("preadv: each its bytes", !strcmp(a, "012") && !strcmp(b, "345678") && !strcmp(c, "9abcdefgh"));

	struct iovec out[2] = {{"ABC", 3}, {"XYZ!", 4}};
	check("pwritev: two segments", pwritev(fd, out, 2, at + 10) == 7);
	check("pwritev: the guest's bytes changed", !strncmp(secret + 8, "89ABCXYZ!hij", 12));

	check("lseek", lseek(fd, at + 20, SEEK_SET) == at + 20);
	memset(a, 0, sizeof a), memset(b, 0, sizeof b);
	struct iovec two[2] = {{a, 2}, {b, 3}};
	check("readv at the file position", readv(fd, two, 2) == 5 && !strcmp(a, "kl") && !strcmp(b, "mno"));
	check("readv advanced the position", lseek(fd, 0, SEEK_CUR) == at + 25);
	check("writev at the file position", writev(fd, out, 1) == 3 && !strncmp(secret + 25, "ABC", 3));
	check("writev advanced the position", lseek(fd, 0, SEEK_CUR) == at + 28);
	memset(a, 0, sizeof a);
	struct iovec one = {a, 2};
	check("preadv2 at -1: the position", preadv2(fd, &one, 1, -1, 0) == 2 && !strcmp(a, "st"));
	check("preadv2 at an offset", preadv2(fd, &one, 1, at, 0) == 2 && !strcmp(a, "01"));
	check("pwritev2 at an offset", pwritev2(fd, out, 1, at + 30, 0) == 3 && !strncmp(secret + 30, "ABC", 3));
	check("preadv2 RWF_NOWAIT: EOPNOTSUPP", preadv2(fd, &one, 1, at, RWF_NOWAIT) == -1 && errno == EOPNOTSUPP);

	// Two pages, the second unmapped: a read that runs into it stops there.
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(0, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("mmap", m != MAP_FAILED);
	munmap(m + pg, pg);
	memcpy(m + pg - 8, "tailbyte", 8);
	off_t end = (off_t)(uintptr_t)(m + pg);
	char x[8] = {0}, y[16] = {0};
	struct iovec span[2] = {{x, 4}, {y, 16}};
	check("preadv into the unmapped page: short", preadv(fd, span, 2, end - 8) == 8);
	check("preadv into the unmapped page: the bytes before it", !strcmp(x, "tail") && !strcmp(y, "byte"));
	check("preadv at the unmapped page: EIO", preadv(fd, span, 2, end) == -1 && errno == EIO);
	struct iovec wspan[2] = {{"WXYZ", 4}, {"0123456789", 10}};
	check("pwritev into the unmapped page: short", pwritev(fd, wspan, 2, end - 8) == 8);
	check("pwritev: what fit", !memcmp(m + pg - 8, "WXYZ0123", 8));

	// A buffer the caller cannot write: EFAULT, or the end of the read.
	struct iovec bad[2] = {{(void *)(uintptr_t)end, 4}, {x, 4}};
	check("preadv into an unmapped buffer: EFAULT", preadv(fd, bad, 2, at) == -1 && errno == EFAULT);
	struct iovec late[2] = {{x, 4}, {(void *)(uintptr_t)end, 4}};
	check("preadv: a bad second buffer ends it", preadv(fd, late, 2, at) == 4);
	check("preadv: a bad iovec array: EFAULT", preadv(fd, (struct iovec *)(uintptr_t)end, 1, at) == -1 && errno == EFAULT);
	close(fd);

	// A signalfd: records laid across the iovecs.
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, 0);
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK);
	check("signalfd", sfd >= 0);
	struct signalfd_siginfo si[2];
	char *raw = (char *)si;
	struct iovec small = {raw, 100};
	check("readv: room for no record: EINVAL", readv(sfd, &small, 1) == -1 && errno == EINVAL);
	check("readv: nothing pending: EAGAIN", readv(sfd, (struct iovec[]){{raw, 100}, {raw + 100, 200}}, 2) == -1 && errno == EAGAIN);
	raise(SIGUSR1);
	raise(SIGUSR2);
	memset(si, 0, sizeof si);
	struct iovec across[3] = {{raw, 100}, {raw + 100, 28 + 100}, {raw + 228, 100}};
	check("readv: two records across three iovecs", readv(sfd, across, 3) == 2 * (ssize_t)sizeof si[0]);
	check("readv: the records", si[0].ssi_signo == SIGUSR1 && si[1].ssi_signo == SIGUSR2 && si[0].ssi_pid == (uint32_t)getpid());
	raise(SIGUSR1);
	struct iovec badsig = {(void *)(uintptr_t)end, 128};
	check("readv into an unmapped buffer: EFAULT", readv(sfd, &badsig, 1) == -1 && errno == EFAULT);
	return failures != 0;
}
