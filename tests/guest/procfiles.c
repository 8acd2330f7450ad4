// The /proc/self files that describe a process's memory and system calls
// beyond maps and smaps (smaps_rollup, numa_maps, pagemap, syscall,
// map_files/) describe the guest, as proc(5) documents them, never the
// emulator: their addresses are the guest's mappings, pagemap is indexed by
// guest page, syscall names the guest's call in the guest's numbering.
// qemu-user shows the host's files, so the program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static char maps[1 << 16], other[1 << 18];

static long slurp(const char *path, char *buf, size_t size) {
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	long n = 0, k;
	while ((k = read(fd, buf + n, size - 1 - n)) > 0)
		n += k;
	close(fd);
	buf[n] = 0;
	return n;
}

// The mappings of /proc/self/maps: their starts and ends.
static uintmax_t starts[512], ends[512];
static int nmaps;

static void read_maps(void) {
	slurp("/proc/self/maps", maps, sizeof maps);
	nmaps = 0;
	for (char *l = maps; *l && nmaps < 512; l = strchr(l, '\n') + 1) {
		sscanf(l, "%jx-%jx", &starts[nmaps], &ends[nmaps]);
		nmaps++;
		if (!strchr(l, '\n'))
			break;
	}
}

static int is_mapping(uintmax_t lo, uintmax_t hi) {
	for (int i = 0; i < nmaps; i++)
		if (starts[i] == lo && ends[i] == hi)
			return 1;
	return 0;
}

// kb is the value of "Key:   N kB" in buf, or -1.
static long kb(const char *buf, const char *key) {
	const char *p = strstr(buf, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static uint64_t pagemap_entry(int fd, void *addr) {
	uint64_t e = 0;
	off_t off = (uintptr_t)addr / sysconf(_SC_PAGESIZE) * 8;
	if (pread(fd, &e, 8, off) != 8)
		return ~0ULL;
	return e;
}

int main(void) {
	long page = sysconf(_SC_PAGESIZE);

	// smaps_rollup: one header spanning every mapping, the sum of smaps.
	read_maps();
	long n = slurp("/proc/self/smaps_rollup", other, sizeof other);
	uintmax_t lo = 0, hi = 0;
	sscanf(other, "%jx-%jx", &lo, &hi);
	check("smaps_rollup spans the guest's first to last mapping",
	      n > 0 && nmaps > 0 && lo == starts[0] && hi == ends[nmaps - 1] && strstr(other, "[rollup]"));
	long rollup = kb(other, "\nRss:");
	slurp("/proc/self/smaps", other, sizeof other);
	long sum = 0;
	for (char *p = other; (p = strstr(p, "\nRss:")); p++)
		sum += strtol(p + 5, NULL, 10);
	check("smaps_rollup's Rss is the sum of smaps'", rollup > 0 && labs(rollup - sum) <= 64);
	printf("  (rollup %ld kB, smaps sum %ld kB)\n", rollup, sum);

	// numa_maps: one line per mapping, by start address.
	read_maps();
	slurp("/proc/self/numa_maps", other, sizeof other);
	int lines = 0, matched = 0;
	for (char *l = other; *l; lines++) {
		uintmax_t start = strtoumax(l, NULL, 16);
		if (lines < nmaps && start == starts[lines])
			matched++;
		char *nl = strchr(l, '\n');
		if (!nl)
			break;
		l = nl + 1;
	}
	check("numa_maps has the guest's mappings, in order", lines == nmaps && matched == nmaps);

	// pagemap: entry i is guest page i's.
	int pm = open("/proc/self/pagemap", O_RDONLY);
	check("pagemap opens", pm >= 0);
	char *touched = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	touched[0] = 1;
	char *gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gone[0] = 1;
	munmap(gone, page);
	check("pagemap: a written page is present (bit 63)", pagemap_entry(pm, touched) >> 63 == 1);
	check("pagemap: an unmapped page reads 0", pagemap_entry(pm, gone) == 0);
	uint64_t e;
	errno = 0;
	check("pagemap: a misaligned offset is EINVAL", pread(pm, &e, 8, 3) < 0 && errno == EINVAL);
	errno = 0;
	check("pagemap: a count not a multiple of 8 is EINVAL", pread(pm, &e, 5, 0) < 0 && errno == EINVAL);
	// Past the end of user space (2^48 on arm64; beyond any 32-bit address):
	// end of file.
	uint64_t past = sizeof(void *) == 8 ? (1ULL << 48) : (1ULL << 32);
	check("pagemap: nothing past user space", pread(pm, &e, 8, (off_t)(past / page * 8)) == 0);
	// read advances the descriptor's offset by what it read.
	lseek(pm, (uintptr_t)touched / page * 8, SEEK_SET);
	uint64_t two[2];
	check("pagemap: read at the offset, which advances",
	      read(pm, two, 16) == 16 && two[0] >> 63 == 1 && lseek(pm, 0, SEEK_CUR) == (off_t)((uintptr_t)touched / page * 8 + 16));
	close(pm);

	// syscall: the reading thread is in its read, in the guest's numbers.
	int sfd = open("/proc/self/syscall", O_RDONLY);
	char line[256] = {0};
	long got = read(sfd, line, sizeof line - 1);
	long nr = -2;
	uintmax_t arg0 = ~(uintmax_t)0;
	sscanf(line, "%ld %jx", &nr, &arg0);
	check("syscall names the guest's read and its descriptor", got > 0 && nr == SYS_read && arg0 == (uintmax_t)sfd);
	printf("  (%s)\n", strtok(line, "\n"));
	close(sfd);

	// map_files/: each link is named by a mapping's range (root only).
	DIR *d = opendir("/proc/self/map_files");
	if (!d) {
		check("map_files (not readable here)", errno == EACCES || errno == EPERM || errno == ENOENT);
	} else {
		read_maps();
		int bad = 0;
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			uintmax_t a, b;
			if (sscanf(de->d_name, "%jx-%jx", &a, &b) != 2 || !is_mapping(a, b))
				bad++;
		}
		closedir(d);
		check("map_files names no range that is not a guest mapping", bad == 0);
	}
	return failures != 0;
}
