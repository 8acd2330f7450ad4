// vfork and clone(CLONE_VM|CLONE_VFORK) as Linux gives them (vfork(2),
// posix_spawn(3)): the child's writes to memory before it executes or exits
// are the parent's (glibc's posix_spawn reports the exec's errno that way,
// so spawning a missing program fails with ENOENT), while its descriptor
// table is its own (dup2 in the child leaves the parent's descriptors as
// they were). qemu-user makes vfork a fork (posix_spawn returns 0 and the
// child exits 127), so the program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

static volatile int shared_word = 1;
static char shared_buf[64];

int main(void) {
	// posix_spawn of a program that does not exist: the error, not a child
	// that exits 127.
	pid_t pid = -1;
	char *argv[] = {"missing", NULL};
	int r = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, argv, environ);
	check("posix_spawn of a missing program returns ENOENT", r == ENOENT);
	r = posix_spawnp(&pid, "no-such-program-xemu", NULL, NULL, argv, environ);
	check("posix_spawnp of a missing program returns ENOENT", r == ENOENT);

	// And of one that exists: 0 and a child to wait for.
	char *trueargv[] = {"sh", "-c", "exit 3", NULL};
	r = posix_spawn(&pid, "/bin/sh", NULL, NULL, trueargv, environ);
	int st = 0;
	check("posix_spawn of /bin/sh returns 0", r == 0);
	check("and its child exits 3", r == 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3);

	// vfork: the child's writes before _exit are the parent's.
	fflush(stdout);
	pid = vfork();
	if (pid == 0) {
		shared_word = 42;
		strcpy(shared_buf, "written by the vfork child");
		_exit(0);
	}
	check("vfork child's write to a global seen by the parent", shared_word == 42);
	check("vfork child's string seen by the parent", strcmp(shared_buf, "written by the vfork child") == 0);
	check("vfork child reaped", waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	// vfork + dup2 + exec: the child's descriptor changes stay its own.
	int p[2];
	if (pipe(p) != 0)
		return 1;
	int saved = dup(1);
	pid = vfork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl("/bin/sh", "sh", "-c", "echo from-child", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[64] = {0};
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	check("vfork+dup2+exec child wrote to the pipe", n > 0 && strcmp(buf, "from-child\n") == 0);
	check("parent's stdout is still its own", fcntl(1, F_GETFD) >= 0 && fcntl(p[0], F_GETFD) < 0);
	struct stat a, b;
	check("parent's descriptor 1 unchanged by the child's dup2", fstat(1, &a) == 0 && fstat(saved, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	check("vfork+exec child reaped", waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	// vfork then a failing exec: the errno the child saw, written back.
	static volatile int child_errno;
	pid = vfork();
	if (pid == 0) {
		execl("/nonexistent/program", "x", (char *)NULL);
		child_errno = errno;
		_exit(127);
	}
	check("vfork child's errno from a failed exec seen by the parent", child_errno == ENOENT);
	waitpid(pid, &st, 0);
	return failures != 0;
}
