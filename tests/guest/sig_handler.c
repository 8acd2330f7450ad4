// Signal handlers run: with and without SA_SIGINFO, sent by raise, kill and
// tgkill; what siginfo says about the sender (si_code SI_USER for kill,
// SI_TKILL for tgkill); SA_RESETHAND, SA_NODEFER (nested delivery), sa_mask
// blocking during the handler, the mask restored on return, a blocked
// signal delivered by the sigprocmask that unblocks it.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char events[256];
static volatile int nevents;

// note appends to events; handlers call it (only from synchronous signals).
static void note(const char *s) {
	while (*s && nevents < (int)sizeof events - 1)
		events[nevents++] = *s++;
	events[nevents] = 0;
}

static void show_events(const char *what) {
	printf("%s: %s\n", what, events);
	nevents = 0;
	events[0] = 0;
}

// blocked_list writes the blocked standard signals (1-31) as " n n".
// SIGKILL and SIGSTOP are left out: Linux never blocks them (do_sigaction
// drops them from sa_mask), but qemu-user 7.2 keeps them in a handler's mask.
static void blocked_list(char *buf, size_t n) {
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	buf[0] = 0;
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP && sigismember(&cur, s))
			snprintf(buf + strlen(buf), n - strlen(buf), " %d", s);
}

static volatile int got_sig, calls;
static siginfo_t got_info;
static int got_uc_nonnull;

static void plain(int sig) {
	got_sig = sig;
	calls++;
}

static void with_info(int sig, siginfo_t *si, void *uc) {
	got_sig = sig;
	got_info = *si;
	got_uc_nonnull = uc != NULL;
	calls++;
}

static void install(int sig, void (*h)(int), int flags, const sigset_t *mask) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	if (mask)
		sa.sa_mask = *mask;
	else
		sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		printf("sigaction(%d): %s\n", sig, strerror(errno));
}

static void install_info(int sig, int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = with_info;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static const char *code_name(int code) {
	switch (code) {
	case SI_USER:
		return "SI_USER";
	case SI_TKILL:
		return "SI_TKILL";
	case SI_QUEUE:
		return "SI_QUEUE";
	case SI_KERNEL:
		return "SI_KERNEL";
	}
	return "other";
}

static void show_info(const char *how) {
	printf("%s: calls=%d sig=%d si_signo=%d si_code=%s si_errno=%d si_pid==getpid(): %d si_uid==getuid(): %d uc: %d\n",
	       how, calls, got_sig, got_info.si_signo, code_name(got_info.si_code), got_info.si_errno,
	       got_info.si_pid == getpid(), got_info.si_uid == getuid(), got_uc_nonnull);
	calls = 0;
	got_sig = 0;
	memset(&got_info, 0, sizeof got_info);
}

static void senders(void) {
	install(SIGUSR1, plain, 0, NULL);
	printf("raise: %d", raise(SIGUSR1));
	printf(" calls=%d sig=%d\n", calls, got_sig);
	calls = 0;
	printf("kill: %d", kill(getpid(), SIGUSR1));
	printf(" calls=%d sig=%d\n", calls, got_sig);
	calls = 0;
	// One handler for two signals gets each one's number.
	install(SIGUSR2, plain, 0, NULL);
	printf("kill SIGUSR2: %d", kill(getpid(), SIGUSR2));
	printf(" calls=%d sig=%d\n", calls, got_sig);
	calls = 0;

	install_info(SIGUSR1, 0);
	raise(SIGUSR1);
	show_info("raise, SA_SIGINFO");
	kill(getpid(), SIGUSR1);
	show_info("kill, SA_SIGINFO");
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	show_info("tgkill, SA_SIGINFO");
	syscall(SYS_tkill, gettid(), SIGUSR1);
	show_info("tkill, SA_SIGINFO");
	install_info(SIGRTMIN + 2, 0);
	kill(getpid(), SIGRTMIN + 2);
	printf("realtime: sig==SIGRTMIN+2: %d\n", got_sig == SIGRTMIN + 2);
	show_info("kill SIGRTMIN+2");
	signal(SIGRTMIN + 2, SIG_DFL);
	install(SIGUSR1, SIG_DFL, 0, NULL);
	install(SIGUSR2, SIG_DFL, 0, NULL);
}

static volatile int resethand_self_blocked = -1;
static void resethand(int sig) {
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	resethand_self_blocked = sigismember(&cur, sig);
	calls++;
}

static void oneshot(void) {
	// SA_RESETHAND: the disposition is back to default once the handler
	// is entered; the signal is still blocked inside it (no SA_NODEFER).
	install(SIGUSR1, resethand, SA_RESETHAND, NULL);
	raise(SIGUSR1);
	struct sigaction now;
	sigaction(SIGUSR1, NULL, &now);
	printf("SA_RESETHAND: calls=%d blocked inside=%d now default=%d\n", calls, resethand_self_blocked,
	       now.sa_handler == SIG_DFL);
	calls = 0;
	// With SA_NODEFER too, the signal is not blocked inside.
	install(SIGUSR1, resethand, SA_RESETHAND | SA_NODEFER, NULL);
	raise(SIGUSR1);
	printf("SA_RESETHAND|SA_NODEFER: calls=%d blocked inside=%d\n", calls, resethand_self_blocked);
	calls = 0;
}

static volatile int depth, maxdepth;
static void nester(int sig) {
	char b[8];
	depth++;
	if (depth > maxdepth)
		maxdepth = depth;
	calls++;
	snprintf(b, sizeof b, "<%d", depth);
	note(b);
	if (calls < 3)
		raise(sig);
	snprintf(b, sizeof b, ">%d", depth);
	note(b);
	depth--;
}

static void nodefer(void) {
	// Without SA_NODEFER a raise inside the handler waits for the return:
	// three deliveries one after another.
	install(SIGUSR1, nester, 0, NULL);
	raise(SIGUSR1);
	printf("default: calls=%d max depth=%d\n", calls, maxdepth);
	show_events("default order");
	calls = maxdepth = 0;
	// With SA_NODEFER it is delivered at once, inside the handler.
	install(SIGUSR1, nester, SA_NODEFER, NULL);
	raise(SIGUSR1);
	printf("SA_NODEFER: calls=%d max depth=%d\n", calls, maxdepth);
	show_events("SA_NODEFER order");
	calls = maxdepth = 0;
	install(SIGUSR1, SIG_DFL, 0, NULL);
}

static char inside_mask[128];
static int usr2_pending_inside = -1;
static void masked_usr1(int sig) {
	(void)sig;
	note("usr1<");
	blocked_list(inside_mask, sizeof inside_mask);
	raise(SIGUSR2);
	raise(SIGHUP);
	sigset_t p;
	sigpending(&p);
	usr2_pending_inside = sigismember(&p, SIGUSR2);
	note("usr1>");
}
static void on_usr2(int sig) {
	(void)sig;
	note("usr2 ");
}
static void on_hup(int sig) {
	(void)sig;
	note("hup ");
}

static void masks(void) {
	char buf[128];
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	install(SIGUSR1, masked_usr1, 0, &m);
	install(SIGUSR2, on_usr2, 0, NULL);
	install(SIGHUP, on_hup, 0, NULL);
	raise(SIGUSR1);
	printf("sa_mask {USR2}: blocked inside:%s\n", inside_mask);
	printf("USR2 pending inside: %d\n", usr2_pending_inside);
	show_events("order");
	blocked_list(buf, sizeof buf);
	printf("blocked after return:%s\n", buf);

	// The mask before delivery comes back too, and stays in force inside.
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR1);
	printf("with SIGINT blocked: inside:%s\n", inside_mask);
	show_events("order");
	blocked_list(buf, sizeof buf);
	printf("blocked after return:%s\n", buf);
	sigprocmask(SIG_UNBLOCK, &block, NULL);

	// A full sa_mask: HUP and USR2 both wait for the handler's return.
	// Linux then delivers the lowest-numbered first: it builds HUP's frame,
	// and as USR2 is still pending and not blocked by HUP's handler it
	// builds USR2's frame on top before returning to user space, so USR2's
	// handler body runs first and returns into HUP's.
	sigfillset(&m);
	install(SIGUSR1, masked_usr1, 0, &m);
	raise(SIGUSR1);
	printf("sa_mask full: inside:%s\n", inside_mask);
	show_events("order");

	// Signals blocked by sigprocmask stay pending; unblocking delivers
	// them before sigprocmask returns.
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR2);
	note("unblock ");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	note("returned");
	show_events("blocked then unblocked");
	install(SIGUSR1, SIG_DFL, 0, NULL);
	install(SIGUSR2, SIG_DFL, 0, NULL);
	install(SIGHUP, SIG_DFL, 0, NULL);
}

static volatile int saved_errno = -1;
static void clobber(int sig) {
	(void)sig;
	errno = EIO;
	calls++;
}

// Returning from a handler restores the registers the interrupted code
// had: the result of the system call that delivered it (tgkill: 0) and a
// live floating-point value. errno is memory: what the handler wrote stays.
static void registers(void) {
	install(SIGUSR1, clobber, 0, NULL);
	errno = 0;
	long r = syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	saved_errno = errno;
	printf("tgkill with handler: r=%ld calls=%d errno is EIO: %d\n", r, calls, saved_errno == EIO);
	calls = 0;
	volatile double x = 1.5;
	raise(SIGUSR1);
	printf("float survives: %d\n", x * 2 == 3.0);
	install(SIGUSR1, SIG_DFL, 0, NULL);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	senders();
	oneshot();
	nodefer();
	masks();
	registers();
	printf("done\n");
	return 0;
}
