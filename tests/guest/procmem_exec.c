// A /proc/self/mem (and pagemap) descriptor kept across execve refers to
// the memory it was opened on, which the execve ended: reads and writes
// through it move nothing and return 0 (fs/proc/base.c mem_rw, whose
// mmget_not_zero fails; pagemap_read likewise), whatever the address. A
// /proc/self/mem opened after the execve reaches the new program's memory.
// qemu-user cannot execute a guest program without binfmt_misc, so the
// program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static char word[8] = "present";

static void check(int ok, const char *what) {
	if (!ok) {
		printf("FAIL: %s (errno %s)\n", what, strerrorname_np(errno));
		failures++;
	}
}

int main(int argc, char **argv) {
	char buf[8];
	off_t at = (off_t)(uintptr_t)word;
	if (argc < 2) {
		int mem = open("/proc/self/mem", O_RDWR);
		int pm = open("/proc/self/pagemap", O_RDONLY);
		check(mem >= 0 && pm >= 0, "open");
		check(pread(mem, buf, 8, at) == 8 && memcmp(buf, "present", 8) == 0, "read before execve");
		check(pread(pm, buf, 8, at / 4096 * 8) == 8, "pagemap before execve");
		lseek(mem, at, SEEK_SET);
		if (failures)
			return 1;
		char self[PATH_MAX], a[16], b[16], c[24];
		if (!realpath("/proc/self/exe", self)) {
			printf("FAIL: realpath: %s\n", strerrorname_np(errno));
			return 1;
		}
		snprintf(a, sizeof a, "%d", mem);
		snprintf(b, sizeof b, "%d", pm);
		snprintf(c, sizeof c, "%lld", (long long)at);
		char *args[] = {self, a, b, c, NULL};
		execv(self, args);
		printf("FAIL: execve: %s\n", strerrorname_np(errno));
		return 1;
	}
	int mem = atoi(argv[1]), pm = atoi(argv[2]);
	check(fcntl(mem, F_GETFD) == 0 && fcntl(pm, F_GETFD) == 0, "descriptors kept");
	check(pread(mem, buf, 8, at) == 0, "pread of the old memory is 0");
	check(read(mem, buf, 8) == 0, "read of the old memory is 0");
	check(pwrite(mem, "XXXXXXX", 8, at) == 0, "pwrite to the old memory is 0");
	check(write(mem, "XXXXXXX", 8) == 0, "write to the old memory is 0");
	check(pwrite(mem, "XXXXXXX", 8, 4096) == 0, "pwrite at a low address is 0");
	check(pread(mem, buf, 8, 4096) == 0, "nothing kept at a low address");
	check(memcmp(word, "present", 8) == 0, "new memory untouched");
	check(lseek(mem, 0, SEEK_CUR) == atoll(argv[3]), "offset kept");
	check(pread(pm, buf, 8, at / 4096 * 8) == 0, "pagemap of the old memory is empty");
	int now = open("/proc/self/mem", O_RDWR);
	check(now >= 0 && pwrite(now, "renewed", 8, at) == 8 && memcmp(word, "renewed", 8) == 0, "new /proc/self/mem writes");
	if (failures)
		return 1;
	printf("old memory gone\n");
	return 0;
}
