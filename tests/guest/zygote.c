// A process that forks again and again, changing between forks what a
// child inherits (cwd, umask, process group, limits, descriptors and their
// close-on-exec flags, memory), and checks that each child has the state of
// its own fork; that a pipe whose write ends are closed reaches end of file;
// and that once every child is reaped, waits for any child fail with ECHILD
// at once. Under xemu the later forks go through a zygote, an xemu started
// ahead as a child the guest did not make (syscall/kernel/zygote.go).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile int counter;
static volatile sig_atomic_t chld;

static void on_chld(int sig) { (void)sig; chld++; }

// child_checks returns a bit per failed expectation.
static int child_checks(int round, const char *cwd, int mask, pid_t pgrp, rlim_t core, pid_t parent) {
	int bad = 0;
	char buf[256];
	if (!getcwd(buf, sizeof buf) || strcmp(buf, cwd) != 0)
		bad |= 1;
	if (umask(0) != mask)
		bad |= 2;
	if (getpgrp() != pgrp)
		bad |= 4;
	struct rlimit rl;
	if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != core)
		bad |= 8;
	int fl = fcntl(20 + round, F_GETFD);
	if (fl < 0 || ((fl & FD_CLOEXEC) != 0) != (round % 2 == 0))
		bad |= 16;
	if (round > 0 && fcntl(20 + round - 1, F_GETFD) != -1)
		bad |= 32; // closed before this fork
	if (counter != round)
		bad |= 64;
	counter = -1;
	if (getppid() != parent)
		bad |= 128;
	return bad;
}

int main(void) {
	struct sigaction sa = {0};
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	alarm(60); // a wait that never ends fails the test instead of hanging it
	const char *dirs[] = {"/", "/tmp", "/dev", "/"};
	const int rounds = 6;
	for (int round = 0; round < rounds; round++) {
		char what[64];
		const char *cwd = dirs[round % 4];
		chdir(cwd);
		int mask = 022 + round;
		umask(mask);
		if (round == 2)
			setpgid(0, 0);
		rlim_t core = 4096 * (8 - round);
		struct rlimit rl = {core, core * 2};
		setrlimit(RLIMIT_CORE, &rl);
		if (round > 0)
			close(20 + round - 1);
		int fd = open("/dev/null", O_RDONLY | (round % 2 == 0 ? O_CLOEXEC : 0));
		dup3(fd, 20 + round, round % 2 == 0 ? O_CLOEXEC : 0);
		close(fd);
		counter = round;
		int p[2];
		pipe(p);
		pid_t parent = getpid(), pgrp = getpgrp();
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			write(p[1], "x", 1);
			_exit(child_checks(round, cwd, mask, pgrp, core, parent));
		}
		counter = 100;
		close(p[1]);
		char c;
		int n, total = 0;
		while ((n = read(p[0], &c, 1)) > 0)
			total += n;
		close(p[0]);
		snprintf(what, sizeof what, "round %d: pipe reaches end of file", round);
		check(what, n == 0 && total == 1);
		int status;
		pid_t w;
		while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
		snprintf(what, sizeof what, "round %d: child status", round);
		check(what, w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			printf("  child failures %#x\n", WEXITSTATUS(status));
		snprintf(what, sizeof what, "round %d: parent's memory its own", round);
		check(what, counter == 100);
		errno = 0;
		snprintf(what, sizeof what, "round %d: wait with no child", round);
		check(what, wait(NULL) == -1 && errno == ECHILD);
		errno = 0;
		snprintf(what, sizeof what, "round %d: waitpid(-1, WNOHANG) with no child", round);
		check(what, waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);
		siginfo_t si;
		errno = 0;
		snprintf(what, sizeof what, "round %d: waitid(P_ALL, WNOHANG) with no child", round);
		check(what, waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == -1 && errno == ECHILD);
	}
	// One SIGCHLD per child, none from elsewhere.
	check("one SIGCHLD per child", chld == rounds);
	if (chld != rounds)
		printf("  %d SIGCHLD for %d children\n", (int)chld, rounds);
	return failures;
}
