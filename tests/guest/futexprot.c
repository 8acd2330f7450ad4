// Futex operations that write their word need it writable (kernel/futex:
// get_futex_key with FUTEX_WRITE): on a read-only page they fail with
// EFAULT and change nothing. qemu-user writes the word anyway, so the
// program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static long futex(uint32_t *a, int op, uint32_t val, void *timeout, uint32_t *a2, uint32_t val3) {
	return syscall(SYS_futex, a, op, val, timeout, a2, val3);
}

int main(void) {
	long pg = sysconf(_SC_PAGESIZE);
	uint32_t *ro = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t rw = 0;
	ro[0] = 0;
	mprotect(ro, pg, PROT_READ);
	errno = 0;
	check("TRYLOCK_PI on a read-only word: EFAULT", futex(ro, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0) == -1 && errno == EFAULT);
	check("the word is unchanged", ro[0] == 0);
	errno = 0;
	int op = FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 0);
	check("WAKE_OP on a read-only second word: EFAULT", futex(&rw, FUTEX_WAKE_OP, 1, (void *)1, ro, op) == -1 && errno == EFAULT);
	check("the second word is unchanged", ro[0] == 0);
	check("TRYLOCK_PI on a writable word works", futex(&rw, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0) == 0 && (rw & FUTEX_TID_MASK) == (uint32_t)gettid());
	check("WAIT on a read-only word is allowed (EAGAIN)", futex(ro, FUTEX_WAIT, 1, NULL, NULL, 0) == -1 && errno == EAGAIN);
	return failures != 0;
}
