// Exit status 0 from main's return, with buffered output flushed at exit.
#include <stdio.h>

int main(void) {
	printf("exiting with 0\n");
	return 0;
}
