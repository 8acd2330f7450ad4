// A signalfd's resources go with its last descriptor: thousands of
// signalfds closed one after another (by close, dup2 over them, close_range,
// or after a dup that keeps one working) leave the descriptor table as it
// was, under a descriptor limit they would otherwise exhaust.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 5000

int main(void) {
	struct rlimit lim;
	getrlimit(RLIMIT_NOFILE, &lim);
	if (lim.rlim_max > 1500)
		lim.rlim_cur = 1500;
	check("descriptor limit lowered", setrlimit(RLIMIT_NOFILE, &lim) == 0);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);

	int ok = 1;
	for (int i = 0; i < ROUNDS && ok; i++) {
		int s = signalfd(-1, &usr1, SFD_NONBLOCK);
		ok = s >= 0 && close(s) == 0;
	}
	check("signalfd and close, many times", ok);

	int null = open("/dev/null", O_RDONLY);
	ok = 1;
	for (int i = 0; i < ROUNDS && ok; i++) {
		int s = signalfd(-1, &usr1, SFD_NONBLOCK);
		ok = s >= 0 && dup2(null, s) == s && close(s) == 0;
	}
	check("signalfd and dup2 over it, many times", ok);

	ok = 1;
	for (int i = 0; i < ROUNDS / 3 && ok; i++) {
		int a = signalfd(-1, &usr1, 0), b = signalfd(-1, &usr1, 0), c = signalfd(-1, &usr1, 0);
		int lo = a < b ? (a < c ? a : c) : (b < c ? b : c);
		int hi = a > b ? (a > c ? a : c) : (b > c ? b : c);
		ok = a >= 0 && b >= 0 && c >= 0 && syscall(SYS_close_range, lo, hi, 0) == 0;
	}
	check("signalfds closed by close_range, many times", ok);

	ok = 1;
	for (int i = 0; i < ROUNDS && ok; i++) {
		int s = signalfd(-1, &usr1, SFD_NONBLOCK);
		int d = dup(s);
		close(s);
		struct signalfd_siginfo si;
		ok = d >= 0 && read(d, &si, sizeof si) == -1;
		if (i == 0) {
			raise(SIGUSR1);
			ok = read(d, &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR1;
		}
		close(d);
	}
	check("signalfd read through a dup after the original closed", ok);

	int fds[64], opened = 0;
	for (; opened < 64; opened++)
		if ((fds[opened] = open("/dev/null", O_RDONLY)) < 0)
			break;
	check("descriptors still open", opened == 64);
	for (int i = 0; i < opened; i++)
		close(fds[i]);
	int s = signalfd(-1, &usr1, SFD_NONBLOCK);
	raise(SIGUSR1);
	struct signalfd_siginfo si;
	check("a new signalfd reads a signal", s >= 0 && read(s, &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR1);
	return failures;
}
