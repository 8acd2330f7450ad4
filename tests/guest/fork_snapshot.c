// Memory a fork child inherited, used by the child as anonymous memory:
// read back intact; MADV_DONTNEED zeroes it; MADV_FREE is accepted;
// mremap grows it with zeroes after the old content; MADV_WIPEONFORK keeps
// it in the child and gives its own child zeroes; and nested forks (three
// generations) each keep an exact snapshot: writes made on either side
// after a fork never appear on the other. The program checks itself (each
// process exits 1 on a wrong answer): qemu-user ignores MADV_WIPEONFORK.
// xemu-test: oracle=self
// xemu-test: modes=static,dynamic
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024 * 1024)
#define BIG (8 * MIB)
#define SMALL (4 * MIB)

static unsigned char *big, *small;
static int wrong;

// fill writes a pattern that differs per page and per seed.
static void fill(unsigned char *p, size_t n, int seed) {
	for (size_t i = 0; i < n; i += 64)
		p[i] = (unsigned char)(seed * 31 + i / 4096 * 7 + i / 64);
}

// check reports the first byte of [p, p+n) that is not the pattern (or not
// zero, for seed -1), or -1.
static long check(const unsigned char *p, size_t n, int seed) {
	for (size_t i = 0; i < n; i += 64) {
		unsigned char want = seed < 0 ? 0 : (unsigned char)(seed * 31 + i / 4096 * 7 + i / 64);
		if (p[i] != want)
			return (long)i;
	}
	return -1;
}

static void report(const char *who, const char *what, long bad) {
	if (bad < 0)
		printf("%s: %s ok\n", who, what);
	else
		printf("%s: %s WRONG at %#lx\n", who, what, (unsigned long)bad);
	wrong |= bad >= 0;
}

static int wait_for(pid_t pid) {
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// grandchild: the third generation, forked by the grandchild.
static void great(void) {
	report("great", "first 2 MiB from the child", check(big, 2 * MIB, 2));
	report("great", "grandchild's write", check(big + 2 * MIB, MIB, 3));
	report("great", "zeroed MiB", check(big + 3 * MIB, MIB, -1));
	report("great", "rest from the parent", check(big + 4 * MIB, 3 * MIB, 1));
	fill(big, BIG, 9); // the grandchild must not see this
	fflush(stdout);
	_exit(wrong);
}

static void grandchild(int go) {
	report("grandchild", "first 2 MiB from the child", check(big, 2 * MIB, 2));
	report("grandchild", "zeroed MiB", check(big + 3 * MIB, MIB, -1));
	report("grandchild", "wiped on fork", check(big + 7 * MIB, MIB, -1));
	report("grandchild", "grown mapping", check(small, SMALL, 4));
	report("grandchild", "grown mapping's new part", check(small + SMALL, 2 * MIB, -1));
	// Wait until the child has written its 5th MiB after the fork.
	char c;
	if (read(go, &c, 1) != 1)
		printf("grandchild: no go\n"), wrong = 1;
	report("grandchild", "child's write after the fork not seen", check(big + 4 * MIB, MIB, 1));
	fill(big + 2 * MIB, MIB, 3);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		great();
	int st = wait_for(pid);
	printf("grandchild: great-grandchild status %d\n", st);
	wrong |= st != 0;
	report("grandchild", "great-grandchild's write not seen", check(big, 2 * MIB, 2));
	report("grandchild", "own write", check(big + 2 * MIB, MIB, 3));
	fflush(stdout);
	_exit(wrong);
}

static void child(void) {
	report("child", "inherited big", check(big, BIG, 1));
	report("child", "inherited small", check(small, SMALL, 4));
	int r = madvise(big + 3 * MIB, MIB, MADV_DONTNEED);
	printf("child: MADV_DONTNEED %d\n", r);
	wrong |= r != 0;
	report("child", "zeroed MiB", check(big + 3 * MIB, MIB, -1));
	report("child", "around the zeroed MiB", check(big + 2 * MIB, MIB, 1) < 0 ? check(big + 4 * MIB, MIB, 1) : 0);
	r = madvise(big + 6 * MIB, MIB, MADV_FREE);
	printf("child: MADV_FREE %d\n", r);
	wrong |= r != 0;
	fill(big + 6 * MIB, MIB, 1); // written again: the content is defined
	r = madvise(big + 7 * MIB, MIB, MADV_WIPEONFORK);
	printf("child: MADV_WIPEONFORK %d\n", r);
	wrong |= r != 0;
	report("child", "wipe-on-fork memory kept", check(big + 7 * MIB, MIB, 1));
	unsigned char *grown = mremap(small, SMALL, SMALL + 2 * MIB, MREMAP_MAYMOVE);
	if (grown == MAP_FAILED) {
		printf("child: mremap failed\n");
		wrong = 1;
	} else {
		small = grown;
		report("child", "grown mapping", check(small, SMALL, 4));
		report("child", "grown mapping's new part", check(small + SMALL, 2 * MIB, -1));
	}
	fill(big, 2 * MIB, 2);
	int p[2];
	if (pipe(p) != 0)
		exit(1);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		grandchild(p[0]);
	}
	close(p[0]);
	fill(big + 4 * MIB, MIB, 5);
	write(p[1], "g", 1);
	int st = wait_for(pid);
	printf("child: grandchild status %d\n", st);
	wrong |= st != 0;
	report("child", "grandchild's write not seen", check(big + 2 * MIB, MIB, 1));
	report("child", "own write after the fork", check(big + 4 * MIB, MIB, 5));
	report("child", "wipe-on-fork memory still kept", check(big + 7 * MIB, MIB, 1));
	fflush(stdout);
	_exit(wrong);
}

int main(void) {
	big = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	small = mmap(NULL, SMALL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED || small == MAP_FAILED)
		return 1;
	fill(big, BIG, 1);
	fill(small, SMALL, 4);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		child();
	fill(big + 2 * MIB, MIB, 6); // the child must not see this
	int st = wait_for(pid);
	printf("parent: child status %d\n", st);
	wrong |= st != 0;
	report("parent", "child's writes not seen", check(big, 2 * MIB, 1));
	report("parent", "own write", check(big + 2 * MIB, MIB, 6));
	report("parent", "zeroing in the child not seen", check(big + 3 * MIB, MIB, 1));
	report("parent", "small", check(small, SMALL, 4));
	return wrong;
}
