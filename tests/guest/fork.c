// fork and wait: copy-on-write memory with writes on both sides (heap, a
// large buffer, a written private file mapping), shared anonymous memory,
// descriptors with their close-on-exec flag, signal state inherited, a
// pipeline of processes, wait statuses for exit, signal, stop and continue,
// waitid, SIGCHLD's siginfo, vfork+exec and posix_spawn of a program.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int global = 1;

static void on_usr2(int sig) { (void)sig; }

static volatile sig_atomic_t chld_code, chld_status, chld_pid_ok;
static pid_t expect_pid;
static void on_chld(int sig, siginfo_t *si, void *uc) {
	(void)sig; (void)uc;
	chld_code = si->si_code;
	chld_status = si->si_status;
	chld_pid_ok = si->si_pid == expect_pid;
}

static void describe(const char *what, int st) {
	if (WIFEXITED(st))
		printf("%s: exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: killed by %d%s\n", what, WTERMSIG(st), WCOREDUMP(st) ? " (core)" : "");
	else if (WIFSTOPPED(st))
		printf("%s: stopped by %d\n", what, WSTOPSIG(st));
	else if (WIFCONTINUED(st))
		printf("%s: continued\n", what);
}

static void memory(void) {
	size_t big = 24 << 20;
	char *heap = malloc(100), *buf = malloc(big);
	strcpy(heap, "parent heap");
	memset(buf, 'p', big);
	int *shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	shared[0] = 10;
	shared[1024] = 20;
	// A private file mapping with one page written: the rest stays the file's.
	FILE *f = tmpfile();
	for (int i = 0; i < 3 * 4096; i++)
		fputc('0' + i / 4096, f);
	fflush(f);
	char *file = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fileno(f), 0);
	file[4096] = 'W';
	int sync[2], back[2];
	pipe(sync);
	pipe(back);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		read(sync[0], &c, 1); // the parent has written by now
		printf("child sees: global=%d heap=%s buf=%c%c file=%c%c%c shared=%d,%d\n", global, heap,
		       buf[0], buf[big - 1], file[0], file[4096], file[8192], shared[0], shared[1024]);
		global = 3;
		strcpy(heap, "child heap");
		memset(buf, 'c', big);
		file[0] = 'C';
		shared[1024] = 22;
		printf("child wrote: global=%d heap=%s buf=%c file=%c\n", global, heap, buf[big / 2], file[0]);
		fflush(stdout);
		write(back[1], "x", 1);
		_exit(0);
	}
	global = 2;
	strcpy(heap, "parent heap 2");
	memset(buf, 'q', big / 2);
	file[8192] = 'P';
	shared[0] = 11;
	write(sync[1], "x", 1);
	char c;
	read(back[0], &c, 1);
	int st;
	waitpid(pid, &st, 0);
	describe("memory child", st);
	printf("parent sees: global=%d heap=%s buf=%c%c file=%c%c%c shared=%d,%d\n", global, heap,
	       buf[0], buf[big - 1], file[0], file[4096], file[8192], shared[0], shared[1024]);
	fclose(f);
}

static void inherited(void) {
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int plain = open("/dev/null", O_RDONLY);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGUSR2, on_usr2);
	signal(SIGHUP, SIG_IGN);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t cur;
		sigprocmask(SIG_BLOCK, NULL, &cur);
		struct sigaction sa;
		sigaction(SIGUSR2, NULL, &sa);
		int usr2 = sa.sa_handler == on_usr2;
		sigaction(SIGHUP, NULL, &sa);
		printf("child: cloexec=%d plain=%d usr1 blocked=%d usr2 handler=%d hup ignored=%d next fd=%d\n",
		       fcntl(fd, F_GETFD), fcntl(plain, F_GETFD), sigismember(&cur, SIGUSR1), usr2,
		       sa.sa_handler == SIG_IGN, dup(0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGHUP, SIG_DFL);
	close(fd);
	close(plain);
}

// pipeline: seq 1..200 | sum of squares | format, three processes.
static void pipeline(void) {
	int a[2], b[2];
	pipe(a);
	pipe(b);
	fflush(stdout);
	pid_t p1 = fork();
	if (p1 == 0) {
		close(a[0]); close(b[0]); close(b[1]);
		FILE *out = fdopen(a[1], "w");
		for (int i = 1; i <= 200; i++)
			fprintf(out, "%d\n", i);
		fclose(out);
		_exit(0);
	}
	pid_t p2 = fork();
	if (p2 == 0) {
		close(a[1]); close(b[0]);
		FILE *in = fdopen(a[0], "r"), *out = fdopen(b[1], "w");
		long sum = 0, x;
		while (fscanf(in, "%ld", &x) == 1)
			sum += x * x;
		fprintf(out, "%ld\n", sum);
		fclose(out);
		_exit(0);
	}
	close(a[0]); close(a[1]); close(b[1]);
	char line[64] = {0};
	read(b[0], line, sizeof line - 1);
	close(b[0]);
	int s1, s2;
	waitpid(p1, &s1, 0);
	waitpid(p2, &s2, 0);
	printf("pipeline: %s", line);
	describe("producer", s1);
	describe("summer", s2);
}

static void statuses(void) {
	int st;
	pid_t pid;
	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(42);
	waitpid(pid, &st, 0);
	describe("exit 42", st);
	if ((pid = fork()) == 0) {
		signal(SIGTERM, SIG_DFL);
		raise(SIGTERM);
		_exit(1);
	}
	waitpid(pid, &st, 0);
	describe("SIGTERM", st);
	int hold[2];
	pipe(hold);
	if ((pid = fork()) == 0) {
		char c;
		raise(SIGSTOP);
		read(hold[0], &c, 1); // exits only once the parent saw it continue
		_exit(7);
	}
	waitpid(pid, &st, WUNTRACED);
	describe("stop", st);
	kill(pid, SIGCONT);
	waitpid(pid, &st, WCONTINUED);
	describe("cont", st);
	write(hold[1], "x", 1);
	waitpid(pid, &st, 0);
	describe("after cont", st);
	close(hold[0]);
	close(hold[1]);

	// waitid: WNOWAIT leaves the zombie for a second wait.
	if ((pid = fork()) == 0)
		_exit(5);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	printf("waitid nowait: code=%d status=%d pid ok=%d\n", si.si_code, si.si_status, si.si_pid == pid);
	memset(&si, 0, sizeof si);
	waitid(P_PID, pid, &si, WEXITED);
	printf("waitid: code=%d status=%d\n", si.si_code, si.si_status);
	errno = 0;
	printf("wait with no children: %d errno=%s\n", wait(NULL), strerror(errno));

	// WNOHANG on a running child, then SIGCHLD's siginfo.
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGCHLD, &sa, NULL);
	int go[2];
	pipe(go);
	if ((pid = fork()) == 0) {
		char c;
		read(go[0], &c, 1);
		_exit(9);
	}
	expect_pid = pid;
	printf("WNOHANG while running: %d\n", waitpid(pid, &st, WNOHANG));
	write(go[1], "x", 1);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	while (!chld_code)
		usleep(1000);
	printf("SIGCHLD: code=%d status=%d pid ok=%d\n", chld_code, chld_status, chld_pid_ok);

	// Ignored SIGCHLD: children leave no zombie, and wait finds none.
	signal(SIGCHLD, SIG_IGN);
	if ((pid = fork()) == 0)
		_exit(1);
	errno = 0;
	int r = waitpid(pid, &st, 0);
	printf("wait with SIGCHLD ignored: %d %s\n", r, strerror(errno));
	signal(SIGCHLD, SIG_DFL);
}

static void spawn(void) {
	int st;
	fflush(stdout);
	pid_t pid = vfork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "echo vfork+exec ran; exit 4", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	describe("vfork+exec", st);
	char *argv[] = {"sh", "-c", "echo posix_spawn ran", NULL};
	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0) {
		printf("posix_spawn failed\n");
		return;
	}
	waitpid(pid, &st, 0);
	describe("posix_spawn", st);
	// A missing program: Linux returns ENOENT, qemu-user's child exits
	// 127 (its vfork is a fork); vfork.c checks it.
}

// A System V segment stays attached, and shared, in the child.
static void sysvshm(void) {
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	char *p = shmat(id, NULL, 0);
	p[0] = 'a';
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		p[0] = 'c';
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("System V segment after the child wrote: %c\n", p[0]);
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	memory();
	inherited();
	pipeline();
	statuses();
	spawn();
	sysvshm();
	return 0;
}
