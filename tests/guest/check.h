// check prints one line per expectation, "WHAT: ok" or "WHAT: FAIL", and
// counts the failures, which main usually returns: the harness compares the
// lines with the oracle's (qemu-user, or the program itself).
#include <stdio.h>

static int failures;

static void check(const char *what, int ok) {
	printf("%s: %s\n", what, ok ? "ok" : "FAIL");
	failures += !ok;
}
