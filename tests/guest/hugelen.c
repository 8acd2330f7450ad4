// Lengths that run past the end of user space: read, write, pread, pwrite
// and their vector forms check the whole range first (fs/read_write.c:
// access_ok(buf, count) in vfs_read and vfs_write, and for each iovec in
// import_iovec, where a negative length is EINVAL), so they fail with EFAULT
// even when the file would give or take fewer bytes, and touch nothing.
// xemu returned short counts (and a write to a pipe blocked).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static int fails(long r, int e) { return r == -1 && errno == e; }

int main(void) {
	// On the stack, high in user space: a length of SSIZE_MAX from it runs
	// past the end on 32-bit ARM (3 or 4 GiB) as on AArch64 (256 TiB).
	char buf[4096];
	int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
	volatile size_t huge = SIZE_MAX, half = SSIZE_MAX;
	int p[2];
	pipe(p);
	errno = 0;
	check("read of SIZE_MAX: EFAULT", fails(read(zero, buf, huge), EFAULT));
	check("read of SSIZE_MAX: EFAULT", fails(read(zero, buf, half), EFAULT));
	check("write of SIZE_MAX: EFAULT", fails(write(null, buf, huge), EFAULT));
	check("write of SSIZE_MAX to a pipe: EFAULT", fails(write(p[1], buf, half), EFAULT));
	check("pread of SSIZE_MAX: EFAULT", fails(pread(zero, buf, half, 0), EFAULT));
	check("pwrite of SSIZE_MAX: EFAULT", fails(pwrite(null, buf, half, 0), EFAULT));
	struct iovec iov = {buf, half};
	check("readv of SSIZE_MAX: EFAULT", fails(readv(zero, &iov, 1), EFAULT));
	check("writev of SSIZE_MAX: EFAULT", fails(writev(null, &iov, 1), EFAULT));
	iov.iov_len = huge;
	check("readv of a negative length: EINVAL", fails(readv(zero, &iov, 1), EINVAL));
	check("writev of a negative length: EINVAL", fails(writev(null, &iov, 1), EINVAL));
	char c = 0;
	check("nothing went into the pipe", write(p[1], "x", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'x');
	check("a read that fits still reads", read(zero, buf, sizeof buf) == sizeof buf);
	return failures != 0;
}
