// Waiting for signals and what is pending: sigsuspend, sigtimedwait (a
// pending signal, EAGAIN on timeout), sigwaitinfo, signalfd, sigpending;
// queueing: a standard signal sent three times while blocked is delivered
// once (with the first sender's value), a realtime one three times with its
// values in order; pending signals are delivered lowest number first.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char log_[512];
static int nlog;
static volatile int calls;

static void record(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	char b[40];
	const char *name = sig == SIGHUP ? "HUP" : sig == SIGUSR1 ? "USR1" : sig == SIGUSR2 ? "USR2"
	                   : sig == SIGALRM ? "ALRM"
	                                    : NULL;
	if (name)
		snprintf(b, sizeof b, "%s", name);
	else
		snprintf(b, sizeof b, "RTMIN+%d", sig - SIGRTMIN);
	if (si->si_code == SI_QUEUE)
		snprintf(b + strlen(b), sizeof b - strlen(b), "(%d)", si->si_value.sival_int);
	snprintf(log_ + nlog, sizeof log_ - nlog, "%s ", b);
	nlog = strlen(log_);
	calls++;
}

static void show(const char *what) {
	printf("%s: %s\n", what, log_);
	nlog = 0;
	log_[0] = 0;
	calls = 0;
}

static void install(int sig, int fullmask) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = record;
	sa.sa_flags = SA_SIGINFO;
	if (fullmask)
		sigfillset(&sa.sa_mask);
	else
		sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void show_pending(const char *what) {
	sigset_t p;
	sigpending(&p);
	printf("%s pending:", what);
	for (int s = 1; s <= SIGRTMIN + 4; s++)
		if (sigismember(&p, s))
			printf(" %d", s);
	printf("\n");
}

static const char *err(long r) {
	static char b[64];
	if (r >= 0)
		snprintf(b, sizeof b, "%ld", r);
	else
		snprintf(b, sizeof b, "-1 %s", strerrorname_np(errno));
	return b;
}

static int queue(int sig, int v) {
	union sigval sv = {.sival_int = v};
	return sigqueue(getpid(), sig, sv);
}

static int all[] = {SIGHUP, SIGUSR1, SIGUSR2, 0, 0};

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	all[3] = SIGRTMIN;
	all[4] = SIGRTMIN + 1;
	sigset_t set, none, old;
	sigemptyset(&none);
	sigemptyset(&set);
	for (int i = 0; i < 5; i++) {
		install(all[i], 1);
		sigaddset(&set, all[i]);
	}
	sigprocmask(SIG_BLOCK, &set, &old);

	// sigsuspend: the handler runs inside it, the mask comes back after.
	raise(SIGUSR1);
	show_pending("before sigsuspend");
	long r = sigsuspend(&none);
	printf("sigsuspend: %s, calls=%d\n", err(r), calls);
	show("handled");
	show_pending("after sigsuspend");
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("USR1 blocked again: %d\n", sigismember(&cur, SIGUSR1));
	// Woken by a timer signal sent while it waits.
	install(SIGALRM, 0);
	struct itimerval v = {{0, 0}, {0, 20000}};
	setitimer(ITIMER_REAL, &v, NULL);
	sigset_t only_alrm;
	sigfillset(&only_alrm);
	sigdelset(&only_alrm, SIGALRM);
	r = sigsuspend(&only_alrm);
	printf("sigsuspend woken by SIGALRM: %s, calls=%d\n", err(r), calls);
	show("handled");

	// Standard signals coalesce, realtime ones queue.
	for (int i = 1; i <= 3; i++)
		raise(SIGUSR1);
	for (int i = 1; i <= 3; i++)
		queue(SIGUSR2, i);
	for (int i = 1; i <= 3; i++)
		queue(SIGRTMIN + 1, i);
	for (int i = 1; i <= 2; i++)
		queue(SIGRTMIN, 10 * i);
	raise(SIGHUP);
	show_pending("sent");
	// Every handler blocks everything: one delivery per return, lowest
	// number first, realtime values in the order sent.
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("deliveries: %d\n", calls);
	show("order");

	// With an empty sa_mask, Linux sets up one frame per pending signal
	// before returning to user space (arch do_notify_resume loops while
	// signals are pending and unblocked), lowest number first, each on top
	// of the last: the last set up runs first.
	for (int i = 0; i < 5; i++)
		install(all[i], 0);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	raise(SIGHUP);
	queue(SIGRTMIN + 1, 7);
	queue(SIGRTMIN, 8);
	sigprocmask(SIG_SETMASK, &old, NULL);
	show("empty sa_mask order");

	// sigtimedwait and sigwaitinfo take pending signals without handlers.
	sigprocmask(SIG_BLOCK, &set, NULL);
	siginfo_t si;
	struct timespec zero = {0, 0}, short_wait = {0, 10000000};
	r = sigtimedwait(&set, &si, &zero);
	printf("sigtimedwait, nothing pending, zero timeout: %s\n", err(r));
	r = sigtimedwait(&set, &si, &short_wait);
	printf("sigtimedwait, nothing pending, 10ms: %s\n", err(r));
	kill(getpid(), SIGUSR2);
	queue(SIGRTMIN, 42);
	raise(SIGUSR1);
	memset(&si, 0, sizeof si);
	r = sigtimedwait(&set, &si, &short_wait);
	// glibc's sigtimedwait folds the kernel's SI_TKILL (raise is tgkill)
	// into SI_USER; the raw call below shows SI_TKILL.
	printf("sigtimedwait: %s signo=%d code SI_USER: %d pid ok: %d uid ok: %d\n", err(r), si.si_signo,
	       si.si_code == SI_USER, si.si_pid == getpid(), si.si_uid == getuid());
	r = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: %s code SI_USER: %d pid ok: %d\n", err(r), si.si_code == SI_USER, si.si_pid == getpid());
	r = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: SIGRTMIN: %d code SI_QUEUE: %d value=%d\n", r == SIGRTMIN, si.si_code == SI_QUEUE,
	       si.si_value.sival_int);
	syscall(SYS_tgkill, getpid(), gettid(), SIGHUP);
	memset(&si, 0, sizeof si);
	r = syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 8);
	printf("rt_sigtimedwait: %s code SI_TKILL: %d\n", err(r), si.si_code == SI_TKILL);
	printf("handlers ran: %d\n", calls);

	// signalfd reads what is pending and blocked.
	sigset_t usr;
	sigemptyset(&usr);
	sigaddset(&usr, SIGUSR1);
	sigaddset(&usr, SIGRTMIN + 1);
	int fd = signalfd(-1, &usr, SFD_NONBLOCK | SFD_CLOEXEC);
	struct signalfd_siginfo ssi;
	r = read(fd, &ssi, sizeof ssi);
	printf("signalfd, nothing pending: %s\n", err(r));
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	printf("poll before: %d\n", poll(&pfd, 1, 0));
	kill(getpid(), SIGUSR1);
	queue(SIGRTMIN + 1, 5);
	r = poll(&pfd, 1, 0);
	printf("poll after: %ld revents POLLIN: %d\n", r, (pfd.revents & POLLIN) != 0);
	show_pending("for signalfd");
	memset(&ssi, 0, sizeof ssi);
	r = read(fd, &ssi, sizeof ssi);
	printf("signalfd read: %s ssi_signo=%u ssi_code SI_USER: %d ssi_pid ok: %d ssi_uid ok: %d\n", err(r),
	       ssi.ssi_signo, ssi.ssi_code == SI_USER, ssi.ssi_pid == (unsigned)getpid(),
	       ssi.ssi_uid == (unsigned)getuid());
	r = read(fd, &ssi, sizeof ssi);
	printf("signalfd read: %s RTMIN+1: %d ssi_code SI_QUEUE: %d ssi_int=%d\n", err(r),
	       ssi.ssi_signo == (unsigned)SIGRTMIN + 1, ssi.ssi_code == SI_QUEUE, ssi.ssi_int);
	show_pending("after reading");
	r = read(fd, &ssi, sizeof ssi - 1);
	printf("signalfd short read: %s\n", err(r));
	close(fd);

	// The raw rt_sigqueueinfo to oneself, and rt_sigpending.
	memset(&si, 0, sizeof si);
	si.si_signo = SIGRTMIN + 1;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 77;
	r = syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN + 1, &si);
	printf("rt_sigqueueinfo: %s\n", err(r));
	unsigned long long raw = 0;
	r = syscall(SYS_rt_sigpending, &raw, 8);
	printf("rt_sigpending: %s bit RTMIN+1: %d\n", err(r), (int)(raw >> (SIGRTMIN + 1 - 1) & 1));
	sigprocmask(SIG_SETMASK, &old, NULL);
	show("delivered");
	return 0;
}
