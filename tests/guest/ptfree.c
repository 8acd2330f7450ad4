// Mapping and unmapping large ranges at ever new addresses must not grow the
// emulator: Linux keeps no page tables for unpopulated PROT_NONE
// reservations, and xemu's page table frees the nodes an unmapping empties.
// Each round reserves 8 GiB (16 MiB of xemu's page table while mapped) at a
// new address and unmaps it; the process's peak resident set (getrusage,
// which under xemu is xemu's own) may grow by at most 24 MiB over the twelve
// rounds after the first. Before the nodes were freed it grew 16 MiB a round.
// xemu-test: arch=aarch64
// xemu-test: modes=static
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>

static long peakMiB(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss >> 10;
}

int main(void) {
	const size_t len = 8UL << 30;
	long first = 0;
	for (int i = 0; i < 13; i++) {
		void *hint = (void *)(0x100000000000UL + (unsigned long)i * 0x1000000000UL);
		char *p = mmap(hint, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		if (munmap(p, len) != 0) {
			perror("munmap");
			return 1;
		}
		if (i == 0)
			first = peakMiB();
	}
	long grew = peakMiB() - first;
	printf("peak resident set grew %s over twelve rounds\n", grew <= 24 ? "at most 24 MiB" : "more than 24 MiB");
	if (grew > 24)
		printf("  by %ld MiB\n", grew);
	return grew > 24;
}
