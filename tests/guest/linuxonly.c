// What Linux does and qemu-user 7.2 does not: each check states the
// kernel's behaviour (with where it comes from) and the program exits 0 only
// if every one holds. qemu-user cannot be the oracle for these.
// xemu-test: oracle=self
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

// fails is true when r is -1 with errno e.
static int fails(long r, int e) { return r == -1 && errno == e; }

static const long page = 4096;

static int is_mapped(void *p) {
	unsigned char v;
	return mincore((void *)((uintptr_t)p & ~(page - 1)), page, &v) == 0;
}

static void memory(void) {
	char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 'k';
	// mm/mmap.c: MAP_FIXED_NOREPLACE over a mapping is EEXIST.
	check(fails((long)mmap(p, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST),
	      "MAP_FIXED_NOREPLACE over a mapping: EEXIST");
	check(fails((long)mmap(p + 3 * page, 2 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
			       0),
		    EEXIST),
	      "MAP_FIXED_NOREPLACE overlapping the end: EEXIST");
	check(p[0] == 'k', "the old mapping is untouched");

	unsigned char vec[4];
	check(fails(mincore(p + 1, page, vec), EINVAL), "mincore of an unaligned address: EINVAL");
	check(fails(madvise(p, page, 12345), EINVAL), "madvise with unknown advice: EINVAL");
	check(mprotect(p, 0, PROT_READ) == 0, "mprotect of length 0: 0");
	check(fails((long)mremap(p, page, 0, MREMAP_MAYMOVE), EINVAL), "mremap to length 0: EINVAL");

	// mm/madvise.c: advice applies to the mapped parts of a range with a
	// hole, then ENOMEM is returned.
	memset(p, 'd', 4 * page);
	munmap(p + 2 * page, page);
	check(fails(madvise(p, 4 * page, MADV_DONTNEED), ENOMEM), "madvise over a hole: ENOMEM");
	check(p[0] == 0 && p[3 * page] == 0, "madvise over a hole: mapped pages still zeroed");
	munmap(p, 4 * page);

	// mm/mmap.c brk: shrinking the heap unmaps what it gave up.
	char *cur = (char *)syscall(SYS_brk, 0);
	char *grown = (char *)syscall(SYS_brk, cur + 64 * page);
	check(grown == cur + 64 * page, "brk grows");
	memset(cur, 'h', 64 * page);
	syscall(SYS_brk, cur + 2 * page);
	check(!is_mapped(cur + 32 * page), "brk shrink unmaps the pages given up");
	syscall(SYS_brk, cur);
}

static void partial_buffers(void) {
	int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	char text[1000];
	memset(text, 't', sizeof text);
	write(fd, text, sizeof text);
	char *v = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(v + page, page);
	// A regular file's read and write copy page by page and stop at the
	// first fault with what they moved (mm/filemap.c, generic_perform_write).
	check(pread(fd, v + page - 100, 300, 0) == 100, "pread into a buffer running off the map: 100");
	check(pwrite(fd, v + page - 100, 300, 0) == 100, "pwrite from a buffer running off the map: 100");
	// drivers/char/random.c: getrandom returns what it copied.
	check(getrandom(v + page - 8, 16, 0) == 8, "getrandom into a buffer running off the map: 8");
	check(syscall(SYS_getrandom, NULL, 0, 0) == 0, "getrandom(NULL, 0): 0");
	check(fails(syscall(SYS_clock_getres, CLOCK_MONOTONIC, (void *)8), EFAULT), "clock_getres to a bad pointer: EFAULT");
	check(fails(syscall(SYS_nanosleep, (void *)8, NULL), EFAULT), "nanosleep from a bad pointer: EFAULT");
	munmap(v, page);

	// fs/open.c: 64-bit opens carry O_LARGEFILE, 0400000 on ARM and AArch64.
	check((fcntl(fd, F_GETFL) & 0400000) != 0, "F_GETFL shows O_LARGEFILE");
	// fs/ioctl.c: an unknown request is ENOTTY.
	check(fails(ioctl(fd, 0x12345678, 0), ENOTTY), "unknown ioctl: ENOTTY");
	close(fd);
}

static void signals(void) {
	// kernel/signal.c do_sigaltstack: a stack below MINSIGSTKSZ (5120 on
	// arm64, 2048 on arm: arch/*/include/uapi/asm/signal.h) is ENOMEM.
	{
		static char altmem[8192];
		stack_t ss = {.ss_sp = altmem, .ss_size = 4096, .ss_flags = 0};
		long r = sigaltstack(&ss, NULL);
#ifdef __aarch64__
		check(fails(r, ENOMEM), "sigaltstack of 4096 bytes is ENOMEM on arm64");
#else
		check(r == 0, "sigaltstack of 4096 bytes is accepted on arm");
#endif
		ss.ss_flags = SS_DISABLE;
		sigaltstack(&ss, NULL);
	}
	// kernel/signal.c do_sigaction: SIGKILL and SIGSTOP leave a handler's mask.
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR1, NULL, &old);
	check(!sigismember(&old.sa_mask, SIGKILL) && !sigismember(&old.sa_mask, SIGSTOP) &&
		      sigismember(&old.sa_mask, SIGTERM),
	      "sigaction mask drops SIGKILL and SIGSTOP");
	sa.sa_handler = SIG_DFL;
	sigaction(SIGUSR1, &sa, NULL);

	// Every signal but SIGKILL and SIGSTOP can be blocked, 63 and 64 too.
	uint64_t all = ~0ull, got = 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 8);
	check(got == 0xfffffffffffbfeffull, "all signals but SIGKILL and SIGSTOP block");
	all = 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);

	// kernel/signal.c: rt_sigpending writes sigsetsize bytes.
	uint64_t pend = ~0ull;
	check(syscall(SYS_rt_sigpending, &pend, 4) == 0 && pend == 0xffffffff00000000ull,
	      "rt_sigpending writes only the size asked");

	// SS_AUTODISARM may be added to a stack and is reported back.
	static char alt[65536];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = (int)(1u << 31)}, o;
	check(sigaltstack(&ss, NULL) == 0, "sigaltstack accepts SS_AUTODISARM");
	sigaltstack(NULL, &o);
	check((unsigned)o.ss_flags == 1u << 31 && o.ss_size == sizeof alt, "sigaltstack reports SS_AUTODISARM");
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
}

static void process(void) {
	// kernel/sys.c compat_sysinfo: a 32-bit task gets sizes in larger units
	// (mem_unit) when they do not fit 32 bits, never truncated ones.
	struct sysinfo si;
	check(sysinfo(&si) == 0 && si.mem_unit > 0 && si.freeram <= si.totalram &&
	          (unsigned long long)si.totalram * si.mem_unit >= 64ull << 20,
	      "sysinfo: sizes scaled, freeram <= totalram, totalram >= 64 MiB");

	// kernel/sys.c prctl.
	int reaper = -1;
	check(prctl(PR_GET_CHILD_SUBREAPER, &reaper) == 0 && reaper == 0, "PR_GET_CHILD_SUBREAPER: 0");
	check(prctl(PR_GET_SECCOMP) == 0, "PR_GET_SECCOMP: 0");

	// kernel/futex: the robust list glibc registered, then ours.
	struct robust_list_head *head = NULL;
	size_t len = 0;
	check(syscall(SYS_get_robust_list, 0, &head, &len) == 0 && head != NULL && len == sizeof *head,
	      "get_robust_list: libc's list");
	static struct robust_list_head mine;
	check(syscall(SYS_set_robust_list, &mine, sizeof mine) == 0, "set_robust_list");
	syscall(SYS_get_robust_list, 0, &head, &len);
	check(head == &mine, "get_robust_list: the list set");
	check(fails(syscall(SYS_set_robust_list, &mine, 7), EINVAL), "set_robust_list with a bad size: EINVAL");
	syscall(SYS_set_robust_list, head, len);

	// kernel/sys.c: RLIMIT_STACK is recorded like any limit.
	struct rlimit old, l;
	getrlimit(RLIMIT_STACK, &old);
	l = (struct rlimit){4 << 20, old.rlim_max};
	setrlimit(RLIMIT_STACK, &l);
	getrlimit(RLIMIT_STACK, &l);
	check(l.rlim_cur == 4 << 20, "RLIMIT_STACK reads back what was set");
	setrlimit(RLIMIT_STACK, &old);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	memory();
	partial_buffers();
	signals();
	process();
	printf("%d failures\n", failures);
	return failures != 0;
}
