// /proc/PID of the guest's own children shows their guest view, as
// /proc/self does: a forked child's cmdline is its parent's; a child that
// executed a program has that program's cmdline, exe, name in status,
// stat and comm, and the program among its maps. (qemu-user shows the
// emulator's own files for any pid but its own, so the program checks
// itself.)
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static ssize_t slurp(pid_t pid, const char *file, char *buf, size_t size) {
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = 0, r;
	while (n < (ssize_t)size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

// The child: many mappings (a maps file of tens of kilobytes), then tell
// the parent it runs and wait until it is done.
static int child(int ready, int done) {
	alarm(60); // not to outlive a parent that failed before telling it
	long page = sysconf(_SC_PAGESIZE);
	char *many = mmap(NULL, 1200 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 1200; i += 2)
		mprotect(many + i * page, page, PROT_READ);
	char c = 'r';
	write(ready, &c, 1);
	read(done, &c, 1);
	return 0;
}

int main(int argc, char **argv) {
	if (argc == 4 && strcmp(argv[1], "child") == 0)
		return child(atoi(argv[2]), atoi(argv[3]));
	static char self[4096], buf[1 << 20];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	check("readlink /proc/self/exe", n > 0);
	self[n > 0 ? n : 0] = 0;
	char mycmd[4096];
	ssize_t mylen = slurp(getpid(), "cmdline", mycmd, sizeof mycmd);

	// A forked child, no exec: the parent's command line.
	int ready[2], done[2];
	pipe(ready);
	pipe(done);
	fflush(stdout);
	// The children hold no write end of done: a parent gone ends their read.
	fcntl(done[1], F_SETFD, FD_CLOEXEC);
	pid_t pid = fork();
	if (pid == 0) {
		close(done[1]);
		_exit(child(ready[1], done[0]));
	}
	char c;
	read(ready[0], &c, 1);
	n = slurp(pid, "cmdline", buf, sizeof buf);
	check("forked child's cmdline is the parent's", n == mylen && memcmp(buf, mycmd, n) == 0);
	write(done[1], "x", 1);
	int st;
	waitpid(pid, &st, 0);

	// A child that executes a program (this one, with other arguments).
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char r[16], d[16];
		snprintf(r, sizeof r, "%d", ready[1]);
		snprintf(d, sizeof d, "%d", done[0]);
		execl(self, "guest-child", "child", r, d, (char *)NULL);
		_exit(127);
	}
	read(ready[0], &c, 1);
	char want[256];
	int wlen = snprintf(want, sizeof want, "guest-child%cchild%c%d%c%d%c", 0, 0, ready[1], 0, done[0], 0);
	n = slurp(pid, "cmdline", buf, sizeof buf);
	check("cmdline is the program's argv", n == wlen && memcmp(buf, want, n) == 0);

	char path[64], exe[4096];
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	check("readlink exe is the program", n > 0 && strcmp(exe, self) == 0);

	n = slurp(pid, "maps", buf, sizeof buf);
	check("maps show the program", n > 0 && strstr(buf, self) != NULL);
	check("maps have the guest's stack", n > 0 && strstr(buf, "[stack]") != NULL);
	int lines = 0;
	for (char *q = buf; (q = strchr(q, '\n')) != NULL; q++)
		lines++;
	check("all of a long maps file", lines > 1200 && buf[n - 1] == '\n');

	const char *base = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
	char comm[16] = {0};
	memcpy(comm, base, 15);
	comm[15] = 0;
	char line[64];
	snprintf(line, sizeof line, "Name:\t%s\n", comm);
	n = slurp(pid, "status", buf, sizeof buf);
	check("status names the program", n > 0 && strncmp(buf, line, strlen(line)) == 0);
	snprintf(line, sizeof line, "%d (%s) ", (int)pid, comm);
	n = slurp(pid, "stat", buf, sizeof buf);
	check("stat names the program", n > 0 && strncmp(buf, line, strlen(line)) == 0);
	snprintf(line, sizeof line, "%s\n", comm);
	n = slurp(pid, "comm", buf, sizeof buf);
	check("comm names the program", n > 0 && strcmp(buf, line) == 0);

	write(done[1], "x", 1);
	waitpid(pid, &st, 0);
	check("child exited 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return failures != 0;
}
