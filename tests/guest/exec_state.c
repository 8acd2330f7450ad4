// What execve keeps and what it resets (execve(2), fs/exec.c), checked by
// the program across an execve of itself:
// - descriptors: close-on-exec ones closed (O_CLOEXEC, F_DUPFD_CLOEXEC,
//   F_SETFD, pipe2), the others kept with their offsets, a signalfd kept
//   working;
// - signals: handlers back to SIG_DFL without their flags, ignored ones
//   still ignored, the mask kept, a blocked signal still pending and
//   delivered once unblocked, the alternate stack gone;
// - timers: a setitimer timer keeps running and fires, a POSIX timer is
//   deleted and the signal it had queued is gone;
// - identity: the pid, /proc/self/exe, cmdline and comm, AT_EXECFN.
// Before that, failing execve calls (ENOENT, EACCES, ENOEXEC, a missing
// script interpreter) return to a caller whose memory, descriptors and
// handlers are as they were.
// qemu-user cannot execute a guest program without binfmt_misc, so the
// program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
	if (!ok) {
		printf("FAIL: %s (errno %s)\n", what, strerrorname_np(errno));
		failures++;
	}
}

static void on_term(int sig) { (void)sig; }

static volatile sig_atomic_t got;
static void on_usr1(int sig) { (void)sig; got++; }

static int is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

#define TIMER_SIG (SIGRTMIN + 2)

static void before(const char *self) {
	// Failing calls first: the caller goes on as it was.
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *heap = malloc(100000);
	memset(page, 0x5a, 4096);
	memset(heap, 0xa5, 100000);
	int cl = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct sigaction sa = {0};
	sa.sa_handler = on_term;
	sa.sa_flags = SA_RESTART | SA_ONSTACK;
	sigaction(SIGTERM, &sa, NULL);
	char *none[] = {"x", NULL};
	char path[64];
	check(execve("/nonexistent/prog", none, NULL) == -1 && errno == ENOENT, "ENOENT");
	snprintf(path, sizeof path, "/tmp/xemu-exec-state-%d", getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write(fd, "\x7f" "ELF", 4);
	close(fd);
	check(execve(path, none, NULL) == -1 && errno == EACCES, "EACCES without x bit");
	chmod(path, 0755);
	check(execve(path, none, NULL) == -1 && errno == ENOEXEC, "ENOEXEC for a truncated ELF");
	fd = open(path, O_WRONLY | O_TRUNC);
	write(fd, "#!/nonexistent/interp\n", 22);
	close(fd);
	check(execve(path, none, NULL) == -1 && errno == ENOENT, "ENOENT for a missing interpreter");
	unlink(path);
	int intact = 1;
	for (int i = 0; i < 4096; i++)
		intact &= page[i] == 0x5a;
	for (int i = 0; i < 100000; i++)
		intact &= heap[i] == (char)0xa5;
	check(intact, "memory intact after failed execve calls");
	check(is_open(cl), "close-on-exec descriptor open after failed execve calls");
	close(cl);
	struct sigaction cur;
	sigaction(SIGTERM, NULL, &cur);
	check(cur.sa_handler == on_term, "handler kept after failed execve calls");
	munmap(page, 4096);
	free(heap);
	if (failures)
		exit(1);

	// Descriptors, with the numbers passed on.
	int cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "/tmp/xemu-exec-state-data-%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, "0123456789", 10);
	unlink(path);
	lseek(fd, 3, SEEK_SET);
	int dupcl = fcntl(fd, F_DUPFD_CLOEXEC, 40);
	int setfd = dup(fd);
	fcntl(setfd, F_SETFD, FD_CLOEXEC);
	int pipes[2];
	pipe2(pipes, O_CLOEXEC);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGALRM);
	sigaddset(&m, TIMER_SIG);
	sigprocmask(SIG_BLOCK, &m, NULL);
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	int sfd = signalfd(-1, &usr2, 0);
	int sfdcl = signalfd(-1, &usr2, SFD_CLOEXEC);

	// Signals.
	raise(SIGUSR1);
	signal(SIGPIPE, SIG_IGN);
	stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536};
	sigaltstack(&ss, NULL);

	// Timers: a setitimer one running on, a POSIX one armed for long, and
	// one that fired with its signal still queued.
	struct itimerval it = {.it_value = {.tv_usec = 300000}};
	setitimer(ITIMER_REAL, &it, NULL);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = TIMER_SIG};
	int armed, fired;
	syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &armed);
	struct itimerspec long_time = {.it_value = {.tv_sec = 100}};
	syscall(SYS_timer_settime, armed, 0, &long_time, NULL);
	syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &fired);
	struct itimerspec now = {.it_value = {.tv_nsec = 1}};
	syscall(SYS_timer_settime, fired, 0, &now, NULL);
	sigset_t pending;
	for (int i = 0; i < 1000; i++) {
		sigpending(&pending);
		if (sigismember(&pending, TIMER_SIG))
			break;
		usleep(1000);
	}
	check(sigismember(&pending, TIMER_SIG), "POSIX timer signal pending before execve");
	if (failures)
		exit(1);

	char a[12][24];
	snprintf(a[0], 24, "%d", getpid());
	snprintf(a[1], 24, "%d", cloexec);
	snprintf(a[2], 24, "%d", fd);
	snprintf(a[3], 24, "%d", dupcl);
	snprintf(a[4], 24, "%d", setfd);
	snprintf(a[5], 24, "%d", pipes[0]);
	snprintf(a[6], 24, "%d", pipes[1]);
	snprintf(a[7], 24, "%d", sfd);
	snprintf(a[8], 24, "%d", sfdcl);
	snprintf(a[9], 24, "%d", armed);
	char *args[] = {"renamed", "stage2", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], (char *)self, NULL};
	char *env[] = {"XEMU_EXEC_STATE=1", NULL};
	fflush(stdout);
	execve(self, args, env);
	printf("FAIL: execve of %s: %s\n", self, strerrorname_np(errno));
	exit(1);
}

static void after(int argc, char **argv) {
	if (argc != 13) {
		printf("FAIL: %d arguments\n", argc);
		exit(1);
	}
	int n[10];
	for (int i = 0; i < 10; i++)
		n[i] = atoi(argv[2 + i]);
	const char *self = argv[12];
	check(n[0] == getpid(), "same pid");
	check(!is_open(n[1]), "O_CLOEXEC descriptor closed");
	check(!is_open(n[3]), "F_DUPFD_CLOEXEC descriptor closed");
	check(!is_open(n[4]), "F_SETFD FD_CLOEXEC descriptor closed");
	check(!is_open(n[5]) && !is_open(n[6]), "pipe2 O_CLOEXEC ends closed");
	check(!is_open(n[8]), "close-on-exec signalfd closed");
	char buf[8] = {0};
	check(read(n[2], buf, 3) == 3 && memcmp(buf, "345", 3) == 0, "kept descriptor keeps its offset");
	check(fcntl(n[2], F_GETFD) == 0, "kept descriptor without close-on-exec");

	struct sigaction sa;
	sigaction(SIGTERM, NULL, &sa);
	check(sa.sa_handler == SIG_DFL, "handler back to SIG_DFL");
	check(!(sa.sa_flags & (SA_RESTART | SA_ONSTACK)), "handler's flags reset");
	sigaction(SIGPIPE, NULL, &sa);
	check(sa.sa_handler == SIG_IGN, "ignored signal still ignored");
	sigset_t m, pending;
	sigprocmask(SIG_BLOCK, NULL, &m);
	check(sigismember(&m, SIGUSR1) && sigismember(&m, SIGALRM), "blocked mask kept");
	sigpending(&pending);
	check(sigismember(&pending, SIGUSR1), "blocked signal still pending");
	check(!sigismember(&pending, TIMER_SIG), "POSIX timer's queued signal gone");
	stack_t ss;
	sigaltstack(NULL, &ss);
	check(ss.ss_flags & SS_DISABLE, "alternate stack gone");

	struct itimerspec its;
	errno = 0;
	check(syscall(SYS_timer_gettime, n[9], &its) == -1 && errno == EINVAL, "POSIX timer deleted");
	struct timespec wait = {.tv_sec = 10};
	sigset_t alrm;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	check(sigtimedwait(&alrm, NULL, &wait) == SIGALRM, "setitimer timer fired after execve");

	raise(SIGUSR2);
	struct signalfd_siginfo si;
	check(read(n[7], &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR2, "kept signalfd reads the signal");

	char link[PATH_MAX] = {0};
	check(readlink("/proc/self/exe", link, sizeof link - 1) > 0 && strcmp(link, self) == 0, "/proc/self/exe is the new program");
	char cmd[256] = {0};
	int fd = open("/proc/self/cmdline", O_RDONLY);
	int len = read(fd, cmd, sizeof cmd);
	close(fd);
	check(len > 16 && memcmp(cmd, "renamed\0stage2\0", 15) == 0, "/proc/self/cmdline is the new argv");
	char comm[32] = {0}, want[16] = {0};
	fd = open("/proc/self/comm", O_RDONLY);
	read(fd, comm, sizeof comm - 1);
	close(fd);
	strncpy(want, strrchr(self, '/') + 1, 15);
	check(strncmp(comm, want, strlen(want)) == 0 && comm[strlen(want)] == '\n', "comm is the new program's name");
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	check(execfn && strcmp(execfn, self) == 0, "AT_EXECFN is the path executed");
	check(getenv("XEMU_EXEC_STATE") != NULL, "new environment");

	// Unblocked, the pending signal is delivered, with its handler.
	signal(SIGUSR1, on_usr1);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	check(got == 1, "pending signal delivered once unblocked");
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "stage2") == 0) {
		after(argc, argv);
		if (failures)
			return 1;
		printf("execve state ok\n");
		return 0;
	}
	char self[PATH_MAX];
	if (!realpath("/proc/self/exe", self)) {
		printf("FAIL: realpath: %s\n", strerrorname_np(errno));
		return 1;
	}
	before(self);
	return 1;
}
