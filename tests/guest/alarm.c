// Interval timers reach the process: an ignored SIGALRM lets a sleep run to
// its end, and a default one kills the process (128+14).
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGALRM, SIG_IGN);
	struct itimerval v = {{0, 0}, {0, 20000}};
	setitimer(ITIMER_REAL, &v, NULL);
	struct timespec req = {0, 100000000}, rem = {0, 0};
	printf("ignored alarm: nanosleep=%d\n", nanosleep(&req, &rem));
	signal(SIGALRM, SIG_DFL);
	alarm(1);
	sleep(5);
	printf("not reached\n");
	return 0;
}
