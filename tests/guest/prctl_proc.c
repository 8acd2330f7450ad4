// prctl for processes: the parent-death signal (delivered once when the
// parent exits, to a handler or with its default action, not inherited by a
// fork, kept across execve), the child subreaper flag, no_new_privs
// (inherited, cannot be unset), and the thread name as /proc/self/comm and
// stat show it. qemu-user does not pass the subreaper flag on and shows the
// emulator's stat, so the program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int report = -1;
static void on_usr1(int sig) {
	char c = 'U';
	(void)sig;
	write(report, &c, 1);
}

// The middle process forks the grandchild, which sets its parent-death
// signal and says so; then the middle process exits.
static char self[4096];

// The grandchild after an execve: the setting survived it.
static int exec_child(int ready, int sig) {
	int got = -1;
	prctl(PR_GET_PDEATHSIG, &got);
	char c = got == sig ? 'r' : 'x';
	write(ready, &c, 1);
	for (;;)
		pause();
	return 0;
}

static pid_t grandchild_with_pdeathsig(int sig, int to[2], int exec) {
	int ready[2];
	pipe(ready);
	fflush(stdout);
	pid_t mid = fork();
	if (mid == 0) {
		pid_t gc = fork();
		if (gc == 0) {
			// Should the test fail, the grandchild must not hold the
			// test's output open or live on.
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			dup2(null, 2);
			close(null);
			alarm(60);
			report = to[1];
			signal(SIGUSR1, on_usr1);
			prctl(PR_SET_PDEATHSIG, sig);
			if (exec) {
				char r[16], n[16];
				snprintf(r, sizeof r, "%d", ready[1]);
				snprintf(n, sizeof n, "%d", sig);
				execl(self, self, "exec-child", r, n, (char *)NULL);
				_exit(127);
			}
			int got = -1;
			prctl(PR_GET_PDEATHSIG, &got);
			char c = got == sig ? 'r' : 'x';
			write(ready[1], &c, 1);
			for (;;)
				pause();
		}
		char c;
		read(ready[0], &c, 1);
		write(to[1], &c, 1);
		write(to[1], &gc, sizeof gc);
		_exit(0);
	}
	int st;
	waitpid(mid, &st, 0);
	close(ready[0]);
	close(ready[1]);
	return mid;
}

static void pdeathsig(void) {
	check("PR_SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	int v = -1;
	check("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &v) == 0 && v == 1);

	int to[2];
	pipe(to);
	grandchild_with_pdeathsig(SIGUSR1, to, 0);
	char c = 0;
	pid_t gc = 0;
	read(to[0], &c, 1);
	read(to[0], &gc, sizeof gc);
	check("PR_GET_PDEATHSIG", c == 'r');
	c = 0;
	read(to[0], &c, 1);
	check("SIGUSR1 handled when the parent exited", c == 'U');
	kill(gc, SIGKILL);
	int st;
	check("the orphan came to the subreaper", waitpid(gc, &st, 0) == gc && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	grandchild_with_pdeathsig(SIGTERM, to, 0);
	read(to[0], &c, 1);
	read(to[0], &gc, sizeof gc);
	pid_t w = waitpid(gc, &st, 0);
	check("killed by its default action (SIGTERM)", w == gc && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	if (w != gc || !WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
		printf("waitpid %d for %d: status %#x, c %c\n", (int)w, (int)gc, st, c);

	grandchild_with_pdeathsig(SIGTERM, to, 1);
	c = 0;
	read(to[0], &c, 1);
	read(to[0], &gc, sizeof gc);
	check("kept across execve", c == 'r');
	check("and sent after it", waitpid(gc, &st, 0) == gc && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	close(to[0]);
	close(to[1]);

	prctl(PR_SET_PDEATHSIG, SIGUSR2);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int got = -1;
		prctl(PR_GET_PDEATHSIG, &got);
		_exit(got == 0 ? 0 : 1);
	}
	check("not inherited by a fork", waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	prctl(PR_SET_PDEATHSIG, 0);
	errno = 0;
	check("bad signal: EINVAL", prctl(PR_SET_PDEATHSIG, 65) == -1 && errno == EINVAL);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void no_new_privs(void) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int ok = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0;
		ok &= prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
		ok &= prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
		ok &= prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) == -1 && errno == EINVAL;
		fflush(stdout);
		pid_t inner = fork();
		if (inner == 0)
			_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
		int st;
		waitpid(inner, &st, 0);
		ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
		_exit(ok ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	check("no_new_privs set, read, inherited, not unset", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	check("the parent's is still clear", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
}

static void name(void) {
	check("PR_SET_NAME", prctl(PR_SET_NAME, "renamed-thread-long") == 0);
	char got[16] = {0};
	check("PR_GET_NAME truncates to 15", prctl(PR_GET_NAME, got) == 0 && strcmp(got, "renamed-thread-") == 0);
	char buf[512] = {0};
	int fd = open("/proc/self/comm", O_RDONLY);
	read(fd, buf, sizeof buf - 1);
	close(fd);
	check("/proc/self/comm", strcmp(buf, "renamed-thread-\n") == 0);
	memset(buf, 0, sizeof buf);
	fd = open("/proc/self/stat", O_RDONLY);
	read(fd, buf, sizeof buf - 1);
	close(fd);
	char want[64];
	snprintf(want, sizeof want, "%d (renamed-thread-) ", getpid());
	check("/proc/self/stat", strncmp(buf, want, strlen(want)) == 0);
}

int main(int argc, char **argv) {
	if (argc == 4 && strcmp(argv[1], "exec-child") == 0)
		return exec_child(atoi(argv[2]), atoi(argv[3]));
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = 0;
	pdeathsig();
	no_new_privs();
	name();
	return failures != 0;
}
