// A JIT's double mapping: one memfd mapped writable at one address and
// executable at another. Code is written through the first and run through
// the second; __ARM_NR_cacheflush on either address must drop what was
// translated from the other, as cache maintenance by address reaches the
// physical lines behind both on real hardware. qemu-arm's cacheflush does
// nothing and it runs the old code, so the program is its own oracle.
// xemu-test: arch=armhf,armel
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

static void cacheflush(void *start, void *end) { syscall(0xf0002, start, end, 0); }

int main(void) {
	int fd = memfd_create("jit", MFD_CLOEXEC);
	ftruncate(fd, 4096);
	uint32_t *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uint32_t *rx = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	if (rw == MAP_FAILED || rx == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	int (*f)(void) = (int (*)(void))rx;

	for (int v = 1; v <= 5; v++) {
		rw[0] = 0xe3a00000 | v; // mov r0, #v
		rw[1] = 0xe12fff1e;     // bx lr
		// Flush by the address written on odd rounds, by the address run
		// on even ones.
		if (v % 2)
			cacheflush(rw, rw + 2);
		else
			cacheflush(rx, rx + 2);
		char what[64];
		snprintf(what, sizeof what, "round %d runs the code just written", v);
		check(f() == v, what);
	}

	// Thumb code at an offset inside the page.
	uint16_t *trw = (uint16_t *)(rw + 32), *trx = (uint16_t *)(rx + 32);
	int (*g)(void) = (int (*)(void))((uintptr_t)trx | 1);
	for (int v = 10; v <= 12; v++) {
		trw[0] = 0x2000 | v; // movs r0, #v
		trw[1] = 0x4770;     // bx lr
		cacheflush(trw, trw + 2);
		char what[64];
		snprintf(what, sizeof what, "Thumb round %d runs the code just written", v);
		check(g() == v, what);
	}
	printf("%d failures\n", failures);
	return failures != 0;
}
