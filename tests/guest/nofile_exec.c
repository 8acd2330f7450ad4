// RLIMIT_NOFILE across the guest's own execve, as Linux keeps it: the
// program lowers its soft limit, executes itself, and finds the lowered
// limit binding there (EMFILE at it); raises it, executes itself again, and
// finds the raised one. The harness starts it with a soft limit below the
// hard one, which the Go runtime raises for xemu itself. qemu-user cannot
// execute a guest program without binfmt_misc, so the program checks
// itself.
// xemu-test: nofile=256
// xemu-test: oracle=self
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"

static void again(const char *stage, rlim_t soft, rlim_t hard) {
	char s[32], h[32];
	snprintf(s, sizeof s, "%llu", (unsigned long long)soft);
	snprintf(h, sizeof h, "%llu", (unsigned long long)hard);
	fflush(stdout);
	execl("/proc/self/exe", "nofile_exec", stage, s, h, (char *)0);
	check("execve", 0);
	exit(1);
}

// binds: the next descriptor at the limit is EMFILE.
static int binds(rlim_t soft) {
	int last = -1;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0)
			break;
		last = fd;
	}
	int ok = errno == EMFILE && last == (int)soft - 1;
	for (int fd = 3; fd <= last; fd++)
		close(fd);
	return ok;
}

int main(int argc, char **argv) {
	struct rlimit r;
	check("getrlimit", getrlimit(RLIMIT_NOFILE, &r) == 0);
	if (argc == 1) {
		check("started with 256", r.rlim_cur == 256 && r.rlim_max > 256);
		r.rlim_cur = 40;
		check("lower to 40", setrlimit(RLIMIT_NOFILE, &r) == 0);
		again("lowered", 40, r.rlim_max);
	}
	rlim_t soft = strtoull(argv[2], 0, 10), hard = strtoull(argv[3], 0, 10);
	printf("%s: soft %llu\n", argv[1], (unsigned long long)r.rlim_cur);
	check("the limits execve kept", r.rlim_cur == soft && r.rlim_max == hard);
	check("the limit binds", binds(soft));
	check("sysconf(_SC_OPEN_MAX)", sysconf(_SC_OPEN_MAX) == (long)soft);
	if (strcmp(argv[1], "lowered") == 0) {
		r.rlim_cur = 300;
		check("raise to 300", setrlimit(RLIMIT_NOFILE, &r) == 0);
		again("raised", 300, hard);
	}
	return failures != 0;
}
