// The emulator's own descriptors (its Go runtime's, its logs', its signal
// pipe's) are not the guest's: every call that takes a descriptor treats
// them as closed. The program has none open above 10, so every call on one
// must fail with EBADF, as it does natively and under qemu.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
	int bad = 0, checked = 0;
	for (int fd = 11; fd < 1200; fd++) {
		struct stat st;
		char c;
		long r[] = {
		    fstat(fd, &st),
		    lseek(fd, 0, SEEK_CUR),
		    read(fd, &c, 0),
		    write(fd, &c, 0),
		    fsync(fd),
		    ftruncate(fd, 0),
		    fcntl(fd, F_GETFL),
		    dup(fd),
		};
		for (unsigned i = 0; i < sizeof r / sizeof r[0]; i++) {
			checked++;
			if (r[i] != -1) {
				printf("fd %d call %u: %ld, not EBADF\n", fd, i, r[i]);
				bad++;
			}
		}
	}
	printf("%d calls, %d reached a descriptor\n", checked, bad);
	return bad != 0;
}
