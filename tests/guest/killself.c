// Signals a process sends itself: an ignored one is dropped, SIGCHLD's
// default is to ignore, signal 0 only checks, and SIGTERM's default kills
// (143).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGUSR1, SIG_IGN);
	printf("kill ignored: %d\n", kill(getpid(), SIGUSR1));
	printf("raise ignored: %d\n", raise(SIGUSR1));
	printf("kill SIGCHLD: %d\n", kill(getpid(), SIGCHLD));
	printf("kill 0: %d\n", kill(getpid(), 0));
	printf("kill 99: %d %s\n", kill(getpid(), 99), strerrorname_np(errno));
	printf("tgkill ignored: %ld\n", syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1));
	printf("tkill ignored: %ld\n", syscall(SYS_tkill, gettid(), SIGUSR1));
	kill(getpid(), SIGTERM);
	printf("not reached\n");
	return 0;
}
