// No call reaches a descriptor the program did not open, xemu's own
// included (its Go runtime's, its log's, its copies of /proc and of its
// binary): each of these calls on every descriptor number up to 4096 the
// program has not opened fails with EBADF, as on Linux, where there is
// nothing behind them.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
	int bad = 0, checked = 0;
	for (int fd = 0; fd < 4096; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		struct stat st;
		char c;
		struct iovec iov = {&c, 1};
		int sv;
		socklen_t sl = sizeof sv;
#define C(expr)                                                                   \
	do {                                                                      \
		errno = 0;                                                        \
		long r_ = (long)(expr);                                           \
		checked++;                                                        \
		if (r_ != -1 || errno != EBADF) {                                 \
			printf("fd %d: %s = %ld (%s), not EBADF\n", fd, #expr, r_, strerror(errno)); \
			bad++;                                                    \
		}                                                                 \
	} while (0)
		C(read(fd, &c, 1));
		C(write(fd, &c, 0));
		C(pread(fd, &c, 1, 0));
		C(readv(fd, &iov, 1));
		C(writev(fd, &iov, 1));
		C(lseek(fd, 0, SEEK_CUR));
		C(fstat(fd, &st));
		C(fstatat(fd, "", &st, AT_EMPTY_PATH));
		C(ftruncate(fd, 0));
		C(fchmod(fd, 0600));
		C(fchown(fd, -1, -1));
		C(fsync(fd));
		C(fdatasync(fd));
		C(fcntl(fd, F_GETFL));
		C(fcntl(fd, F_DUPFD, 0));
		C(dup(fd));
		C(dup3(fd, fd == 4095 ? 4094 : 4095, 0));
		C(dup2(fd, fd));
		C(flock(fd, LOCK_SH | LOCK_NB));
		C(ioctl(fd, FIONREAD, &sv));
		C(getsockopt(fd, SOL_SOCKET, SO_TYPE, &sv, &sl));
		C(fchdir(fd));
		C(openat(fd, "x", O_RDONLY));
		C(syscall(SYS_getdents64, fd, &st, sizeof st));
		C(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
		C(close(fd));
	}
	printf("%s: %d calls on descriptors not open\n", bad ? "FAIL" : "ok", checked);
	return bad != 0;
}
