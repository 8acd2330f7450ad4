// A writev whose 1024 segments all cover the same 16 MiB (two mappings, so
// not one contiguous piece of host memory) asks for 16 GiB: Linux moves at
// most MAX_RW_COUNT bytes, and xemu must neither copy gigabytes nor fail.
// The result may be short; it must be positive and within MAX_RW_COUNT.
// xemu-test: oracle=self
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
	size_t half = 8 << 20;
	char *a = mmap(NULL, 2 * half, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	// Mapped upper half first, with another mapping made in between, so
	// that the two halves are unlikely to sit side by side in the host.
	mmap(a + half, half, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mmap(a, half, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	a[0] = a[half] = 1;
	static struct iovec iov[1024];
	for (int i = 0; i < 1024; i++)
		iov[i] = (struct iovec){a, 2 * half};
	int fd = open("/dev/null", O_WRONLY);
	ssize_t n = writev(fd, iov, 1024);
	int ok = n > 0 && n <= 0x7ffff000;
	printf("writev of 16 GiB to /dev/null: %s\n", ok ? "bounded" : "FAIL");
	return !ok;
}
