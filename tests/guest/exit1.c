// exit(1): atexit handlers run and stdio is flushed before the status.
#include <stdio.h>
#include <stdlib.h>

static void last(void) { printf("atexit ran\n"); }

int main(void) {
	atexit(last);
	printf("exiting with 1\n");
	exit(1);
}
