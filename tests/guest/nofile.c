// RLIMIT_NOFILE is the limit the program was started with, and it binds:
// lowered, the next descriptor at the limit is EMFILE for every call that
// makes one (open, dup, fcntl F_DUPFD, pipe, socketpair, eventfd), a number
// at or past it is refused by dup2 (EBADF) and F_DUPFD (EINVAL), and closing
// one makes room again. A fork child has the limit; a host program executed
// (sh's ulimit -n) starts with it, lowered or raised. The harness starts
// xemu and qemu-user with a soft limit below the hard one, as most systems
// do: xemu's Go runtime raises its own soft limit to the hard one, which the
// guest must not see. (The guest's own execve: nofile_exec.c.)
// xemu-test: nofile=256
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

// fill opens descriptors until the first failure and says where it stopped.
static int fill(const char *who) {
	int last = -1;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0)
			break;
		last = fd;
	}
	printf("%s: open filled up to %d, then %s\n", who, last, strerror(errno));
	return last;
}

static void close_from(int fd) {
	for (; fd < 256; fd++)
		close(fd);
}

// ulimit_n runs the host's sh, which prints the limits it started with.
static void ulimit_n(const char *what, rlim_t hard) {
	char h[32];
	snprintf(h, sizeof h, "%llu", (unsigned long long)hard);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "echo \"$0: ulimit -n $(ulimit -n), hard kept: $(test $(ulimit -Hn) = $1 && echo yes)\"",
		      what, h, (char *)0);
		_exit(127);
	}
	int st;
	check("sh ran", waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void) {
	struct rlimit r, old;
	check("getrlimit", getrlimit(RLIMIT_NOFILE, &r) == 0);
	rlim_t start = r.rlim_cur, hard = r.rlim_max;
	printf("soft %llu, hard above it: %d\n", (unsigned long long)start, hard > start);
	printf("sysconf(_SC_OPEN_MAX) %ld\n", sysconf(_SC_OPEN_MAX));
	check("prlimit agrees", prlimit(0, RLIMIT_NOFILE, NULL, &old) == 0 && old.rlim_cur == start && old.rlim_max == hard);
	ulimit_n("as started", hard);

	r.rlim_cur = 32;
	check("lower the soft limit to 32", setrlimit(RLIMIT_NOFILE, &r) == 0);
	printf("sysconf(_SC_OPEN_MAX) %ld\n", sysconf(_SC_OPEN_MAX));
	check("a number past it: dup2 EBADF", dup2(0, 40) == -1 && errno == EBADF);
	check("a number past it: F_DUPFD EINVAL", fcntl(0, F_DUPFD, 32) == -1 && errno == EINVAL);
	check("F_DUPFD below it", fcntl(0, F_DUPFD, 31) == 31 && close(31) == 0);
	int last = fill("lowered");
	check("dup: EMFILE", dup(0) == -1 && errno == EMFILE);
	check("F_DUPFD: EMFILE", fcntl(0, F_DUPFD, 3) == -1 && errno == EMFILE);
	int p[2];
	check("pipe: EMFILE", pipe(p) == -1 && errno == EMFILE);
	check("socketpair: EMFILE", socketpair(AF_UNIX, SOCK_STREAM, 0, p) == -1 && errno == EMFILE);
	check("eventfd: EMFILE", eventfd(0, 0) == -1 && errno == EMFILE);
	check("open O_CREAT: EMFILE", open("created", O_CREAT | O_WRONLY, 0600) == -1 && errno == EMFILE);
	check("and nothing created", access("created", F_OK) == -1 && errno == ENOENT);
	check("dup2 onto an open one below it", dup2(0, last) == last);
	close(last - 1);
	check("a closed one is free again", dup(0) == last - 1);
	close(last);
	check("pipe needs two free: EMFILE with one", pipe(p) == -1 && errno == EMFILE);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit c;
		getrlimit(RLIMIT_NOFILE, &c);
		printf("child: soft %llu, hard kept: %d\n", (unsigned long long)c.rlim_cur, c.rlim_max == hard);
		close_from(3);
		fill("child");
		fflush(stdout);
		_exit(0);
	}
	int st;
	check("child exited", waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	close_from(3);
	ulimit_n("lowered", hard);
	r.rlim_cur = 100;
	check("raise the soft limit to 100", setrlimit(RLIMIT_NOFILE, &r) == 0);
	fill("raised");
	close_from(3);
	ulimit_n("raised", hard);
	r.rlim_cur = hard + 1;
	check("soft above hard: EINVAL", setrlimit(RLIMIT_NOFILE, &r) == -1 && errno == EINVAL);
	return failures != 0;
}
