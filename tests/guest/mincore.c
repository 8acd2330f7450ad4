// mincore as mm/mincore.c answers it (the zero-length call was an internal
// error in the emulator, found by the syscall fuzzer): an unaligned start is
// EINVAL, a zero length is 0 whatever the address (the vector is checked for
// zero bytes, and no page is looked at), unmapped pages are ENOMEM, a vector
// outside user space is EFAULT, and every page of a mapping gets its byte,
// a PROT_NONE one included. Checked here, not against qemu-user, which gives
// EFAULT for the zero-length call with no vector.
// xemu-test: oracle=self
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int bad;

static void expect(const char *what, int r, int err) {
	int ok = err ? r == -1 && errno == err : r == 0;
	printf("%s: %d %s: %s\n", what, r, r ? strerror(errno) : "", ok ? "ok" : "FAIL");
	bad += !ok;
}

int main(void) {
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char v[4096];
	char *m = mmap(0, 64 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *hole = mmap(0, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, pg);
	expect("zero length inside a mapping", mincore(m + 8 * pg, 0, v), 0);
	expect("zero length, unmapped, no vector", mincore(hole, 0, 0), 0);
	expect("unaligned", mincore(m + 1, pg, v), EINVAL);
	expect("unmapped", mincore(hole, pg, v), ENOMEM);
	expect("vector at the top", mincore(m, pg, (unsigned char *)-4096L), EFAULT);
	for (int i = 0; i < 64; i += 2)
		m[i * pg] = 1;
	memset(v, 0xee, sizeof v);
	expect("mapped", mincore(m, 64 * pg, v), 0);
	int resident = 0, untouched = 0;
	for (int i = 0; i < 64; i++) {
		if ((v[i] & 1) && i % 2 == 0)
			resident++;
		if (v[i] == 0xee)
			untouched++;
	}
	printf("touched pages resident: %d of 32, bytes not written: %d, byte past the end: %#x\n", resident,
	       untouched, v[64]);
	bad += resident != 32 || untouched != 0 || v[64] != 0xee;
	// More pages than one round of the kernel's (and the emulator's) vector.
	long n = 40000;
	char *big = mmap(0, n * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	static unsigned char bv[40001];
	memset(bv, 0x77, sizeof bv);
	expect("40000 PROT_NONE pages", mincore(big, n * pg, bv), 0);
	int unwritten = 0;
	for (long i = 0; i < n; i++)
		unwritten += bv[i] == 0x77;
	printf("bytes not written: %d, past the end %#x\n", unwritten, bv[n]);
	bad += unwritten != 0 || bv[n] != 0x77;
	return bad != 0;
}
