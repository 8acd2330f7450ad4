// Signal delivery latency: spins without system calls or memory accesses
// while a parent sends SIGUSR1; the handler answers with one byte. Exits on
// SIGTERM. Run by BenchmarkSignalLatency, not as a timed kernel.
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void answer(int sig) {
	(void)sig;
	write(1, "h", 1);
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = answer;
	sigaction(SIGUSR1, &sa, NULL);
	write(1, "r", 1);
	for (;;)
		__asm__ volatile("" ::: "memory");
}
