// Bad pointers of every kind passed to system calls: each must fail with
// EFAULT (or do exactly what Linux does) and never crash the emulator. Raw
// syscall() is used so that glibc does not touch the pointers first.
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define R(expr) report(#expr, (long)(expr))

static long report(const char *what, long r) {
	if (r < 0)
		printf("%s = -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s = %ld\n", what, r);
	return r;
}

static const long page = 4096;

// Addresses no program owns: low, the kernel half, non-canonical, just past
// the 48-bit user space, and the last byte of the address space. A 32-bit
// guest has low ones, one high in its space and the last byte.
static void *const bad[] = {
	(void *)0, (void *)8,
#if UINTPTR_MAX > 0xffffffffu
	(void *)0xffff000000000000ul, (void *)(1ul << 60), (void *)(1ul << 48),
#else
	(void *)0xf0000000ul,
#endif
	(void *)-1ul,
};

// Calls whose raw form differs between 64-bit and 32-bit guests (64-bit
// offsets in register pairs, stat64, ugetrlimit) go through glibc there.
#ifdef __aarch64__
#define RAW_PREAD(fd, buf, n, off) syscall(SYS_pread64, fd, buf, n, off)
#define RAW_PWRITE(fd, buf, n, off) syscall(SYS_pwrite64, fd, buf, n, off)
#define RAW_FSTATAT(dirfd, path, st, flags) syscall(SYS_newfstatat, dirfd, path, st, flags)
#define RAW_GETRLIMIT(res, p) syscall(SYS_getrlimit, res, p)
#define RAW_SETRLIMIT(res, p) syscall(SYS_setrlimit, res, p)
#define RAW_SENDFILE(out, in, off, n) syscall(SYS_sendfile, out, in, off, n)
#else
#define RAW_PREAD(fd, buf, n, off) pread(fd, buf, n, off)
#define RAW_PWRITE(fd, buf, n, off) pwrite(fd, buf, n, off)
#define RAW_FSTATAT(dirfd, path, st, flags) syscall(SYS_fstatat64, dirfd, path, st, flags)
#define RAW_GETRLIMIT(res, p) syscall(SYS_ugetrlimit, res, p)
#define RAW_SETRLIMIT(res, p) syscall(SYS_setrlimit, res, p)
#define RAW_SENDFILE(out, in, off, n) syscall(SYS_sendfile64, out, in, off, n)
#endif

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	char text[1000];
	memset(text, 'd', sizeof text);
	write(fd, text, sizeof text);
	symlink("data", "link");

	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		void *p = bad[i];
		printf("-- bad pointer %u\n", i);
		R(syscall(SYS_write, 1, p, 5));
		R(RAW_PREAD(fd, p, 10, 0));
		R(syscall(SYS_openat, AT_FDCWD, p, O_RDONLY));
		R(RAW_FSTATAT(AT_FDCWD, "data", p, 0));
		R(syscall(SYS_fstat, fd, p));
		R(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, p));
		R(syscall(SYS_uname, p));
		R(syscall(SYS_getrandom, p, 16, 0));
		R(syscall(SYS_readv, fd, p, 1));
		R(syscall(SYS_pipe2, p, 0));
	}

	printf("-- one of each\n");
	R(syscall(SYS_write, 1, (void *)8, 5));
	R(syscall(SYS_read, fd, NULL, 10));
	R(syscall(SYS_write, fd, (void *)8, 0));
	R(syscall(SYS_read, fd, NULL, 0));
	R(syscall(SYS_statx, AT_FDCWD, "data", 0, 0x7ff, (void *)8));
	R(syscall(SYS_statx, AT_FDCWD, (void *)8, 0, 0x7ff, text));
	R(syscall(SYS_getcwd, (void *)8, 100));
	R(syscall(SYS_readlinkat, AT_FDCWD, "link", (void *)8, 100));
	R(syscall(SYS_readlinkat, AT_FDCWD, (void *)8, text, 100));
	R(syscall(SYS_mkdirat, AT_FDCWD, (void *)8, 0755));
	R(syscall(SYS_unlinkat, AT_FDCWD, (void *)8, 0));
	R(syscall(SYS_renameat, AT_FDCWD, "data", AT_FDCWD, (void *)8));
	R(syscall(SYS_symlinkat, (void *)8, AT_FDCWD, "l2"));
	R(syscall(SYS_faccessat, AT_FDCWD, (void *)8, F_OK));
	R(syscall(SYS_chdir, (void *)8));
	R(syscall(SYS_truncate, (void *)8, 0));
	R(syscall(SYS_statfs, ".", (void *)8));
	R(syscall(SYS_fstatfs, fd, (void *)8));
	R(syscall(SYS_getdents64, open(".", O_RDONLY | O_DIRECTORY), (void *)8, 4096));
	R(syscall(SYS_utimensat, AT_FDCWD, "data", (void *)8, 0));
	R(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, (void *)8, NULL));
	R(syscall(SYS_gettimeofday, (void *)8, NULL));
	R(syscall(SYS_times, (void *)8));
	R(syscall(SYS_sysinfo, (void *)8));
	R(syscall(SYS_getrusage, RUSAGE_SELF, (void *)8));
	R(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, (void *)8, NULL));
	R(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, (void *)8));
	R(RAW_GETRLIMIT(RLIMIT_NOFILE, (void *)8));
	R(RAW_SETRLIMIT(RLIMIT_NOFILE, (void *)8));
	R(syscall(SYS_getresuid, (void *)8, (void *)8, (void *)8));
	R(syscall(SYS_getresgid, (void *)8, (void *)8, (void *)8));
	R(syscall(SYS_sched_getaffinity, 0, 128, (void *)8));
	R(syscall(SYS_rt_sigaction, SIGUSR1, (void *)8, NULL, 8));
	R(syscall(SYS_rt_sigaction, SIGUSR1, NULL, (void *)8, 8));
	R(syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)8, NULL, 8));
	R(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, (void *)8, 8));
	R(syscall(SYS_sigaltstack, (void *)8, NULL));
	R(syscall(SYS_sigaltstack, NULL, (void *)8));
	R(syscall(SYS_getitimer, ITIMER_REAL, (void *)8));
	R(syscall(SYS_prctl, PR_SET_NAME, (void *)8, 0, 0, 0));
	R(syscall(SYS_prctl, PR_GET_NAME, (void *)8, 0, 0, 0));
	off_t off = 0;
	int out = open("copy", O_RDWR | O_CREAT | O_TRUNC, 0644);
	R(RAW_SENDFILE(out, fd, (void *)8, 10));
	R(RAW_SENDFILE(out, fd, &off, 10));
	R(syscall(SYS_copy_file_range, fd, (void *)8, out, NULL, 10, 0));
	// 5 is the kernel's F_GETLK: a 32-bit glibc with 64-bit offsets names
	// F_GETLK64 (12) so, which plain fcntl refuses with EINVAL.
	R(syscall(SYS_fcntl, fd, 5, (void *)8));

	// iovec arrays: unreadable array, bad base in the first entry.
	struct iovec iov[2] = {{(void *)8, 10}, {text, 10}};
	R(syscall(SYS_readv, fd, (void *)8, 2));
	R(syscall(SYS_writev, 1, (void *)8, 2));
	R(syscall(SYS_preadv, fd, iov, 2, 0, 0));
	R(syscall(SYS_pwritev, out, iov, 2, 0, 0));

	// A path that runs off the end of the mapped memory, one that ends just
	// before it, and one that is too long.
	char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m + page, page);
	memset(m, 'a', page);
	R(syscall(SYS_openat, AT_FDCWD, m + page - 4, O_RDONLY));
	memcpy(m + page - 5, "data", 5);
	R(syscall(SYS_openat, AT_FDCWD, m + page - 5, O_RDONLY) >= 0);
	char longpath[5000];
	memset(longpath, 'x', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = 0;
	R(syscall(SYS_openat, AT_FDCWD, longpath, O_RDONLY));
	R(syscall(SYS_faccessat, AT_FDCWD, longpath, F_OK));

	// Read-only and PROT_NONE memory.
	R(mprotect(m, page, PROT_READ));
	R(RAW_PREAD(fd, m, 10, 0));
	R(RAW_PWRITE(out, m, 10, 0));
	R(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, m));
	R(mprotect(m, page, PROT_NONE));
	R(RAW_PWRITE(out, m, 10, 0));
	R(syscall(SYS_openat, AT_FDCWD, m + page - 5, O_RDONLY));
	R(RAW_FSTATAT(AT_FDCWD, m + page - 5, text, 0));
	munmap(m, page);

	// An iovec whose second buffer is bad: a regular file moves the first.
	// (A single buffer that runs into an unmapped page gives Linux's short
	// count under xemu, but qemu-user 7.2 says EFAULT, so it is not compared.)
	struct iovec part[2] = {{text, 10}, {(void *)8, 10}};
	R(syscall(SYS_preadv, fd, part, 2, 0, 0));
	R(syscall(SYS_pwritev, out, part, 2, 0, 0));
	close(out);
	close(fd);
	return 0;
}
