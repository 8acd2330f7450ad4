// A store to address 0 kills the process with SIGSEGV: the parent sees 139.
#include <stdio.h>

int main(void) {
	printf("about to write to NULL\n");
	fflush(stdout);
	*(volatile int *)0 = 1;
	printf("not reached\n");
	return 0;
}
