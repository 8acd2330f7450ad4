// A parent reads and writes its child's memory, as a debugger does:
// /proc/CHILD/mem (pread, pwrite, read at the offset, a read running into
// an unmapped page is short, one starting there EIO: fs/proc/base.c mem_rw),
// process_vm_readv/writev (a transfer stops at the first page it may not
// touch with what it moved; nothing moved is EFAULT, a read-only page
// included: mm/process_vm_access.c) and /proc/CHILD/pagemap (a page the
// child touched is present), all at the child's own addresses; the child
// sees the parent's writes. Linux (x86-64, the same source) passes every
// check; qemu-user 7.2 is no oracle here: its process_vm_* are ENOSYS, and
// qemu-arm's /proc/CHILD/mem is the host's, at host addresses that are not
// the guest's. Under Yama's ptrace_scope 2 or 3 a parent that is not root
// is refused, on Linux as under xemu.
// xemu-test: oracle=self
#define _GNU_SOURCE
// Guest addresses past 2 GiB are positive offsets.
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

int main(void) {
	long page = sysconf(_SC_PAGESIZE);
	// Three pages: read-write, read-only, unmapped.
	char *area = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(area + 2 * page, page);
	char *rw = area, *ro = area + page, *gone = area + 2 * page;
	int ready[2], go[2], verdict[2];
	if (pipe(ready) || pipe(go) || pipe(verdict))
		return 2;
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		// The child's own bytes, which the parent's copy of the area
		// does not have.
		for (long i = 0; i < 2 * page; i++)
			area[i] = (char)('a' + i % 26);
		mprotect(ro, page, PROT_READ);
		write(ready[1], "r", 1);
		char c;
		read(go[0], &c, 1);
		char ok = memcmp(rw, "PARENT", 6) == 0 && rw[6] == 'a' + 6 % 26 &&
			  memcmp(rw + page - 4, "wxyz", 4) == 0 && ro[0] == 'a' + page % 26;
		write(verdict[1], &ok, 1);
		_exit(0);
	}
	char c;
	read(ready[0], &c, 1);

	char path[64], buf[256], want[256];
	snprintf(path, sizeof path, "/proc/%d/mem", child);
	int fd = open(path, O_RDWR);
	check("open /proc/CHILD/mem", fd >= 0);
	for (int i = 0; i < 100; i++)
		want[i] = (char)('a' + i % 26);
	memset(buf, 0, sizeof buf);
	check("pread gives the child's bytes", pread(fd, buf, 100, (off_t)(uintptr_t)rw) == 100 && memcmp(buf, want, 100) == 0);
	check("pread of its read-only page", pread(fd, buf, 1, (off_t)(uintptr_t)ro) == 1 && buf[0] == (char)('a' + page % 26));
	check("pread running into an unmapped page is short", pread(fd, buf, 64, (off_t)(uintptr_t)(gone - 16)) == 16);
	errno = 0;
	check("pread of an unmapped page is EIO", pread(fd, buf, 8, (off_t)(uintptr_t)gone) == -1 && errno == EIO);
	check("pwrite into the child", pwrite(fd, "PARENT", 6, (off_t)(uintptr_t)rw) == 6);
	check("the parent's own copy is untouched", rw[0] == 0);
	lseek(fd, (off_t)(uintptr_t)rw, SEEK_SET);
	memset(buf, 0, sizeof buf);
	check("read at the offset sees the write", read(fd, buf, 8) == 8 && memcmp(buf, "PARENTgh", 8) == 0);
	check("the offset advanced", lseek(fd, 0, SEEK_CUR) == (off_t)(uintptr_t)rw + 8);
	// A read larger than one request (the child's two pages).
	static char big[3 * 65536];
	ssize_t n = pread(fd, big, 2 * page, (off_t)(uintptr_t)rw);
	check("a two-page pread", n == 2 * page && memcmp(big, "PARENT", 6) == 0 && big[page + 1] == (char)('a' + (page + 1) % 26));
	close(fd);

	// process_vm_readv: the end of the first page, the read-only page, and
	// then the unmapped one: what came before it.
	static char local[3 * 65536];
	struct iovec l = {local, sizeof local}, r = {rw + page - 8, 8 + page + 8};
	n = process_vm_readv(child, &l, 1, &r, 1, 0);
	check("process_vm_readv stops at the unmapped page", n == 8 + page && local[8] == (char)('a' + page % 26));
	struct iovec rg = {gone, 8};
	errno = 0;
	n = process_vm_readv(child, &l, 1, &rg, 1, 0);
	check("process_vm_readv of an unmapped page is EFAULT", n == -1 && errno == EFAULT);
	struct iovec lw = {"wxyz", 4}, rro = {ro, 4};
	errno = 0;
	n = process_vm_writev(child, &lw, 1, &rro, 1, 0);
	check("process_vm_writev into a read-only page is EFAULT", n == -1 && errno == EFAULT);
	struct iovec rboth[2] = {{rw + page - 4, 4}, {gone, 4}};
	struct iovec lboth = {"wxyzWXYZ", 8};
	n = process_vm_writev(child, &lboth, 1, rboth, 2, 0);
	check("process_vm_writev reports what it moved", n == 4);

	snprintf(path, sizeof path, "/proc/%d/pagemap", child);
	int pm = open(path, O_RDONLY);
	uint64_t entry = 0;
	check("pagemap of a page the child wrote: present",
	      pm >= 0 && pread(pm, &entry, 8, (off_t)((uintptr_t)rw / page * 8)) == 8 && (entry >> 63) == 1);
	check("pagemap of an unmapped page: not present",
	      pread(pm, &entry, 8, (off_t)((uintptr_t)gone / page * 8)) == 8 && (entry >> 63) == 0);
	close(pm);

	write(go[1], "g", 1);
	char ok = 0;
	read(verdict[0], &ok, 1);
	check("the child sees the parent's writes", ok == 1);
	int st;
	waitpid(child, &st, 0);
	return failures != 0;
}
