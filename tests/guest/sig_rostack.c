// A signal whose handler runs on an alternate stack the process may not
// write (read-only, or PROT_NONE): the kernel cannot write the frame, forces
// SIGSEGV (signal_setup_done -> force_sigsegv), and the memory stays as it
// was. The stack memory is shared with the parent, which checks it.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int handled;
static void handler(int sig) { (void)sig, handled = 1; }

static int run(int prot) {
	size_t len = 64 * 1024;
	unsigned char *st = mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < len; i++)
		st[i] = (unsigned char)(i * 7 + 1);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		mprotect(st, len, prot);
		stack_t ss = {.ss_sp = st, .ss_size = len};
		struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_ONSTACK};
		if (sigaltstack(&ss, 0) != 0 || sigaction(SIGUSR2, &sa, 0) != 0)
			_exit(2);
		raise(SIGUSR2);
		_exit(handled ? 3 : 4);
	}
	int status;
	waitpid(c, &status, 0);
	int same = 1;
	for (size_t i = 0; i < len; i++)
		same &= st[i] == (unsigned char)(i * 7 + 1);
	int ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV && same;
	printf("%s alternate stack: %s, memory %s: %s\n", prot == PROT_READ ? "read-only" : "PROT_NONE",
	       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited", same ? "unchanged" : "CHANGED",
	       ok ? "ok" : "FAIL");
	return ok;
}

int main(void) {
	int ok = run(PROT_READ);
	ok &= run(PROT_NONE);
	return !ok;
}
