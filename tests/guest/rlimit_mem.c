// RLIMIT_AS and RLIMIT_DATA limit the guest's memory as mm/mmap.c
// may_expand_vm does: a mapping, brk or a growing mremap that would take the
// address space (every mapping, PROT_NONE included) past RLIMIT_AS, or the
// private writable mappings (the heap included, the stack aside) past
// RLIMIT_DATA, fails with ENOMEM; shared and read-only mappings are not data;
// what MAP_FIXED replaces is not counted twice; a fork child inherits the
// limits, and they survive execve. qemu-user ignores both limits, so the
// program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define MiB (1024UL * 1024)

// The guest's mapped bytes below the kernel's gate pages, from
// /proc/self/maps.
static unsigned long mapped_bytes(void) {
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long total = 0, lo, hi;
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && !strstr(line, "[vectors]") && !strstr(line, "[vsyscall]"))
			total += hi - lo;
	}
	if (f)
		fclose(f);
	return total;
}

static int maps_ok(void *p) { return p != MAP_FAILED; }
static int enomem(void *p) { return p == MAP_FAILED && errno == ENOMEM; }

static void *anon(size_t n, int prot, int flags) {
	return mmap(NULL, n, prot, flags | MAP_ANONYMOUS, -1, 0);
}

// Run by execve with the limits set: they still hold.
static int after_exec(void) {
	struct rlimit as, data;
	if (getrlimit(RLIMIT_AS, &as) != 0 || getrlimit(RLIMIT_DATA, &data) != 0)
		return 2;
	if (as.rlim_cur == RLIM_INFINITY || data.rlim_cur != 64 * MiB)
		return 3;
	if (!enomem(anon(64 * MiB, PROT_READ, MAP_PRIVATE)) || !maps_ok(anon(4 * MiB, PROT_READ, MAP_PRIVATE)))
		return 4;
	return 0;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "after-exec") == 0)
		return after_exec();
	struct rlimit r = {RLIM_INFINITY, RLIM_INFINITY};

	// RLIMIT_AS: 32 MiB above what is mapped now.
	unsigned long base = mapped_bytes();
	r.rlim_cur = base + 32 * MiB;
	check("setrlimit(RLIMIT_AS)", setrlimit(RLIMIT_AS, &r) == 0);
	struct rlimit back;
	check("getrlimit(RLIMIT_AS) reads it back", getrlimit(RLIMIT_AS, &back) == 0 && back.rlim_cur == r.rlim_cur);
	void *a = anon(16 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	check("AS: 16 MiB fits", maps_ok(a));
	check("AS: 64 MiB more is ENOMEM", enomem(anon(64 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE)));
	check("AS: PROT_NONE counts too", enomem(anon(64 * MiB, PROT_NONE, MAP_PRIVATE)));
	check("AS: shared counts too", enomem(anon(64 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED)));
	check("AS: MAP_FIXED over the 16 MiB is not counted twice",
	      maps_ok(mmap(a, 16 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)));
	errno = 0;
	check("AS: mremap growing past it is ENOMEM",
	      mremap(a, 16 * MiB, 80 * MiB, MREMAP_MAYMOVE) == MAP_FAILED && errno == ENOMEM);
	errno = 0;
	check("AS: brk past it fails", sbrk(64 * MiB) == (void *)-1 && errno == ENOMEM);
	check("AS: a small brk still works", sbrk(4096) != (void *)-1);
	// A fork child has the same limit.
	pid_t child = fork();
	if (child == 0)
		_exit(enomem(anon(64 * MiB, PROT_READ, MAP_PRIVATE)) && maps_ok(anon(4 * MiB, PROT_READ, MAP_PRIVATE)) ? 0 : 1);
	int status;
	waitpid(child, &status, 0);
	check("AS: a fork child inherits it", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	munmap(a, 16 * MiB);
	r.rlim_cur = RLIM_INFINITY;
	setrlimit(RLIMIT_AS, &r);
	void *big = anon(64 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	check("AS: unlimited again, 64 MiB fits", maps_ok(big));
	munmap(big, 64 * MiB);

	// RLIMIT_DATA: private writable memory only.
	r.rlim_cur = 64 * MiB;
	check("setrlimit(RLIMIT_DATA)", setrlimit(RLIMIT_DATA, &r) == 0);
	check("DATA: 128 MiB private writable is ENOMEM", enomem(anon(128 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE)));
	void *ro = anon(128 * MiB, PROT_READ, MAP_PRIVATE);
	check("DATA: 128 MiB read-only is not data", maps_ok(ro));
	void *sh = anon(128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED);
	check("DATA: 128 MiB shared is not data", maps_ok(sh));
	errno = 0;
	check("DATA: brk by 128 MiB fails", sbrk(128 * MiB) == (void *)-1 && errno == ENOMEM);
	void *small = anon(8 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	check("DATA: 8 MiB private writable fits", maps_ok(small));

	// Both survive execve (the new program maps about what this one did at
	// its start).
	munmap(ro, 128 * MiB);
	munmap(sh, 128 * MiB);
	munmap(small, 8 * MiB);
	r.rlim_cur = mapped_bytes() + 32 * MiB;
	setrlimit(RLIMIT_AS, &r);
	child = fork();
	if (child == 0) {
		execl("/proc/self/exe", argv[0], "after-exec", (char *)NULL);
		_exit(99);
	}
	waitpid(child, &status, 0);
	check("both limits survive execve", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("  (status %#x)\n", status);
	return failures ? 1 : 0;
}
