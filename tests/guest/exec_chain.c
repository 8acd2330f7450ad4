// A chain of execve: the program executes itself 1000 times (200 when
// dynamically linked, whose images take longer to start), the count in its
// arguments. Every image must have the first one's pid, and the emulator's
// resident memory (VmRSS) must not grow with the images: each execve frees
// the old address space and engine. The bound is loose (what an image costs
// to run is a few MiB, and a leaked engine or address space is that much
// per image); the growth itself is printed only as within it or not.
// qemu-user cannot execute a guest program without binfmt_misc, so the
// program checks itself.
// xemu-test: oracle=self
// xemu-test: modes=static,dynamic
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#define WARMUP 20
#define BOUND_KB (24 * 1024)

static long vmrss(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

int main(int argc, char **argv) {
	int images = getauxval(AT_BASE) ? 200 : 1000;
	int image = argc > 1 ? atoi(argv[1]) : 0;
	long pid = argc > 2 ? atol(argv[2]) : getpid();
	long base = argc > 3 ? atol(argv[3]) : 0;
	if (pid != getpid()) {
		printf("image %d: pid %d, the first image's was %ld\n", image, getpid(), pid);
		return 1;
	}
	if (image == WARMUP)
		base = vmrss();
	if (image == images) {
		long growth = vmrss() - base;
		printf("%d images, one pid\n", images);
		printf("VmRSS growth after image %d: %s\n", WARMUP, growth < BOUND_KB ? "within bound" : "too much");
		if (growth >= BOUND_KB)
			printf("(%ld kB)\n", growth);
		return growth < BOUND_KB ? 0 : 1;
	}
	char next[16], spid[24], sbase[24];
	snprintf(next, sizeof next, "%d", image + 1);
	snprintf(spid, sizeof spid, "%ld", pid);
	snprintf(sbase, sizeof sbase, "%ld", base);
	char *args[] = {argv[0], next, spid, sbase, NULL};
	execv("/proc/self/exe", args);
	perror("execv");
	return 1;
}
