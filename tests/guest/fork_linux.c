// Process behaviour qemu-user gets wrong, so the program checks itself:
// orphans reparented to a child subreaper (prctl PR_SET_CHILD_SUBREAPER,
// which qemu does not pass on) and no SIGCHLD for a child's stop under
// SA_NOCLDSTOP (qemu sends one).
// xemu-test: oracle=self
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void subreaper(void) {
	check("PR_SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	pid_t top = getpid();
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t mid = fork();
	if (mid == 0) {
		if (fork() == 0) {
			close(p[1]);
			char c;
			read(p[0], &c, 1); // until the middle process is gone
			_exit(getppid() == top ? 6 : 7);
		}
		_exit(0);
	}
	int st;
	waitpid(mid, &st, 0);
	close(p[0]);
	close(p[1]);
	pid_t got = wait(&st);
	check("orphan reparented to the subreaper and reaped",
	      got > 0 && got != mid && WIFEXITED(st) && WEXITSTATUS(st) == 6);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static volatile sig_atomic_t chld;
static void on_chld(int sig) { (void)sig; chld++; }

static void nocldstop(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		raise(SIGSTOP);
		_exit(8);
	}
	int st;
	waitpid(pid, &st, WUNTRACED);
	usleep(100000);
	check("no SIGCHLD for a stop under SA_NOCLDSTOP", WIFSTOPPED(st) && chld == 0);
	kill(pid, SIGCONT);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	// The exit's SIGCHLD may come a little after wait returns.
	for (int i = 0; i < 500 && chld == 0; i++)
		usleep(10000);
	usleep(50000);
	check("SIGCHLD for the exit", WIFEXITED(st) && WEXITSTATUS(st) == 8 && chld == 1);
	signal(SIGCHLD, SIG_DFL);
}

int main(void) {
	subreaper();
	nocldstop();
	return failures != 0;
}
