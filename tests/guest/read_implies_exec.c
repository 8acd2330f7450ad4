// The READ_IMPLIES_EXEC personality: once set, a mapping or protection
// change that allows reading allows execution too (mm/mmap.c do_mmap,
// mm/mprotect.c do_mprotect_pkey), as does the heap brk grows
// (VM_DATA_FLAGS_TSK_EXEC); /proc/self/maps shows the x. Without it,
// running code in such a page is SIGSEGV. qemu-user ignores the flag, so
// the program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <unistd.h>

#include "check.h"

static sigjmp_buf env;
static volatile int faulted;

static void on_segv(int sig) {
	(void)sig;
	faulted = 1;
	siglongjmp(env, 1);
}

#ifdef __aarch64__
static const uint32_t ret_insn = 0xd65f03c0; // ret
#else
static const uint32_t ret_insn = 0xe12fff1e; // bx lr (called in ARM state)
#endif

// Puts a return instruction at p and calls it; 1 if it returned.
static int runs(void *p) {
	memcpy(p, &ret_insn, 4);
	__builtin___clear_cache((char *)p, (char *)p + 4);
	faulted = 0;
	if (!sigsetjmp(env, 1))
		((void (*)(void))p)();
	return !faulted;
}

// The permission string /proc/self/maps shows for the page at p.
static void perms(void *p, char out[5]) {
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long lo, hi;
	strcpy(out, "????");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, out) == 3 && lo <= (uintptr_t)p && (uintptr_t)p < hi)
			break;
	if (f)
		fclose(f);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGSEGV, on_segv);
	char pm[5];
	char *before = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("without the flag a read/write page does not run code", !runs(before));

	int old = personality(0xffffffff);
	check("personality(READ_IMPLIES_EXEC)", personality(old | READ_IMPLIES_EXEC) == old &&
						       (personality(0xffffffff) & READ_IMPLIES_EXEC));
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	perms(p, pm);
	check("mmap(PROT_READ|PROT_WRITE) is rwx", strcmp(pm, "rwxp") == 0);
	check("and runs code", runs(p));
	check("mprotect(PROT_READ|PROT_WRITE) of the old page makes it rwx",
	      mprotect(before, 4096, PROT_READ | PROT_WRITE) == 0 && (perms(before, pm), strcmp(pm, "rwxp") == 0) &&
		  runs(before));
	mprotect(p, 4096, PROT_READ);
	perms(p, pm);
	check("mprotect(PROT_READ) is r-x", strcmp(pm, "r-xp") == 0);
	char *w = mmap(NULL, 4096, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	perms(w, pm);
	check("write-only stays without x", pm[2] == '-');
	char *heap = sbrk(0);
	if (sbrk(8192) != (void *)-1) {
		char *page = (char *)(((uintptr_t)heap + 4095) & ~(uintptr_t)4095);
		perms(page, pm);
		check("the heap brk grows is executable", pm[2] == 'x' && runs(page));
	} else {
		check("brk", 0);
	}
	return failures ? 1 : 0;
}
