// A load inside a Thumb IT block that misses the TLB: the emulator refills
// the entry and the block goes on, and the IT state must end with the block.
// (Unicorn restores the instruction's IT state before its fill hook; left
// there, it made the code after the block conditional: a later conditional
// branch became an illegal instruction.)
// xemu-test: arch=armhf,armel
#include <stdio.h>
#include <sys/mman.h>

static int bad;

// cond 0: the load is skipped; otherwise it runs (and misses the TLB on a
// fresh page).
static void it_block(unsigned cond, const unsigned char *fresh, int round) {
	unsigned r1 = 0, r2 = 77, r4 = 0;
	__asm__ volatile(
		".syntax unified\n"
		"cmp %3, #0\n"
		"itet eq\n"
		"moveq %0, #1\n"
		"ldrbne %1, [%4]\n"
		"moveq %2, #2\n"
		: "+r"(r1), "+r"(r2), "+r"(r4)
		: "r"(cond), "r"(fresh)
		: "cc", "memory");
	int ok = cond == 0 ? r1 == 1 && r2 == 77 && r4 == 2 : r1 == 0 && r2 == 0 && r4 == 0;
	// A conditional branch right after: refused if IT state leaked.
	if (!ok && bad++ < 3)
		printf("round %d cond %u: %u %u %u\n", round, cond, r1, r2, r4);
}

int main(void) {
	for (int round = 0; round < 100; round++) {
		unsigned char *p = mmap(0, 4096 * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (round & 1)
			p[4096 * 2] = 5;
		it_block(round & 2, p + 4096 * 3, round);
		it_block(1, p + 4096 * 1, round);
		munmap(p, 4096 * 4);
	}
	printf("IT blocks with TLB misses: %s\n", bad ? "FAIL" : "ok");
	return bad != 0;
}
