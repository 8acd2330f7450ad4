// A permanently undefined instruction kills the process with SIGILL (132).
#include <stdio.h>

int main(void) {
	printf("about to execute udf\n");
	fflush(stdout);
	__asm__ volatile("udf #0");
	printf("not reached\n");
	return 0;
}
