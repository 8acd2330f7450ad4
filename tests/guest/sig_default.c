// Default actions: SIGCHLD, SIGURG, SIGWINCH and SIGCONT are ignored by
// default and SIG_IGN ignores anything else; a blocked signal stays pending
// even when its action is to ignore, until SIG_IGN (or SIG_DFL for a signal
// ignored by default) discards it; a blocked SIGTERM sent to oneself waits,
// and kills the process (128+15) the moment it is unblocked.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void show_pending(const char *what) {
	sigset_t p;
	sigpending(&p);
	printf("%s pending:", what);
	for (int s = 1; s < 32; s++)
		if (sigismember(&p, s))
			printf(" %d", s);
	printf("\n");
}

static void set_action(int sig, void (*h)(int)) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	int ignored[] = {SIGCHLD, SIGURG, SIGWINCH, SIGCONT};
	for (int i = 0; i < 4; i++)
		printf("kill %d (default ignore): %d\n", ignored[i], kill(getpid(), ignored[i]));
	printf("raise SIGWINCH: %d\n", raise(SIGWINCH));
	show_pending("unblocked, nothing");
	set_action(SIGUSR1, SIG_IGN);
	set_action(SIGTERM, SIG_IGN);
	printf("kill SIGUSR1 ignored: %d\n", kill(getpid(), SIGUSR1));
	printf("kill SIGTERM ignored: %d\n", kill(getpid(), SIGTERM));
	printf("raise SIGUSR2 ignored: %d\n", (set_action(SIGUSR2, SIG_IGN), raise(SIGUSR2)));
	set_action(SIGUSR1, SIG_DFL);
	set_action(SIGUSR2, SIG_DFL);
	set_action(SIGTERM, SIG_DFL);

	// Blocked signals are queued whatever their action.
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	set_action(SIGHUP, SIG_IGN);
	raise(SIGWINCH);
	raise(SIGUSR1);
	raise(SIGCHLD);
	raise(SIGHUP);
	show_pending("blocked");
	// SIG_IGN discards a pending signal; so does SIG_DFL where the
	// default is to ignore (POSIX; kernel/signal.c do_sigaction).
	set_action(SIGUSR1, SIG_IGN);
	set_action(SIGWINCH, SIG_DFL);
	show_pending("after SIG_IGN for USR1, SIG_DFL for WINCH");
	set_action(SIGUSR1, SIG_DFL);
	// Unblocked, the remaining ones are ignored.
	sigset_t some;
	sigemptyset(&some);
	sigaddset(&some, SIGCHLD);
	sigaddset(&some, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &some, NULL);
	show_pending("after unblocking CHLD and HUP");

	printf("kill SIGTERM while blocked: %d\n", kill(getpid(), SIGTERM));
	show_pending("still alive,");
	sigemptyset(&some);
	sigaddset(&some, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &some, NULL);
	printf("not reached\n");
	return 0;
}
