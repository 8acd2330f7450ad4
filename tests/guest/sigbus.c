// Touching a file mapping past the end of the file is SIGBUS (exit 135), not
// an emulator crash.
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
	int fd = open("small", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (write(fd, "hello", 5) != 5)
		return 1;
	char *p = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	printf("in file: %.5s, rest of page: %d\n", p, p[100]);
	char buf[8];
	lseek(fd, 0, SEEK_SET);
	printf("read into it: %ld\n", (long)read(fd, p + 4096, 1) < 0 ? -1L : 0L);
	fflush(stdout);
	volatile char c = p[4096 + 10];
	(void)buf;
	printf("not reached %d\n", c);
	return 0;
}
