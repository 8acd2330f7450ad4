// membarrier registrations belong to the program's memory: execve drops
// them (membarrier_exec_mmap), so the new program's private expedited
// barriers are EPERM until it registers itself, and GET_REGISTRATIONS (on
// kernels that have it) reports none.
// qemu-user cannot execute a guest program without binfmt_misc, so the
// program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)
#endif

static int failures;

static long mb(int cmd) { return syscall(SYS_membarrier, cmd, 0, 0); }

static void check(int ok, const char *what) {
	if (!ok) {
		printf("FAIL: %s (errno %s)\n", what, strerrorname_np(errno));
		failures++;
	}
}

int main(int argc, char **argv) {
	long q = mb(MEMBARRIER_CMD_QUERY);
	int sync = q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE);
	if (q < 0 || !(q & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
		printf("no private expedited membarrier\n");
		return 0;
	}
	if (argc < 2) {
		errno = 0;
		check(mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == -1 && errno == EPERM, "unregistered barrier EPERM");
		check(mb(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0, "register");
		check(mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0, "registered barrier");
		check(mb(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0, "register global");
		if (sync) {
			check(mb(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE) == 0, "register sync-core");
			check(mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) == 0, "registered sync-core barrier");
		}
		long regs = mb(MEMBARRIER_CMD_GET_REGISTRATIONS);
		if (regs >= 0) {
			long want = MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED |
				    (sync ? MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE : 0);
			check(regs == want, "registrations before execve");
		}
		if (failures)
			return 1;
		char self[PATH_MAX];
		if (!realpath("/proc/self/exe", self)) {
			printf("FAIL: realpath: %s\n", strerrorname_np(errno));
			return 1;
		}
		char *args[] = {self, "after", NULL};
		execv(self, args);
		printf("FAIL: execve: %s\n", strerrorname_np(errno));
		return 1;
	}
	errno = 0;
	check(mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == -1 && errno == EPERM, "barrier EPERM after execve");
	if (sync) {
		errno = 0;
		check(mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) == -1 && errno == EPERM, "sync-core barrier EPERM after execve");
	}
	long regs = mb(MEMBARRIER_CMD_GET_REGISTRATIONS);
	if (regs >= 0)
		check(regs == 0, "no registrations after execve");
	check(mb(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0, "register again");
	check(mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0, "barrier after registering again");
	regs = mb(MEMBARRIER_CMD_GET_REGISTRATIONS);
	if (regs >= 0)
		check(regs == MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, "registration after execve");
	if (failures)
		return 1;
	printf("membarrier registrations reset\n");
	return 0;
}
