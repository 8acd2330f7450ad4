// abort() kills the process with SIGABRT: the parent sees 128+6. Output still
// in stdio's buffer (stdout is a pipe here) is lost, as it is natively.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
	printf("written before abort\n");
	fflush(stdout);
	printf("still buffered\n");
	abort();
}
