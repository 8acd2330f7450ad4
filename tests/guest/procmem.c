// /proc/self/mem addresses the guest's own memory: reads and writes at a
// guest address see and change the guest's bytes, an unmapped address is
// EIO, and read/write advance the offset. qemu-arm gets this wrong (its
// /proc/self/mem is the host's: a read at a guest address returns qemu's
// own bytes), so the program checks itself.
// xemu-test: oracle=self
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static char secret[32] = "guest bytes";

int main(void) {
	off_t at = (off_t)(uintptr_t)secret;
	int fd = open("/proc/self/mem", O_RDWR);
	char buf[32] = {0};
	check("open", fd >= 0);
	check("pread sees the guest's bytes", pread(fd, buf, 11, at) == 11 && strcmp(buf, "guest bytes") == 0);
	check("pwrite", pwrite(fd, "GUEST", 5, at) == 5);
	check("pwrite changed the guest's bytes", strcmp(secret, "GUEST bytes") == 0);
	lseek(fd, at, SEEK_SET);
	memset(buf, 0, sizeof buf);
	check("read at the offset", read(fd, buf, 5) == 5 && strcmp(buf, "GUEST") == 0);
	check("offset advanced", lseek(fd, 0, SEEK_CUR) == at + 5);
	errno = 0;
	check("unmapped address: EIO", pread(fd, buf, 4, 0x1000) == -1 && errno == EIO);
	return failures != 0;
}
