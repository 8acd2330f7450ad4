// Built for one architecture, it executes the program argv[1] (built for
// the other) with its pid and a path as arguments; that program checks it
// has the same pid and that /proc/self/exe and comm name it, and prints
// its word size. See TestExecOtherArch.
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc == 2) {
		char pid[24];
		snprintf(pid, sizeof pid, "%d", getpid());
		printf("%zu-bit program %d executes %s\n", 8 * sizeof(void *), 1, strrchr(argv[1], '/') + 1);
		fflush(stdout);
		execl(argv[1], "other", pid, argv[1], (char *)NULL);
		perror("execl");
		return 1;
	}
	char exe[PATH_MAX] = {0}, comm[32] = {0};
	readlink("/proc/self/exe", exe, sizeof exe - 1);
	FILE *f = fopen("/proc/self/comm", "r");
	fgets(comm, sizeof comm, f);
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	char want[16] = {0};
	strncpy(want, strrchr(argv[2], '/') + 1, 15);
	printf("%zu-bit program %d: same pid %s, exe %s, comm %s\n", 8 * sizeof(void *), 2,
	       atoi(argv[1]) == getpid() ? "yes" : "no", strcmp(exe, argv[2]) == 0 ? "ok" : exe,
	       strcmp(comm, want) == 0 ? "ok" : comm);
	return 0;
}
