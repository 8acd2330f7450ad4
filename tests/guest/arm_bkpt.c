// A bkpt instruction kills the process with SIGTRAP (133), in ARM and in
// Thumb code: ARM's counterpart of sigtrap.c.
// xemu-test: arch=armhf,armel
#include <stdio.h>

int main(void) {
	printf("about to execute bkpt\n");
	fflush(stdout);
	__asm__ volatile("bkpt #0");
	printf("not reached\n");
	return 0;
}
