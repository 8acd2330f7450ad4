// A vfork child that forks with glibc's fork() (and again with a raw clone):
// the grandchild runs on the vfork child's memory as it was, private file
// mappings included (glibc's data, which the vfork child got from its
// parent), and its exit status reaches the parent through the shared
// memory vfork gives. qemu-user is no oracle: its vfork is a fork, so the
// parent never sees what the child wrote (it prints -1); Linux passes.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile int status_seen = -1;

static int run(int raw) {
	status_seen = -1;
	pid_t pid = vfork();
	if (pid == 0) {
		pid_t g = raw ? syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) : fork();
		if (g == 0) {
			_exit(3);
		}
		int st;
		waitpid(g, &st, 0);
		status_seen = WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return status_seen;
}

int main(void) {
	alarm(30); // a hang fails the test instead of stalling it
	check("fork in a vfork child: the grandchild's status reaches the parent", run(0) == 3);
	check("raw clone in a vfork child: the grandchild's status reaches the parent", run(1) == 3);
	return failures;
}
