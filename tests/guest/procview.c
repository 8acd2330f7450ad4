// Every way of naming a file of /proc/self leads to the guest's view of it,
// never the emulator's: through a directory descriptor of /proc/self, a
// path relative to a working directory inside it, /proc/PID/task/TID,
// /proc/self/fd/N links, "..", and the files beyond maps (smaps, stat,
// comm, environ, the fd/ and task/ directories). The guest view is what the
// absolute /proc/self path shows (checked against the program itself:
// its own name, environment and threads), so each form is compared with
// it. qemu-user shows its own host layout through most of these forms, so
// the program checks itself against what proc(5) documents.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

static char bufs[4][1 << 16];

// slurp reads a whole file opened with openat(dirfd, path) into bufs[i].
static long slurp(int i, int dirfd, const char *path) {
	int fd = openat(dirfd, path, O_RDONLY);
	if (fd < 0)
		return -1;
	long n = 0, k;
	while ((k = read(fd, bufs[i] + n, sizeof bufs[i] - 1 - n)) > 0)
		n += k;
	close(fd);
	bufs[i][n] = 0;
	return n;
}

// same: the file named both ways reads the same bytes (nothing in between
// changes the mappings: no allocation happens between the two reads).
static int same(int dirfd, const char *path, const char *absolute) {
	long a = slurp(0, AT_FDCWD, absolute);
	long b = slurp(1, dirfd, path);
	return a > 0 && a == b && memcmp(bufs[0], bufs[1], a) == 0;
}

static int mentions(int i, const char *s) { return memmem(bufs[i], sizeof bufs[i], s, strlen(s)) != NULL; }

int main(int argc, char **argv) {
	char path[256], want[64], abs[256];
	pid_t pid = getpid(), tid = syscall(SYS_gettid);
	if (argc > 1 && strcmp(argv[1], "again") == 0) {
		check("execveat of exe through a descriptor of /proc/self", 1);
		return 0;
	}
	char *name = basename(strdup(argv[0]));
	snprintf(want, sizeof want, "%.15s", name);

	check("absolute maps names no emulator", slurp(0, AT_FDCWD, "/proc/self/maps") > 0 && !mentions(0, "xemu") && mentions(0, name));

	int self = open("/proc/self", O_RDONLY | O_DIRECTORY);
	check("maps through a descriptor of /proc/self", same(self, "maps", "/proc/self/maps"));
	check("auxv through a descriptor of /proc/self", same(self, "auxv", "/proc/self/auxv"));
	check("cmdline through a descriptor of /proc/self", same(self, "cmdline", "/proc/self/cmdline"));

	snprintf(path, sizeof path, "/proc/%d/task/%d/maps", pid, tid);
	check("maps through /proc/PID/task/TID", same(AT_FDCWD, path, "/proc/self/maps"));
	snprintf(path, sizeof path, "/proc/self/task/%d/maps", tid);
	check("maps through /proc/self/task/TID", same(AT_FDCWD, path, "/proc/self/maps"));
	check("maps through /proc/self/../self/maps", same(AT_FDCWD, "/proc/self/../self/maps", "/proc/self/maps"));
	check("maps through /proc/./self/./maps", same(AT_FDCWD, "/proc/./self/./maps", "/proc/self/maps"));
	snprintf(path, sizeof path, "/proc/self/fd/%d/maps", self);
	check("maps through /proc/self/fd/N", same(AT_FDCWD, path, "/proc/self/maps"));
	snprintf(path, sizeof path, "/proc/self/task/%d/../../maps", tid);
	check("maps through task/TID/../..", same(AT_FDCWD, path, "/proc/self/maps"));

	int procfd = open("/proc", O_RDONLY | O_DIRECTORY);
	check("maps through a descriptor of /proc", same(procfd, "self/maps", "/proc/self/maps"));

	char cwd[4096];
	getcwd(cwd, sizeof cwd);
	check("chdir /proc/self", chdir("/proc/self") == 0);
	check("maps relative to the working directory", same(AT_FDCWD, "maps", "/proc/self/maps"));
	check("./maps relative to the working directory", same(AT_FDCWD, "./maps", "/proc/self/maps"));
	snprintf(path, sizeof path, "task/%d/maps", tid);
	check("task/TID/maps relative to the working directory", same(AT_FDCWD, path, "/proc/self/maps"));
	chdir("/proc");
	check("self/maps relative to /proc", same(AT_FDCWD, "self/maps", "/proc/self/maps"));
	chdir(cwd);

	// The executable, however named.
	char exe[4096] = {0}, exe2[4096] = {0};
	readlink("/proc/self/exe", exe, sizeof exe - 1);
	check("/proc/self/exe names the program", strstr(exe, name) != NULL);
	readlinkat(self, "exe", exe2, sizeof exe2 - 1);
	check("readlinkat(self, exe)", strcmp(exe, exe2) == 0);
	memset(exe2, 0, sizeof exe2);
	snprintf(path, sizeof path, "/proc/self/task/%d/exe", tid);
	readlink(path, exe2, sizeof exe2 - 1);
	check("readlink /proc/self/task/TID/exe", strcmp(exe, exe2) == 0);
	struct stat a, b;
	check("fstatat(self, exe) is the program", stat(exe, &a) == 0 && fstatat(self, "exe", &b, 0) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	check("stat /proc/self/exe is the program", stat("/proc/self/exe", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	int efd = openat(self, "exe", O_RDONLY);
	check("openat(self, exe) is the program", efd >= 0 && fstat(efd, &b) == 0 && a.st_ino == b.st_ino);
	close(efd);

	// The name: comm, stat's second field, status's Name.
	check("comm", slurp(0, AT_FDCWD, "/proc/self/comm") > 0 && strncmp(bufs[0], want, strlen(want)) == 0 && bufs[0][strlen(want)] == '\n');
	check("comm through the descriptor", slurp(0, self, "comm") > 0 && strncmp(bufs[0], want, strlen(want)) == 0);
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
	check("task/TID/comm", slurp(0, AT_FDCWD, path) > 0 && strncmp(bufs[0], want, strlen(want)) == 0);
	int cfd = open("/proc/self/comm", O_WRONLY);
	check("comm written", cfd >= 0 && write(cfd, "renamed", 7) == 7);
	close(cfd);
	char got[16] = {0};
	prctl(PR_GET_NAME, got);
	check("a written comm names the thread", strcmp(got, "renamed") == 0);
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
	check("and reads back", slurp(0, AT_FDCWD, path) > 0 && strcmp(bufs[0], "renamed\n") == 0);
	prctl(PR_SET_NAME, want);
	snprintf(abs, sizeof abs, "%d (%s) ", pid, want);
	check("stat names the program", slurp(0, AT_FDCWD, "/proc/self/stat") > 0 && strncmp(bufs[0], abs, strlen(abs)) == 0);
	check("stat through the descriptor", slurp(0, self, "stat") > 0 && strncmp(bufs[0], abs, strlen(abs)) == 0);
	snprintf(abs, sizeof abs, "Name:\t%s\n", want);
	check("status through the descriptor", slurp(0, self, "status") > 0 && strncmp(bufs[0], abs, strlen(abs)) == 0);

	// environ is the program's environment.
	long n = slurp(0, AT_FDCWD, "/proc/self/environ"), k = 0;
	for (char **e = environ; *e; e++) {
		size_t l = strlen(*e) + 1;
		if (k + (long)l <= n && memcmp(bufs[0] + k, *e, l) == 0)
			k += l;
		else
			k = -1000000;
	}
	check("environ is the program's environment", n >= 0 && k == n);
	check("environ through the descriptor", same(self, "environ", "/proc/self/environ"));

	// smaps: the same mappings as maps, in the same order.
	slurp(0, AT_FDCWD, "/proc/self/maps");
	slurp(1, self, "smaps");
	int lines = 0, agree = 1;
	char *m = bufs[0], *s = bufs[1];
	while (*m) {
		char *e = strchr(m, '\n');
		size_t l = e - m + 1;
		if (strncmp(m, s, l) != 0) {
			agree = 0;
			break;
		}
		lines++;
		m += l;
		s += l;
		// Skip the key: value lines up to the next mapping.
		while (*s && !(strchr(s, '-') && strchr(s, '-') < strchr(s, '\n') && strchr(s, ' ') > strchr(s, '-')))
			s = strchr(s, '\n') + 1;
	}
	check("smaps has the mappings of maps", lines > 0 && agree && !mentions(1, "xemu"));

	// task/: the guest's threads only.
	DIR *d = opendir("/proc/self/task");
	int others = 0, me = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (atoi(de->d_name) == tid)
			me++;
		else
			others++;
	}
	if (d)
		closedir(d);
	check("task/ lists the one guest thread", me == 1 && others == 0);

	// fd/: the guest's descriptors only, and each link opens.
	d = opendir("/proc/self/fd");
	int bad = 0, count = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int fd = atoi(de->d_name);
		count++;
		if (fcntl(fd, F_GETFD) < 0) {
			printf("  fd/%d is not the guest's\n", fd);
			bad++;
		}
	}
	if (d)
		closedir(d);
	check("fd/ lists the guest's descriptors only", count >= 3 && bad == 0);
	d = opendir("/proc/self/fdinfo");
	bad = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.' && fcntl(atoi(de->d_name), F_GETFD) < 0)
			bad++;
	}
	if (d)
		closedir(d);
	check("fdinfo/ lists the guest's descriptors only", bad == 0);
	int hidden = 1;
	for (int fd = 3; fd < 4096; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		char l[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (readlink(path, l, sizeof l) >= 0 || errno != ENOENT)
			hidden = 0;
		struct stat st;
		if (stat(path, &st) == 0)
			hidden = 0;
	}
	check("fd/N of a descriptor the guest has not is ENOENT", hidden);
	hidden = 1;
	for (pid_t other = pid - 8; other < pid + 64; other++) {
		snprintf(path, sizeof path, "/proc/self/task/%d/maps", other);
		if (other != tid && (open(path, O_RDONLY) >= 0 || errno != ENOENT))
			hidden = 0;
	}
	check("task/TID of a thread not the guest's is ENOENT", hidden);
	if (failures)
		return 1;
	fflush(stdout);
	char *again[] = {argv[0], "again", NULL};
	syscall(SYS_execveat, self, "exe", again, environ, 0);
	check("execveat of exe through a descriptor of /proc/self", 0);
	return 1;
}
