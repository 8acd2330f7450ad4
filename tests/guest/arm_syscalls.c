// The system calls a 32-bit ARM program makes that a 64-bit one does not:
// 64-bit offsets in register pairs (pread64, truncate64, fallocate,
// arm_fadvise64_64, sync_file_range2) and split in two (_llseek, preadv),
// the *64 structures (stat64, statfs64, flock64), mmap2's page offsets, the
// 16-bit and 32-bit uid calls, ugetrlimit, sysinfo, the time32 and time64
// calls side by side, the private set_tls/get_tls/cacheflush calls, and
// ARM/Thumb interworking.
// xemu-test: arch=armhf,armel
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define GiB (1LL << 30)

static const char *err(long r) {
	static char buf[64];
	if (r >= 0) {
		snprintf(buf, sizeof buf, "%ld", r);
		return buf;
	}
	return strerrorname_np(errno);
}

struct timespec32 {
	int32_t sec, nsec;
};
struct timespec64 {
	int64_t sec, nsec;
};

// struct stat64 as arch/arm/include/uapi/asm/stat.h lays it out.
struct kstat64 {
	unsigned long long st_dev;
	unsigned char __pad0[4];
	unsigned long __st_ino;
	unsigned int st_mode, st_nlink;
	unsigned long st_uid, st_gid;
	unsigned long long st_rdev;
	unsigned char __pad3[4];
	long long st_size;
	unsigned long st_blksize;
	unsigned long long st_blocks;
	unsigned long atime, atime_nsec, mtime, mtime_nsec, ctime, ctime_nsec;
	unsigned long long ino;
};

__attribute__((target("thumb"), noinline)) static int thumb_twice(int x) { return 2 * x + 1; }
__attribute__((target("arm"), noinline)) static int arm_call(int (*f)(int), int x) { return f(x) + 100; }
__attribute__((target("arm"), noinline)) static int arm_thrice(int x) { return 3 * x; }
__attribute__((target("thumb"), noinline)) static int thumb_call(int (*f)(int), int x) { return f(x) + 1000; }

static void files(void) {
	int fd = open("big", O_RDWR | O_CREAT | O_TRUNC | O_LARGEFILE, 0644);
	long long r = lseek64(fd, 5 * GiB, SEEK_SET);
	printf("_llseek to 5 GiB: %lld\n", r);
	printf("write there: %s\n", err(write(fd, "x", 1)));
	struct kstat64 st;
	printf("fstat64: %s size %lld mode %o nlink %u\n", err(syscall(SYS_fstat64, fd, &st)), st.st_size, st.st_mode, st.st_nlink);
	printf("st_ino's low half in __st_ino: %d\n", (unsigned long)st.ino == st.__st_ino);
	printf("lseek64 SEEK_END: %lld, SEEK_CUR -4 GiB: %lld\n", (long long)lseek64(fd, 0, SEEK_END), (long long)lseek64(fd, -4 * GiB, SEEK_CUR));

	printf("pwrite64 at 4 GiB + 3: %s\n", err(pwrite64(fd, "pair", 4, 4 * GiB + 3)));
	char buf[8] = "";
	printf("pread64 there: %s %.4s\n", err(pread64(fd, buf, 4, 4 * GiB + 3)), buf);
	struct iovec iov[2] = {{"pre", 3}, {"adv", 3}};
	printf("pwritev at 6 GiB + 1: %s\n", err(pwritev64(fd, iov, 2, 6 * GiB + 1)));
	char a[4] = "", b[4] = "";
	struct iovec in[2] = {{a, 3}, {b, 3}};
	printf("preadv there: %s %.3s%.3s\n", err(preadv64(fd, in, 2, 6 * GiB + 1)), a, b);

	printf("ftruncate64 to 3 GiB: %s\n", err(ftruncate64(fd, 3 * GiB)));
	syscall(SYS_fstat64, fd, &st);
	printf("size %lld\n", st.st_size);
	printf("truncate64 to 3 GiB + 5: %s\n", err(truncate64("big", 3 * GiB + 5)));
	printf("stat64: %s size %lld\n", err(syscall(SYS_stat64, "big", &st)), st.st_size);
	symlink("big", "link");
	printf("lstat64 of a link: %s is link %d\n", err(syscall(SYS_lstat64, "link", &st)), S_ISLNK(st.st_mode));
	printf("fstatat64: %s size %lld\n", err(syscall(SYS_fstatat64, AT_FDCWD, "link", &st, 0)), st.st_size);

	printf("fallocate 4 KiB at 7 GiB: %s\n", err(fallocate64(fd, 0, 7 * GiB, 4096)));
	struct stat64 s64;
	fstat64(fd, &s64);
	printf("size %lld\n", (long long)s64.st_size);
	printf("posix_fadvise at 4 GiB: %d\n", posix_fadvise64(fd, 4 * GiB, GiB, POSIX_FADV_WILLNEED));
	printf("sync_file_range at 4 GiB: %s\n", err(sync_file_range(fd, 4 * GiB, 4096, SYNC_FILE_RANGE_WRITE)));
	printf("readahead at 4 GiB: %s\n", err(readahead(fd, 4 * GiB, 4096)));

	// A lock past 4 GiB through fcntl64 and struct flock64: an OFD lock
	// on one open file description conflicts with another's.
	int fd2 = open("big", O_RDWR | O_LARGEFILE);
	struct flock64 fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 4 * GiB + 10, .l_len = 100};
	printf("F_OFD_SETLK: %s\n", err(fcntl64(fd, F_OFD_SETLK, &fl)));
	struct flock64 q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 4 * GiB, .l_len = 0};
	printf("F_OFD_GETLK: %s type %s start %lld len %lld pid %d\n", err(fcntl64(fd2, F_OFD_GETLK, &q)),
	       q.l_type == F_WRLCK ? "F_WRLCK" : "other", (long long)q.l_start, (long long)q.l_len, q.l_pid);
	struct flock64 mine = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 5 * GiB, .l_len = 10};
	printf("F_SETLK64: %s\n", err(fcntl64(fd2, F_SETLK64, &mine)));
	struct flock64 probe = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	printf("F_GETLK64 by the owner: %s type %s\n", err(fcntl64(fd2, F_GETLK64, &probe)), probe.l_type == F_UNLCK ? "F_UNLCK" : "other");
	close(fd2);

	// mmap2 counts the offset in pages: map the file from 8 KiB.
	int small = open("small", O_RDWR | O_CREAT | O_TRUNC, 0644);
	char page[4096 * 3];
	for (int i = 0; i < 3; i++)
		memset(page + 4096 * i, 'a' + i, 4096);
	write(small, page, sizeof page);
	char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, small, 8192);
	printf("mmap at offset 8192: first byte %c\n", m == MAP_FAILED ? '?' : m[0]);
	char *m2 = (char *)syscall(SYS_mmap2, NULL, 4096, PROT_READ, MAP_SHARED, small, 1);
	printf("mmap2 at page 1: first byte %c\n", m2 == MAP_FAILED ? '?' : m2[0]);

	// statfs64 takes the caller's struct size: 88 (what EABI C libraries
	// pass) and 84 (the packed kernel struct) are both accepted
	// (arm_lfs.c checks that others are not).
	char sfs[88];
	printf("statfs64 size 88: %s, size 84: %s\n", err(syscall(SYS_statfs64, ".", 88, sfs)),
	       err(syscall(SYS_statfs64, ".", 84, sfs)));
	printf("fstatfs64 size 88: %s\n", err(syscall(SYS_fstatfs64, fd, 88, sfs)));
	struct statfs64 sf;
	printf("statfs64: %s block size positive %d\n", err(statfs64(".", &sf)), sf.f_bsize > 0);
	close(fd);
	close(small);
	unlink("big");
	unlink("link");
	unlink("small");
}

static void ids(void) {
	printf("getuid and getuid32 agree: %d\n", syscall(SYS_getuid) == syscall(SYS_getuid32));
	printf("getgid and getgid32 agree: %d\n", syscall(SYS_getgid) == syscall(SYS_getgid32));
	printf("geteuid32 is geteuid(): %d\n", syscall(SYS_geteuid32) == geteuid());
	uint16_t r16[3] = {1, 1, 1};
	uint32_t r32[3];
	syscall(SYS_getresuid, &r16[0], &r16[1], &r16[2]);
	syscall(SYS_getresuid32, &r32[0], &r32[1], &r32[2]);
	printf("getresuid 16-bit agrees: %d\n", r16[0] == r32[0] && r16[1] == r32[1] && r16[2] == r32[2]);
	printf("getgroups and getgroups32 count: %d\n", syscall(SYS_getgroups, 0, NULL) == syscall(SYS_getgroups32, 0, NULL));
	printf("setuid to -1 (0xffff): %s\n", err(syscall(SYS_setreuid, 0xffff, 0xffff)));

	struct rlimit rl, via;
	printf("ugetrlimit: %s\n", err(syscall(SYS_ugetrlimit, RLIMIT_NOFILE, &rl)));
	getrlimit(RLIMIT_NOFILE, &via);
	printf("agrees with getrlimit: %d\n", rl.rlim_cur == via.rlim_cur && rl.rlim_max == via.rlim_max);
	struct sysinfo si;
	printf("sysinfo: %s ram known %d unit ok %d\n", err(sysinfo(&si)), si.totalram > 0,
	       si.mem_unit == 1 || si.mem_unit == 4096);
}

static void times(void) {
	struct timespec32 t32;
	struct timespec64 t64;
	printf("clock_gettime: %s\n", err(syscall(SYS_clock_gettime, CLOCK_REALTIME, &t32)));
	printf("clock_gettime64: %s\n", err(syscall(SYS_clock_gettime64, CLOCK_REALTIME, &t64)));
	printf("they agree: %d\n", t64.sec - t32.sec >= 0 && t64.sec - t32.sec < 5);
	printf("clock_getres_time64: %s %lld.%09lld\n", err(syscall(SYS_clock_getres_time64, CLOCK_MONOTONIC, &t64)),
	       (long long)t64.sec, (long long)t64.nsec);
	struct timespec32 d32 = {0, 1000000};
	struct timespec64 d64 = {0, 1000000};
	printf("nanosleep: %s\n", err(syscall(SYS_nanosleep, &d32, NULL)));
	printf("clock_nanosleep: %s\n", err(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &d32, NULL)));
	printf("clock_nanosleep_time64: %s\n", err(syscall(SYS_clock_nanosleep_time64, CLOCK_MONOTONIC, 0, &d64, NULL)));

	int fd = open("stamp", O_CREAT | O_WRONLY, 0644);
	close(fd);
	struct timespec32 u32[2] = {{1000000000, 0}, {1234567890, 5}};
	struct timespec64 u64[2] = {{1000000000, 0}, {4000000000LL, 7}};
	struct kstat64 st;
	printf("utimensat: %s\n", err(syscall(SYS_utimensat, AT_FDCWD, "stamp", u32, 0)));
	syscall(SYS_stat64, "stamp", &st);
	printf("mtime %lu.%lu\n", st.mtime, st.mtime_nsec);
	printf("utimensat_time64 past 2038: %s\n", err(syscall(SYS_utimensat_time64, AT_FDCWD, "stamp", u64, 0)));
	struct statx sx;
	statx(AT_FDCWD, "stamp", 0, STATX_MTIME, &sx);
	printf("statx mtime %lld.%u\n", (long long)sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec);
	unlink("stamp");

	int word = 1;
	printf("futex wait on a changed word: %s\n", err(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 2, &d32)));
	printf("futex wait times out: %s\n", err(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, &d32)));
	printf("futex_time64 wait times out: %s\n", err(syscall(SYS_futex_time64, &word, FUTEX_WAIT_PRIVATE, 1, &d64)));
}

static void private_calls(void) {
	void *tp = __builtin_thread_pointer();
	printf("get_tls: %d\n", (void *)syscall(0xf0006) == tp);
	printf("set_tls: %s\n", err(syscall(0xf0005, tp)));
	printf("still: %d\n", __builtin_thread_pointer() == tp);
	printf("unknown private call: %s\n", err(syscall(0xf0100)));

	// Code written at run time, then rewritten: cacheflush says so.
	uint32_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	code[0] = 0xe3a00001; // mov r0, #1
	code[1] = 0xe12fff1e; // bx lr
	printf("cacheflush: %s\n", err(syscall(0xf0002, code, code + 2, 0)));
	int (*f)(void) = (int (*)(void))code;
	printf("generated code returns %d\n", f());
	code[0] = 0xe3a00002; // mov r0, #2
	syscall(0xf0002, code, code + 2, 0);
	printf("rewritten code returns %d\n", f());
	uint16_t *thumb = (uint16_t *)(code + 16);
	thumb[0] = 0x2007; // movs r0, #7
	thumb[1] = 0x4770; // bx lr
	syscall(0xf0002, thumb, thumb + 2, 0);
	printf("generated Thumb code returns %d\n", ((int (*)(void))((uintptr_t)thumb | 1))());
}

int main(void) {
	files();
	ids();
	times();
	private_calls();
	printf("ARM calls Thumb: %d\n", arm_call(thumb_twice, 20));
	printf("Thumb calls ARM: %d\n", thumb_call(arm_thrice, 20));
	return 0;
}
