// process_vm_readv/writev and /proc/PID/mem reach guest memory, never the
// emulator's: on the process itself they copy between its own buffers
// with its own permissions (a read-only page is EFAULT, a transfer stops at
// an unmapped page with what it moved), and on a child they either move the
// child's own bytes or are refused (as Linux refuses without ptrace access:
// Yama, another user), never bytes from anywhere else; procmem_child.c
// goes further with a child.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static char src[10000], dst[10000];

int main(void) {
	long page = sysconf(_SC_PAGESIZE);
	pid_t self = getpid();
	for (int i = 0; i < (int)sizeof src; i++)
		src[i] = (char)(i * 7 + 3);

	// Two local pieces from one remote span.
	struct iovec local[2] = {{dst, 3000}, {dst + 5000, 5000}};
	struct iovec remote[1] = {{src, 8000}};
	ssize_t n = process_vm_readv(self, local, 2, remote, 1, 0);
	check("readv of itself moves every byte", n == 8000 && memcmp(dst, src, 3000) == 0 && memcmp(dst + 5000, src + 3000, 5000) == 0);

	memset(dst, 0, sizeof dst);
	struct iovec l1 = {src, 4096}, r1 = {dst, 4096};
	n = process_vm_writev(self, &l1, 1, &r1, 1, 0);
	check("writev of itself", n == 4096 && memcmp(dst, src, 4096) == 0);

	char *ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iovec rro = {ro, 16};
	errno = 0;
	n = process_vm_writev(self, &l1, 1, &rro, 1, 0);
	check("writev into its own read-only page is EFAULT", n < 0 && errno == EFAULT && ro[0] == 0);

	// A remote span whose second page is unmapped: the first page moves.
	char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(two, 'x', page);
	munmap(two + page, page);
	struct iovec lbig = {dst, 2 * page}, rpart = {two, 2 * page};
	n = process_vm_readv(self, &lbig, 1, &rpart, 1, 0);
	check("readv stops at an unmapped page with what it moved", n == page && dst[0] == 'x' && dst[page - 1] == 'x');

	errno = 0;
	n = process_vm_readv(self, &lbig, 1, &rpart, 1, 1);
	check("flags other than 0 are EINVAL", n < 0 && errno == EINVAL);

	// A child: its bytes, or a refusal; never other bytes.
	static char secret[64];
	strcpy(secret, "the child's own bytes");
	int ready[2];
	pipe(ready);
	pid_t child = fork();
	if (child == 0) {
		strcpy(secret, "changed by the child");
		write(ready[1], "r", 1);
		pause();
		_exit(0);
	}
	char c;
	read(ready[0], &c, 1);
	char got[64] = {0};
	struct iovec lg = {got, sizeof got}, rg = {secret, sizeof secret};
	errno = 0;
	n = process_vm_readv(child, &lg, 1, &rg, 1, 0);
	int e = errno;
	check("readv of a child gives its bytes or is refused",
	      (n == (ssize_t)sizeof got && strcmp(got, "changed by the child") == 0) || (n < 0 && e == EPERM));

	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", child);
	int fd = open(path, O_RDONLY);
	e = errno;
	memset(got, 0, sizeof got);
	int ok = 0;
	if (fd < 0)
		ok = e == EACCES || e == EPERM;
	else
		ok = pread(fd, got, sizeof got, (off_t)(unsigned long)secret) == (ssize_t)sizeof got &&
		     strcmp(got, "changed by the child") == 0;
	check("/proc/CHILD/mem gives its bytes or is refused", ok);
	if (fd >= 0)
		close(fd);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	errno = 0;
	n = process_vm_readv(child, &lg, 1, &rg, 1, 0);
	check("a reaped child is ESRCH", n < 0 && errno == ESRCH);
	return failures != 0;
}
