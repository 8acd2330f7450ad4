// Signals that system calls and the C runtime send: SIGPIPE from a write to
// a pipe nobody reads (handled, ignored, suppressed by MSG_NOSIGNAL), SIGXFSZ
// from a write past RLIMIT_FSIZE, SIGFPE from integer division by zero on
// ARM (the EABI helper __aeabi_idiv0 raises it; AArch64's sdiv gives 0), and
// at last SIGPIPE's default action, which kills (128+13).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile int calls, last_sig, code_user, pid_ok;

static void handler(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	calls++;
	last_sig = sig;
	code_user = si->si_code == SI_USER || si->si_code == SI_TKILL;
	pid_ok = si->si_pid == getpid();
}

static void install(int sig, int handled) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	if (handled) {
		sa.sa_sigaction = handler;
		sa.sa_flags = SA_SIGINFO;
	} else {
		sa.sa_handler = SIG_IGN;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static const char *err(long r) {
	static char b[64];
	if (r >= 0)
		snprintf(b, sizeof b, "%ld", r);
	else
		snprintf(b, sizeof b, "-1 %s", strerrorname_np(errno));
	return b;
}

// Lines are kept here while RLIMIT_FSIZE is low (it would cut stdout short
// if stdout were a file) and printed by flush_lines.
static char lines[1024];

static void show(const char *what, long r) {
	size_t n = strlen(lines);
	n += snprintf(lines + n, sizeof lines - n, "%s: %s, handler calls=%d", what, err(r), calls);
	if (calls)
		n += snprintf(lines + n, sizeof lines - n, " sig=%d SI_USER/SI_TKILL: %d si_pid ok: %d", last_sig,
		              code_user, pid_ok);
	snprintf(lines + n, sizeof lines - n, "\n");
	calls = 0;
}

static void flush_lines(void) {
	fputs(lines, stdout);
	lines[0] = 0;
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2];
	pipe(p);
	close(p[0]);
	install(SIGPIPE, 1);
	show("write to a closed pipe, handled", write(p[1], "x", 1));
	install(SIGPIPE, 0);
	show("write to a closed pipe, ignored", write(p[1], "x", 1));
	install(SIGPIPE, 1);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	close(sv[1]);
	show("send MSG_NOSIGNAL", send(sv[0], "x", 1, MSG_NOSIGNAL));
	show("send", send(sv[0], "x", 1, 0));
	flush_lines();

	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 100;
	setrlimit(RLIMIT_FSIZE, &lim);
	int fd = open("sig_sources.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char buf[150];
	memset(buf, 'a', sizeof buf);
	install(SIGXFSZ, 1);
	show("write 150 bytes under a 100-byte limit", write(fd, buf, sizeof buf));
	show("write at the limit, handled", write(fd, buf, 1));
	install(SIGXFSZ, 0);
	show("write at the limit, ignored", write(fd, buf, 1));
	setrlimit(RLIMIT_FSIZE, &old);
	flush_lines();
	close(fd);
	unlink("sig_sources.tmp");

	install(SIGFPE, 1);
	volatile int a = 7, b = 0;
	int q = a / b;
	show("7 / 0", q);
	flush_lines();

	signal(SIGPIPE, SIG_DFL);
	write(p[1], "x", 1);
	printf("not reached\n");
	return 0;
}
