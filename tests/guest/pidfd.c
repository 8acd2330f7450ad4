// Process descriptors: pidfd_open, poll for the exit, waitid(P_PIDFD),
// pidfd_send_signal with and without a siginfo (to a child and to itself,
// and the EINVAL/EPERM rules), pidfd_getfd of a child's descriptor, and
// CLONE_PIDFD through clone and clone3. qemu-user refuses CLONE_PIDFD, so
// the program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send_signal(int fd, int sig, siginfo_t *si, unsigned flags) {
	return syscall(SYS_pidfd_send_signal, fd, sig, si, flags);
}
static int pidfd_getfd(int fd, int target, unsigned flags) { return syscall(SYS_pidfd_getfd, fd, target, flags); }

static volatile sig_atomic_t got_code, got_value, got_pid, got_sig;
static void on_usr1(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_pid = si->si_pid;
}

static pid_t spawn_sleeper(int *ready) {
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		alarm(60); // not to outlive a test that failed before killing it
		write(p[1], "r", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	char c;
	read(p[0], &c, 1);
	*ready = p[0];
	return pid;
}

static void open_poll_wait(void) {
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		read(p[0], &c, 1);
		_exit(5);
	}
	int fd = pidfd_open(pid, 0);
	check("pidfd_open", fd >= 0);
	check("pidfd is close-on-exec", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	check("not readable while the child runs", poll(&pfd, 1, 0) == 0);
	write(p[1], "x", 1);
	check("readable once it exits", poll(&pfd, 1, 10000) == 1 && (pfd.revents & POLLIN));
	siginfo_t si;
	memset(&si, 0, sizeof si);
	check("waitid(P_PIDFD)", waitid(P_PIDFD, fd, &si, WEXITED) == 0);
	check("its siginfo", si.si_pid == pid && si.si_code == CLD_EXITED && si.si_status == 5);
	errno = 0;
	check("pidfd_open of no process: ESRCH", pidfd_open(pid, 0) == -1 && errno == ESRCH);
	errno = 0;
	check("pidfd_open bad flags: EINVAL", pidfd_open(getpid(), 1) == -1 && errno == EINVAL);
	close(fd);
	close(p[0]);
	close(p[1]);
}

static void send_signal(void) {
	int ready;
	pid_t pid = spawn_sleeper(&ready);
	int fd = pidfd_open(pid, 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGTERM;
	si.si_code = SI_USER;
	errno = 0;
	check("a kill-like siginfo to another process: EPERM", pidfd_send_signal(fd, SIGTERM, &si, 0) == -1 && errno == EPERM);
	si.si_code = SI_QUEUE;
	errno = 0;
	check("si_signo not sig: EINVAL", pidfd_send_signal(fd, SIGINT, &si, 0) == -1 && errno == EINVAL);
	errno = 0;
	check("bad flags: EINVAL", pidfd_send_signal(fd, SIGTERM, NULL, 8) == -1 && errno == EINVAL);
	check("signal 0", pidfd_send_signal(fd, 0, NULL, 0) == 0);
	check("SIGTERM to the child", pidfd_send_signal(fd, SIGTERM, NULL, 0) == 0);
	int st;
	check("the child was killed by it", waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	errno = 0;
	check("to a reaped child: ESRCH", pidfd_send_signal(fd, SIGTERM, NULL, 0) == -1 && errno == ESRCH);
	close(fd);
	close(ready);

	// A queued signal with a value, to a child that reports what it got.
	int p[2];
	pipe(p);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		// SIGUSR1 stays blocked but while sigsuspend waits: a signal that
		// came between the test of got_sig and a pause would leave the
		// child in pause for good (the handler would already have run).
		alarm(60);
		sigset_t usr1, old;
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, &old);
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_usr1;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGUSR1, &sa, NULL);
		write(p[1], "r", 1);
		while (!got_sig)
			sigsuspend(&old);
		int v[3] = {got_code, got_value, got_pid};
		write(p[1], v, sizeof v);
		_exit(0);
	}
	char c;
	read(p[0], &c, 1);
	fd = pidfd_open(pid, 0);
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 4242;
	check("SI_QUEUE with a value to the child", pidfd_send_signal(fd, SIGUSR1, &si, 0) == 0);
	int v[3] = {0};
	read(p[0], v, sizeof v);
	check("the child's handler saw SI_QUEUE, the value and our pid", v[0] == SI_QUEUE && v[1] == 4242 && v[2] == getpid());
	waitpid(pid, &st, 0);
	close(fd);
	close(p[0]);
	close(p[1]);

	// To itself: any si_code, delivered before the call returns.
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	fd = pidfd_open(getpid(), 0);
	got_sig = 0;
	check("SIGUSR1 to itself", pidfd_send_signal(fd, SIGUSR1, NULL, 0) == 0);
	check("handled, SI_USER from itself", got_sig == SIGUSR1 && got_code == SI_USER && got_pid == getpid());
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = 12345; // a positive code: allowed to oneself only
	si.si_value.sival_int = 77;
	got_sig = 0;
	check("its own siginfo to itself", pidfd_send_signal(fd, SIGUSR1, &si, 0) == 0);
	check("handled with that siginfo", got_sig == SIGUSR1 && got_code == 12345);
	signal(SIGUSR1, SIG_DFL);
	close(fd);
}

static void getfd(void) {
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(60);
		int m = memfd_create("secret", 0);
		write(m, "child's secret", 14);
		write(p[1], &m, sizeof m);
		for (;;)
			pause();
	}
	int target = -1;
	read(p[0], &target, sizeof target);
	int fd = pidfd_open(pid, 0);
	int got = pidfd_getfd(fd, target, 0);
	check("pidfd_getfd", got >= 0);
	char buf[32] = {0};
	check("reads the child's file", pread(got, buf, sizeof buf - 1, 0) == 14 && strcmp(buf, "child's secret") == 0);
	check("the new descriptor is close-on-exec", (fcntl(got, F_GETFD) & FD_CLOEXEC) != 0);
	errno = 0;
	check("flags: EINVAL", pidfd_getfd(fd, target, 1) == -1 && errno == EINVAL);
	errno = 0;
	check("a descriptor the child does not have: EBADF", pidfd_getfd(fd, 999, 0) == -1 && errno == EBADF);
	errno = 0;
	check("nor 1000 (the emulator's, if any)", pidfd_getfd(fd, 1000, 0) == -1 && errno == EBADF);
	pidfd_send_signal(fd, SIGKILL, NULL, 0);
	int st;
	waitpid(pid, &st, 0);
	close(got);
	close(fd);

	// From itself: its own descriptors, none of the emulator's.
	fd = pidfd_open(getpid(), 0);
	got = pidfd_getfd(fd, 1, 0);
	check("its own descriptor 1", got >= 0 && fcntl(got, F_GETFD) == FD_CLOEXEC);
	close(got);
	int ok = 1;
	for (int n = 900; n < 1100; n++) {
		errno = 0;
		got = pidfd_getfd(fd, n, 0);
		if (got >= 0 || errno != EBADF)
			ok = 0;
		if (got >= 0)
			close(got);
	}
	check("nothing from 900 to 1099 (where the emulator keeps its own)", ok);
	close(fd);
}

static void clone_pidfd(void) {
	int fd = -1;
	fflush(stdout);
	// clone(flags, stack, parent_tid, tls, child_tid): the pidfd goes where
	// the parent's tid would (arm and arm64 order).
	long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &fd, 0, 0);
	if (pid == 0)
		_exit(7);
	check("clone(CLONE_PIDFD)", pid > 0 && fd >= 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	check("waitid(P_PIDFD) on its pidfd", waitid(P_PIDFD, fd, &si, WEXITED) == 0 && si.si_pid == pid && si.si_status == 7);
	close(fd);
	errno = 0;
	check("CLONE_PIDFD with CLONE_PARENT_SETTID: EINVAL",
	      syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &fd, 0, 0) == -1 && errno == EINVAL);

#ifdef SYS_clone3
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} args;
	memset(&args, 0, sizeof args);
	int fd3 = -1;
	args.flags = CLONE_PIDFD;
	args.pidfd = (uintptr_t)&fd3;
	args.exit_signal = SIGCHLD;
	fflush(stdout);
	pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid == 0)
		_exit(9);
	check("clone3(CLONE_PIDFD)", pid > 0 && fd3 >= 0);
	memset(&si, 0, sizeof si);
	check("waitid(P_PIDFD) on clone3's pidfd", waitid(P_PIDFD, fd3, &si, WEXITED) == 0 && si.si_pid == pid && si.si_status == 9);
	close(fd3);
#endif
}

int main(void) {
	open_poll_wait();
	send_signal();
	getfd();
	clone_pidfd();
	return failures != 0;
}
