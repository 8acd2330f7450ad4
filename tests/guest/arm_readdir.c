// Reading a directory of 200 entries on the host file system (ext4 in the
// tests' temporary directories), with a plain readdir loop, readdir64,
// telldir/seekdir, rewinddir and the old getdents call. A 32-bit program's
// readdir needs directory offsets that fit its 32-bit off_t, as a 32-bit
// kernel gives them; qemu-user passes the host's 64-bit ext4 hash cookies
// and the loop ends at once with EOVERFLOW. The program knows how many
// entries it made, so it is its own oracle.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 200

static int failures;

static void check(int ok, const char *what) {
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

// index of "fNNN", or -1 for . and ..
static int entry_index(const char *name) {
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -1;
	return atoi(name + 1);
}

int main(void) {
	if (mkdir("d", 0755) != 0) {
		perror("mkdir");
		return 2;
	}
	char path[64];
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof path, "d/f%03d", i);
		int fd = open(path, O_CREAT | O_WRONLY, 0644);
		if (fd < 0) {
			perror(path);
			return 2;
		}
		close(fd);
	}

	DIR *d = opendir("d");
	if (!d) {
		perror("opendir");
		return 2;
	}
	static char seen[N];
	static long pos[N + 2];   // telldir after each entry
	static int order[N + 2];  // entry index in reading order
	int count = 0, total = 0, offs_fit = 1;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		int i = entry_index(e->d_name);
		if (i >= 0) {
			if (i < N && !seen[i])
				count++;
			if (i < N)
				seen[i] = 1;
		}
		if (e->d_off < 0)
			offs_fit = 0;
		order[total] = i;
		pos[total] = telldir(d);
		total++;
		if (total > N + 2)
			break;
	}
	int err = errno;
	printf("readdir: %d entries of %d, %d in all, errno %s\n", count, N, total, err ? strerror(err) : "0");
	check(count == N && total == N + 2 && err == 0, "a plain readdir loop sees every entry once");
	check(offs_fit, "d_off values are non-negative");

	// seekdir back to where each of a few entries was read and read on.
	int seek_ok = 1;
	for (int k = 0; k + 1 < total; k += 37) {
		seekdir(d, pos[k]);
		e = readdir(d);
		int got = e ? entry_index(e->d_name) : -2;
		if (got != order[k + 1]) {
			printf("seekdir to entry %d: read %d, want %d\n", k, got, order[k + 1]);
			seek_ok = 0;
		}
		if (telldir(d) != pos[k + 1]) {
			printf("telldir after it: %ld, want %ld\n", telldir(d), pos[k + 1]);
			seek_ok = 0;
		}
	}
	check(seek_ok, "seekdir to a telldir position resumes after it");
	seekdir(d, pos[total - 1]);
	errno = 0;
	check(readdir(d) == NULL && errno == 0, "seekdir to the last position reads nothing more");

	rewinddir(d);
	int again = 0;
	while (readdir(d) != NULL)
		again++;
	check(again == N + 2, "rewinddir reads everything again");
	closedir(d);

	// The large-file interface, and a second stream on the same directory.
	DIR *d64 = opendir("d");
	int count64 = 0;
	struct dirent64 *e64;
	while ((e64 = readdir64(d64)) != NULL)
		count64++;
	check(count64 == N + 2, "readdir64 sees every entry");
	closedir(d64);

#ifdef SYS_getdents
	// The old getdents call: struct linux_dirent with long-sized fields.
	int fd = open("d", O_RDONLY | O_DIRECTORY);
	char buf[1024];
	int old = 0, n, bad = 0;
	while ((n = syscall(SYS_getdents, fd, buf, sizeof buf)) > 0) {
		for (int off = 0; off < n;) {
			unsigned short reclen = *(unsigned short *)(buf + off + 2 * sizeof(long));
			char *name = buf + off + 2 * sizeof(long) + 2;
			char type = buf[off + reclen - 1];
			if (entry_index(name) >= 0 && type != DT_REG)
				bad = 1;
			old++;
			off += reclen;
		}
	}
	check(n == 0 && old == N + 2 && !bad, "getdents reads every entry with its type");
	close(fd);
#endif

	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof path, "d/f%03d", i);
		unlink(path);
	}
	rmdir("d");
	printf("%d failures\n", failures);
	return failures != 0;
}
