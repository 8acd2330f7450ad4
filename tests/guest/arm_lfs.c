// What a 32-bit ARM kernel answers where qemu-arm does not: the non-LFS
// calls refuse values their 32-bit types cannot hold (EOVERFLOW), system
// calls refuse kernel addresses, the vector page cannot be changed, user
// space ends below it, and the private calls check their arguments. Each
// check names the kernel code it follows; the program is its own oracle.
// xemu-test: arch=armhf,armel
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GiB (1LL << 30)

static int failures;

static void check(int ok, const char *what) {
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

// r is a raw system call's result: -1 with errno e?
static int fails(long r, int e) { return r == -1 && errno == e; }

// struct flock with 32-bit off_t (asm-generic/fcntl.h).
struct flock32 {
	short l_type, l_whence;
	int32_t l_start, l_len, l_pid;
};

int main(void) {
	int fd = syscall(SYS_openat, AT_FDCWD, "big", O_RDWR | O_CREAT | O_TRUNC | O_LARGEFILE, 0644);
	long long pos;
	syscall(SYS__llseek, fd, 0, (long)(3 * GiB - 1) & 0xffffffff, &pos, SEEK_SET);
	write(fd, "z", 1);
	int small = syscall(SYS_openat, AT_FDCWD, "small", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(small, "hello", 5);

	// fs/read_write.c ksys_lseek: the result must fit off_t.
	check(fails(syscall(SYS_lseek, fd, 0x7fffffff, SEEK_SET), 0) == 0 &&
		      syscall(SYS_lseek, fd, 0x7fffffff, SEEK_SET) == 0x7fffffff,
	      "lseek to 2 GiB - 1 is fine");
	check(fails(syscall(SYS_lseek, fd, 0, SEEK_END), EOVERFLOW), "lseek past 2 GiB: EOVERFLOW");
	syscall(SYS__llseek, fd, 0, 0, &pos, SEEK_CUR);
	check(pos == 3 * GiB, "... and the position moved all the same");

	// fs/open.c generic_file_open: no O_LARGEFILE, no file past 2 GiB.
	check(fails(syscall(SYS_openat, AT_FDCWD, "big", O_RDONLY), EOVERFLOW), "open of a 3 GiB file without O_LARGEFILE: EOVERFLOW");
	int t = syscall(SYS_openat, AT_FDCWD, "big", O_WRONLY | O_TRUNC);
	struct stat64 st;
	stat64("big", &st);
	check(t == -1 && st.st_size == 3 * GiB, "... and O_TRUNC did not act");
	int ok = syscall(SYS_openat, AT_FDCWD, "big", O_RDONLY | O_LARGEFILE);
	check(ok >= 0, "with O_LARGEFILE it opens");
	close(ok);
	ok = syscall(SYS_openat, AT_FDCWD, "small", O_RDONLY);
	check(ok >= 0, "a small file opens without O_LARGEFILE");
	close(ok);

	// fs/stat.c cp_new_stat: the old struct stat's st_size is a long.
	char old[64];
	check(fails(syscall(SYS_fstat, fd, old), EOVERFLOW), "fstat of a 3 GiB file: EOVERFLOW");
	check(fails(syscall(SYS_stat, "big", old), EOVERFLOW), "stat of it: EOVERFLOW");
	check(syscall(SYS_fstat, small, old) == 0 && *(uint32_t *)(old + 20) == 5, "fstat of a small file: size 5");
	check(syscall(SYS_lstat, "small", old) == 0 && (*(uint16_t *)(old + 8) & S_IFMT) == S_IFREG, "lstat: a regular file");

	// fs/locks.c posix_lock_to_flock: a lock past what off_t holds.
	int fd2 = syscall(SYS_openat, AT_FDCWD, "big", O_RDWR | O_LARGEFILE);
	struct flock64 far = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 3 * GiB, .l_len = 10};
	check(fcntl64(fd, F_OFD_SETLK, &far) == 0, "an OFD lock at 3 GiB");
	struct flock32 q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	check(fails(syscall(SYS_fcntl, fd2, F_GETLK, &q), EOVERFLOW), "fcntl F_GETLK finding it through struct flock: EOVERFLOW");
	struct flock64 q64 = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	check(syscall(SYS_fcntl64, fd2, F_GETLK64, &q64) == 0 && q64.l_start == 3 * GiB, "fcntl64 F_GETLK64 reports it");
	struct flock32 near = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 10};
	check(syscall(SYS_fcntl, small, F_SETLK, &near) == 0, "fcntl F_SETLK with struct flock");

	// arch/arm/kernel/entry-common.S sys_statfs64_wrapper: sizes 84 and 88.
	char sfs[96];
	check(syscall(SYS_statfs64, ".", 88, sfs) == 0 && syscall(SYS_statfs64, ".", 84, sfs) == 0, "statfs64 with sizes 88 and 84");
	check(fails(syscall(SYS_statfs64, ".", 80, sfs), EINVAL) && fails(syscall(SYS_fstatfs64, fd, 96, sfs), EINVAL),
	      "statfs64 with another size: EINVAL");

	// The vector page: mapped, readable, executable, not the program's
	// to change, not readable by system calls (access_ok), and above user
	// space.
	check(*(volatile int32_t *)0xffff0ffc == 5, "the kuser helper version reads 5");
	check(fails(write(1, (void *)0xffff0fe0, 4), EFAULT), "write from the vector page: EFAULT");
	check(fails(munmap((void *)0xffff0000, 4096), EINVAL), "munmap of the vector page: EINVAL");
	check(fails(mprotect((void *)0xffff0000, 4096, PROT_READ | PROT_WRITE), ENOMEM), "mprotect of it: ENOMEM");
	check(mmap((void *)0xffff0000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED && errno == ENOMEM,
	      "MAP_FIXED over it: ENOMEM");
	void *hint = mmap((void *)0xfff00000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(hint != MAP_FAILED && (uintptr_t)hint < 0xbf000000, "a hint above user space is not taken");
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[256];
	int vectors = 0;
	while (maps && fgets(line, sizeof line, maps))
		if (strncmp(line, "ffff0000-ffff1000 r-xp ", 23) == 0 && strstr(line, "[vectors]"))
			vectors = 1;
	check(vectors, "/proc/self/maps lists [vectors]");
	int local;
	uintptr_t sp = (uintptr_t)&local;
	check(sp < 0xbf000000 && sp > 0xbf000000 - 16 * 1024 * 1024, "the stack is just below TASK_SIZE (0xbf000000)");
	// arch/arm/kernel/traps.c do_cache_op.
	uint32_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(code == MAP_FAILED || syscall(0xf0002, code, code + 4, 0) == 0, "cacheflush of mapped code");
	check(fails(syscall(0xf0002, code + 4, code, 0), EINVAL), "cacheflush with end before start: EINVAL");
	check(fails(syscall(0xf0002, code, code + 4, 1), EINVAL), "cacheflush with flags: EINVAL");
	munmap(code, 4096);
	check(fails(syscall(0xf0002, code, code + 4, 0), EFAULT), "cacheflush of unmapped memory: EFAULT");
	check(fails(syscall(0xf0002, 0xffff0000, 0xffff0100, 0), EFAULT), "cacheflush of the vector page: EFAULT");

	close(fd);
	close(fd2);
	close(small);
	unlink("big");
	unlink("small");
	// Last, as it uses up the address space: mmap hands out user space
	// below TASK_SIZE until there is none.
	static void *maps_made[64];
	int made = 0, below = 1;
	size_t total = 0;
	void *p;
	while (made < 64 && (p = mmap(NULL, 64 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)) != MAP_FAILED) {
		maps_made[made++] = p;
		total += 64 << 20;
		if ((uintptr_t)p + (64 << 20) > 0xbf000000)
			below = 0;
	}
	int e = errno;
	while (made > 0)
		munmap(maps_made[--made], 64 << 20);
	check(below && e == ENOMEM && total > 2 * GiB && total < 3 * GiB, "mmap fills user space below 0xbf000000, then ENOMEM");
	printf("%d failures\n", failures);
	return failures != 0;
}
