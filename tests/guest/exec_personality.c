// The personality survives execve (fs/exec.c keeps current->personality
// but for PER_CLEAR_ON_SETID on a setuid exec): ADDR_NO_RANDOMIZE set
// before an execve done in xemu's process and before one of a process that
// has had a second thread, which xemu does by executing itself again. With
// it, both programs' first anonymous mapping lands at the same address.
// qemu-user cannot execute a guest program without binfmt_misc, so the
// program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
	if (!ok) {
		printf("FAIL: %s\n", what);
		failures++;
	}
}

static void *nothing(void *arg) { return arg; }

static void next(const char *self, const char *stage, unsigned long addr) {
	char a[24];
	snprintf(a, sizeof a, "%016lx", addr);
	char *args[] = {(char *)self, (char *)stage, a, NULL};
	fflush(stdout);
	execv(self, args);
	printf("FAIL: execve: %s\n", strerrorname_np(errno));
	exit(1);
}

int main(int argc, char **argv) {
	char self[PATH_MAX];
	if (!realpath("/proc/self/exe", self)) {
		printf("FAIL: realpath: %s\n", strerrorname_np(errno));
		return 1;
	}
	if (argc < 2) {
		check(personality(ADDR_NO_RANDOMIZE) == 0, "personality set");
		next(self, "inprocess", 0);
	}
	int per = personality(0xffffffff);
	check(per == ADDR_NO_RANDOMIZE, argv[1]);
	if (per != ADDR_NO_RANDOMIZE)
		printf("%s: personality %#x\n", argv[1], per);
	unsigned long addr = (unsigned long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (strcmp(argv[1], "inprocess") == 0) {
		// A second thread: the next execve is xemu's re-execution.
		pthread_t th;
		pthread_create(&th, NULL, nothing, NULL);
		pthread_join(th, NULL);
		next(self, "reexecuted", addr);
	}
	unsigned long before = strtoul(argv[2], NULL, 16);
	check(addr == before, "same layout without randomization");
	if (addr != before)
		printf("first mapping at %#lx, before the execve at %#lx\n", addr, before);
	if (failures)
		return 1;
	printf("personality kept\n");
	return 0;
}
