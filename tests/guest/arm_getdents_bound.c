// ARM's old getdents with a huge count: Linux checks only that the range is
// user space (access_ok) and writes the records it has, so a buffer low in
// memory gets entries and a stack buffer whose range runs past user space gets
// EFAULT. xemu sizes its host buffer by what the guest can take, not by
// the count (it allocated the whole count before). qemu-arm fails both
// with EFAULT, so the program checks itself.
// xemu-test: oracle=self
// xemu-test: arch=armhf,armel
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
	int fd = open("/", O_RDONLY | O_DIRECTORY);
	// A buffer low in memory, so that the 2 GiB range stays in user space
	// whatever the layout (a PIE's heap sits above 2.6 GiB).
	char *heap = mmap((void *)0x20000000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char stack[64];
	long r1 = syscall(SYS_getdents, fd, heap, 0x7fffffff);
	errno = 0;
	long r2 = syscall(SYS_getdents, fd, stack, 0x7fffffff);
	int e2 = errno;
	printf("low buffer: %s\n", r1 > 0 ? "entries" : "FAIL");
	printf("stack buffer past user space: %s\n", r2 == -1 && e2 == EFAULT ? "EFAULT" : "FAIL");
	return !(r1 > 0 && r2 == -1 && e2 == EFAULT);
}
