// The smallest check: arguments, environment, stdout, exit status.
// xemu-test: args=one two
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++)
		printf("arg %d: %s\n", i, argv[i]);
	printf("LANG=%s\n", getenv("LANG"));
	return 7;
}
