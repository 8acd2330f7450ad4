// Lengths and addresses that wrap when rounded up to a page are refused the
// way Linux refuses them (mm/mmap.c, mm/mprotect.c, mm/mremap.c, brk), and
// change nothing: before, brk(~0) unmapped everything below the heap and a
// wrapping munmap, mprotect or mremap returned success.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

int main(void) {
	long pg = sysconf(_SC_PAGESIZE);
	size_t wrap = (size_t)-1 - 10; // PAGE_ALIGN makes it 0
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 1;
	errno = 0;
	check("munmap with a wrapping length: EINVAL", munmap(p, wrap) == -1 && errno == EINVAL);
	errno = 0;
	check("mprotect with a wrapping length: ENOMEM", mprotect(p, wrap, PROT_READ) == -1 && errno == ENOMEM);
	errno = 0;
	check("mremap to a wrapping length: EINVAL", mremap(p, pg, wrap, 0) == MAP_FAILED && errno == EINVAL);
	errno = 0;
	check("mremap from a wrapping length: EINVAL", mremap(p, wrap, pg, 0) == MAP_FAILED && errno == EINVAL);
	p[pg] = 2;
	check("the mapping is untouched", p[0] == 1 && p[pg] == 2);
	long cur = syscall(SYS_brk, 0);
	check("brk(~0) leaves the break", syscall(SYS_brk, (long)-1) == cur);
	check("brk(~0 - page) leaves the break", syscall(SYS_brk, (long)-1 - pg) == cur);
	check("the program's data is still mapped", p[0] == 1 && failures == 0);
	return failures != 0;
}
