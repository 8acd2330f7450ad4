// Unbounded recursion runs off the end of the stack: SIGSEGV (139), not a
// crash of the emulator.
#include <stdio.h>

static int depth(volatile char *up, long n) {
	volatile char frame[1024];
	frame[0] = (char)n;
	if (n < 0)
		return 0;
	return depth(frame, n + 1) + frame[0] + up[0];
}

int main(void) {
	printf("recursing\n");
	fflush(stdout);
	char top[1] = {0};
	return depth(top, 0);
}
