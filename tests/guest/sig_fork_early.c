// Signals sent to a child right after fork, while its emulator may still be
// starting: each is held for the child's inherited handler (SIGTERM, SIGINT,
// SIGHUP and SIGQUIT included, whose default ends a process, and a queued
// signal with its value), and an inherited SIG_IGN keeps the child alive.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got, code, value;

static void on(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	got = sig;
	code = si->si_code;
	value = si->si_value.sival_int;
}

// handled forks a child that waits for sig with a handler and reports what
// it got in its exit status; the parent sends it at once.
static void handled(int sig, int queue) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, NULL);
	sigset_t m, old;
	sigemptyset(&m);
	sigaddset(&m, sig);
	sigprocmask(SIG_BLOCK, &m, &old);
	got = code = value = 0; // a SIGCHLD may have come to the parent's handler
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		while (!got)
			sigsuspend(&old);
		_exit(got != sig ? 1 : queue && (code != SI_QUEUE || value != 4242) ? 2 : 0);
	}
	if (queue)
		sigqueue(pid, sig, (union sigval){.sival_int = 4242});
	else
		kill(pid, sig);
	int st;
	waitpid(pid, &st, 0);
	printf("%s %d right after fork: ", queue ? "sigqueue" : "kill", sig);
	if (WIFEXITED(st))
		printf("handled, exit %d\n", WEXITSTATUS(st));
	else
		printf("killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(sig, SIG_DFL);
}

int main(void) {
	int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGCHLD};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		handled(sigs[i], 0);
	handled(SIGUSR2, 1);
	handled(SIGRTMIN + 1, 1);

	// Ignored: the child lives on until it ends itself.
	signal(SIGTERM, SIG_IGN);
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		char c;
		read(p[0], &c, 1);
		_exit(7);
	}
	close(p[0]);
	kill(pid, SIGTERM);
	usleep(100000);
	write(p[1], "x", 1);
	int st;
	waitpid(pid, &st, 0);
	printf("ignored SIGTERM right after fork: %s\n",
	       WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "lived on" : "killed");
	return 0;
}
