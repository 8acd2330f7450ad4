// execve re-dispatched through xemu itself: the program re-executes itself
// through /proc/self/exe with another argv[0] and environment, a #! script
// whose interpreter is this very program (a guest ELF), and the errors
// Linux gives. qemu-user cannot exec /proc/self/exe (it runs its own binary
// there and fails with ENOEXEC), so the program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
	if (!ok) {
		printf("FAIL: %s (errno %s)\n", what, strerrorname_np(errno));
		failures++;
	}
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "stage2") == 0) {
		// Re-executed: argv[0], the environment, the pid and the blocked
		// mask came through; the handled signal's disposition did not.
		sigset_t m;
		struct sigaction sa;
		sigprocmask(SIG_BLOCK, NULL, &m);
		sigaction(SIGUSR2, NULL, &sa);
		check(strcmp(argv[0], "renamed") == 0, "argv[0] after exec");
		check(getenv("XEMU_EXEC_TEST") && strcmp(getenv("XEMU_EXEC_TEST"), "yes") == 0, "environment after exec");
		check(argc == 3 && atoi(argv[2]) == getpid(), "same pid after exec");
		check(sigismember(&m, SIGUSR1) == 1, "blocked mask kept");
		check(sa.sa_handler == SIG_DFL, "handled signal back to default");
		sigaction(SIGPIPE, NULL, &sa);
		check(sa.sa_handler == SIG_IGN, "ignored signal stays ignored");
		if (failures)
			return 1;
		// Stage 3: a script interpreted by this program.
		char script[64];
		snprintf(script, sizeof script, "/tmp/xemu-exec-%d.sh", getpid());
		int fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
		dprintf(fd, "#!/proc/self/exe   stage3 and more  \nignored\n");
		close(fd);
		char *args[] = {"scriptname", "last", NULL};
		execv(script, args);
		printf("FAIL: exec of the script: %s\n", strerrorname_np(errno));
		return 1;
	}
	if (argc > 1 && strncmp(argv[1], "stage3", 6) == 0) {
		// binfmt_script: interpreter, its one argument, the script path,
		// then the arguments after argv[0].
		char script[64];
		snprintf(script, sizeof script, "/tmp/xemu-exec-%d.sh", getpid());
		unlink(script);
		check(argc == 4, "script argc");
		check(argc == 4 && strcmp(argv[2], script) == 0, "script path as argument");
		check(argc == 4 && strcmp(argv[3], "last") == 0, "script's own argument");
		check(strcmp(argv[1], "stage3 and more") == 0, "one interpreter argument, inner blanks kept");
		if (failures)
			return 1;
		printf("exec ok\n");
		return 0;
	}

	char *none[] = {"x", NULL};
	errno = 0;
	check(execve("/nonexistent/prog", none, NULL) == -1 && errno == ENOENT, "ENOENT");
	char plain[64];
	snprintf(plain, sizeof plain, "/tmp/xemu-plain-%d", getpid());
	close(open(plain, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	check(execve(plain, none, NULL) == -1 && errno == EACCES, "EACCES without x bit");
	unlink(plain);
	check(execve("/tmp", none, NULL) == -1 && errno == EACCES, "EACCES for a directory");
	char junk[64];
	snprintf(junk, sizeof junk, "/tmp/xemu-junk-%d", getpid());
	int fd = open(junk, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	write(fd, "\x01\x02garbage", 9);
	close(fd);
	check(execve(junk, none, NULL) == -1 && errno == ENOEXEC, "ENOEXEC");
	unlink(junk);

	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	signal(SIGUSR2, SIG_IGN);
	struct sigaction sa = {0};
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = (void (*)(int))1234; // never runs: exec resets handlers
	sigaction(SIGUSR2, &sa, NULL);
	if (failures)
		return 1;
	char pid[16];
	snprintf(pid, sizeof pid, "%d", getpid());
	char *args[] = {"renamed", "stage2", pid, NULL};
	char *env[] = {"XEMU_EXEC_TEST=yes", NULL};
	fflush(stdout);
	execve("/proc/self/exe", args, env);
	printf("FAIL: exec of /proc/self/exe: %s\n", strerrorname_np(errno));
	return 1;
}
