// Signal state across execve (signal(7), execve(2)): the blocked mask, the
// pending signals and the ignored dispositions survive; handled ones go back
// to their default. The program executes itself 30 times while a child
// sends it, without pause, a signal it ignores (SIGUSR2, whose default would
// kill it), one it blocks (SIGUSR1, also pending from the start) and one it
// handles whose default is to ignore (SIGWINCH): every image must find
// SIGUSR1 blocked and pending and SIGUSR2 ignored, none may die, and the
// last one gets SIGUSR1 once it unblocks it.
// qemu-user loses the ignored and blocked signals in the same way xemu did
// (killed by SIGUSR2 or SIGUSR1), so the program checks itself.
// xemu-test: oracle=self
// xemu-test: modes=static,dynamic
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define IMAGES 30

static volatile sig_atomic_t usr1, winch;
static void on_usr1(int sig) { (void)sig; usr1++; }
static void on_winch(int sig) { (void)sig; winch++; }

static void fail(int image, const char *what) {
	printf("image %d: %s\n", image, what);
	fflush(stdout);
	exit(1);
}

int main(int argc, char **argv) {
	int image = argc > 1 ? atoi(argv[1]) : 0;
	pid_t sender = argc > 2 ? atoi(argv[2]) : 0;
	if (image == 0) {
		sigset_t usr1set;
		sigemptyset(&usr1set);
		sigaddset(&usr1set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1set, NULL);
		signal(SIGUSR2, SIG_IGN);
		// Process-directed, as the sender's: a standard signal is pending
		// at most once per queue, and a thread-directed one (raise) would
		// be a second instance, delivered once more.
		kill(getpid(), SIGUSR1);
		pid_t parent = getpid();
		sender = fork();
		if (sender == 0) {
			// Ends with the test, whichever way the test ends.
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;) {
				if (getppid() != parent)
					_exit(0);
				kill(parent, SIGUSR2);
				kill(parent, SIGWINCH);
				kill(parent, SIGUSR1);
				usleep(500);
			}
		}
	} else {
		sigset_t mask, pending;
		sigprocmask(SIG_BLOCK, NULL, &mask);
		sigpending(&pending);
		if (!sigismember(&mask, SIGUSR1))
			fail(image, "SIGUSR1 not blocked after execve");
		if (!sigismember(&pending, SIGUSR1))
			fail(image, "SIGUSR1 not pending after execve");
		struct sigaction sa;
		sigaction(SIGUSR2, NULL, &sa);
		if (sa.sa_handler != SIG_IGN)
			fail(image, "SIGUSR2 not ignored after execve");
		sigaction(SIGWINCH, NULL, &sa);
		if (sa.sa_handler != SIG_DFL)
			fail(image, "SIGWINCH's handler kept across execve");
	}
	signal(SIGWINCH, on_winch);
	if (image < IMAGES) {
		char next[16], spid[16];
		snprintf(next, sizeof next, "%d", image + 1);
		snprintf(spid, sizeof spid, "%d", (int)sender);
		execl("/proc/self/exe", argv[0], next, spid, (char *)NULL);
		fail(image, "execl failed");
	}
	kill(sender, SIGKILL);
	int st;
	if (waitpid(sender, &st, 0) != sender || !WIFSIGNALED(st))
		fail(image, "the sender was not this process's child");
	signal(SIGUSR1, on_usr1);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	printf("%d images: SIGUSR1 blocked and pending in each, SIGUSR2 ignored in each\n", IMAGES);
	printf("SIGUSR1 delivered after unblocking: %s\n", usr1 == 1 ? "once" : "no");
	return usr1 == 1 ? 0 : 1;
}
