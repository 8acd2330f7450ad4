// close_range over every descriptor closes the guest's and none of the
// emulator's own (found by the syscall fuzzer: with the emulator's
// descriptors taken in map order, a range closed around a higher one first
// swallowed the lower ones, and the Go runtime died on its closed epoll
// descriptor: "fatal error: runtime: netpoll failed"). The emulator must keep
// running: timed sleeps, a pipe, a fork and a fault's one line all need it.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
	int bad = 0;
	int p[2];
	pipe(p);
	for (int round = 0; round < 3; round++) {
		if (syscall(SYS_close_range, 3, ~0U, 0) != 0) {
			printf("close_range: %m\n");
			bad++;
		}
		if (fcntl(p[0], F_GETFD) != -1 || errno != EBADF) {
			printf("the guest's pipe survived close_range\n");
			bad++;
		}
		// Long enough for the Go runtime's monitor to poll its network
		// poller a few times.
		struct timespec ts = {0, 60 * 1000 * 1000};
		for (int i = 0; i < 5; i++)
			nanosleep(&ts, 0);
		if (pipe(p) != 0 || write(p[1], "x", 1) != 1) {
			printf("pipe after close_range: %m\n");
			bad++;
		}
		fflush(stdout);
		pid_t c = fork();
		if (c == 0)
			_exit(7);
		int st;
		if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
			printf("fork after close_range failed\n");
			bad++;
		}
	}
	printf("%s\n", bad ? "FAIL" : "ok");
	return bad != 0;
}
