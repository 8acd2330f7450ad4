// What a hostile or buggy guest does to the emulator's own threads, signals
// and host memory must end the way it ends on Linux, and never in a crash of
// the emulator: tgkill of a thread ID that is no thread of the guest is
// ESRCH (kernel/signal.c do_tkill), kill(0, sig) of a fatal signal kills
// with that signal, a system call that reads or writes a page of a file
// mapping past the end of the file (truncated since) fails with EFAULT, and
// mapping until the map count limit (vm.max_map_count) fails with ENOMEM,
// as does an munmap that splits a mapping in three, and a FIFO is no program. Each case runs in a child so that the way it ends is seen.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void check(const char *what, int ok) {
	printf("%s: %s\n", what, ok ? "ok" : "FAIL");
	fflush(stdout);
	failures += !ok;
}

// killedBy runs fn in a child and returns the signal that ended it (0 if it
// exited, then 1000 + status).
static int killedBy(void (*fn)(void)) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		fn();
		_exit(0);
	}
	int st;
	if (waitpid(c, &st, 0) != c)
		return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 1000 + WEXITSTATUS(st);
}

static int sig;
static void killGroup(void) {
	setpgid(0, 0);
	kill(0, sig);
	pause();
}

static void tgkillStrangers(void) {
	pid_t pid = getpid(), tid = syscall(SYS_gettid);
	int bad = 0;
	for (pid_t t = pid - 64; t < pid + 256; t++) {
		if (t <= 0 || t == tid)
			continue;
		errno = 0;
		if (syscall(SYS_tgkill, pid, t, SIGSEGV) != -1 || errno != ESRCH)
			bad++;
		if (syscall(SYS_tgkill, pid, t, SIGQUIT) != -1 || errno != ESRCH)
			bad++;
		if (syscall(SYS_tkill, t, 0) == 0 && syscall(SYS_tgkill, pid, t, 0) == 0)
			bad++;
	}
	_exit(bad ? 1 : 0);
}

static void truncatedMapping(void) {
	char tmpl[] = "/tmp/xemu-hostile-XXXXXX";
	int fd = mkstemp(tmpl);
	unlink(tmpl);
	long pg = sysconf(_SC_PAGESIZE);
	char page[65536];
	memset(page, 'x', sizeof page);
	write(fd, page, 4 * pg);
	char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ftruncate(fd, 0);
	int ok = 1;
	int p[2];
	pipe(p);
	errno = 0;
	long r = write(p[1], m + pg, 100);
	printf("  write from the page: %ld %s\n", r, strerror(errno));
	if (r != -1 || errno != EFAULT)
		ok = 0;
	write(p[1], "abc", 3);
	errno = 0;
	r = read(p[0], m + 2 * pg, 3);
	printf("  read into the page: %ld %s\n", r, strerror(errno));
	if (r != -1 || errno != EFAULT)
		ok = 0;
	_exit(ok ? 0 : 1);
}

// manyMappings maps until the limit; then an munmap that would split a
// mapping in three is ENOMEM too and leaves it whole (mm/vma.c
// vms_gather_munmap_vmas), while one that trims a mapping works.
static void manyMappings(void) {
	long pg = sysconf(_SC_PAGESIZE);
	long n = 0;
	char *big = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(big, 0x5a, 3 * pg);
	for (;;) {
		// Alternate protections so that no two neighbours merge.
		void *a = mmap(NULL, pg, (n & 1) ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a == MAP_FAILED) {
			printf("  %ld mappings, then %s\n", n, strerror(errno));
			if (errno != ENOMEM)
				_exit(1);
			errno = 0;
			int r = munmap(big + pg, pg);
			printf("  munmap of a middle page: %d %s\n", r, strerror(errno));
			fflush(stdout);
			if (r != -1 || errno != ENOMEM || big[pg] != 0x5a || big[2 * pg - 1] != 0x5a)
				_exit(1);
			r = munmap(big + 2 * pg, pg);
			printf("  munmap of the last page: %d\n", r);
			fflush(stdout);
			_exit(r == 0 && big[pg] == 0x5a ? 0 : 1);
		}
		if (++n > 1000000)
			_exit(2);
	}
}

// execFIFO: a FIFO as the program, or as a script's interpreter, is not
// executed (fs/namei.c may_open: EACCES), and the exec does not wait for a
// writer.
static void execFIFO(void) {
	char dir[] = "/tmp/xemu-fifo-XXXXXX", fifo[64], script[64];
	mkdtemp(dir);
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	snprintf(script, sizeof script, "%s/script", dir);
	mkfifo(fifo, 0755);
	chmod(fifo, 0755);
	FILE *f = fopen(script, "w");
	fprintf(f, "#!%s\n", fifo);
	fclose(f);
	chmod(script, 0755);
	char *argv[] = {fifo, NULL};
	alarm(10);
	errno = 0;
	execv(fifo, argv);
	int ok = errno == EACCES;
	printf("  exec of a FIFO: %s\n", strerror(errno));
	argv[0] = script;
	errno = 0;
	execv(script, argv);
	printf("  exec of a script with a FIFO as interpreter: %s\n", strerror(errno));
	ok = ok && errno == EACCES;
	unlink(fifo);
	unlink(script);
	rmdir(dir);
	_exit(ok ? 0 : 1);
}

int main(void) {
	check("tgkill of threads not the guest's: ESRCH", killedBy(tgkillStrangers) == 1000);
	int sigs[] = {SIGABRT, SIGQUIT, SIGSEGV, SIGBUS, SIGTERM};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		char what[64];
		sig = sigs[i];
		snprintf(what, sizeof what, "kill(0, %s) kills with it", sigabbrev_np(sig));
		check(what, killedBy(killGroup) == sig);
	}
	check("truncated file mapping: EFAULT in calls", killedBy(truncatedMapping) == 1000);
	check("mappings up to the limit, and a splitting munmap: ENOMEM", killedBy(manyMappings) == 1000);
	check("exec of a FIFO: EACCES", killedBy(execFIFO) == 1000);
	return failures != 0;
}
