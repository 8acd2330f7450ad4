// A brk instruction kills the process with SIGTRAP (133). brk is an AArch64
// instruction.
// xemu-test: arch=aarch64
#include <stdio.h>

int main(void) {
	printf("about to execute brk\n");
	fflush(stdout);
	__asm__ volatile("brk #0");
	printf("not reached\n");
	return 0;
}
