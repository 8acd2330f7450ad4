// A status of -1 is seen as 255 by the parent.
#include <stdio.h>

int main(void) {
	printf("returning -1\n");
	return -1;
}
