// The whole environment, in order: nothing added, removed or moved by the
// emulator (xemu borrows the last entry while its Go runtime starts:
// cpu/oneproc.c). The entries are the harness's testEnv. qemu-user 7.2
// hands the environment over in reverse order, so the program checks itself.
// xemu-test: oracle=self
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(void) {
	const char *want[] = {"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C", "TZ=UTC", NULL};
	int bad = 0, i = 0;
	for (; environ[i]; i++) {
		if (!want[i] || strcmp(environ[i], want[i]) != 0) {
			printf("environ[%d] = %s, want %s\n", i, environ[i], want[i] ? want[i] : "(end)");
			bad = 1;
		}
	}
	if (want[i]) {
		printf("environ ends at %d, want %s there\n", i, want[i]);
		bad = 1;
	}
	const char *tz = getenv("TZ");
	if (!tz || strcmp(tz, "UTC") != 0) {
		printf("getenv(TZ) = %s\n", tz ? tz : "(none)");
		bad = 1;
	}
	return bad;
}
