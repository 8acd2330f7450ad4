// ITIMER_VIRTUAL counts the process's CPU time and then sends SIGVTALRM,
// whose default action kills (128+26).
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>

int main(void) {
	printf("spinning\n");
	fflush(stdout);
	struct itimerval v = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_VIRTUAL, &v, NULL);
	for (volatile unsigned long i = 0;; i++)
		;
}
