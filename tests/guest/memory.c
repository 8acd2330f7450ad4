// Memory system calls: mmap in its forms, munmap, mprotect, mremap, brk,
// madvise, msync, mincore, mlock, many mappings and a large reservation.
// Faults are never taken: whether a page is mapped is asked with mincore, and
// whether it is writable with read(2), which says EFAULT.
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define R(expr) report(#expr, (long)(expr))

static long report(const char *what, long r) {
	if (r < 0)
		printf("%s = -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s = %ld\n", what, r);
	return r;
}

// M prints whether an mmap-like call gave an address or failed.
#define M(expr) mapped(#expr, (void *)(expr))

static void *mapped(const char *what, void *p) {
	if (p == MAP_FAILED)
		printf("%s = MAP_FAILED %s\n", what, strerrorname_np(errno));
	else
		printf("%s: ok\n", what);
	return p;
}

static const long page = 4096;

// is_mapped asks the kernel whether the page at p is mapped.
static int is_mapped(void *p) {
	unsigned char v;
	return mincore((void *)((uintptr_t)p & ~(page - 1)), page, &v) == 0;
}

static void anon(void) {
	char *p = M(mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	printf("aligned=%d zero=%d\n", ((uintptr_t)p & (page - 1)) == 0, p[0] == 0 && p[3 * page - 1] == 0);
	memset(p, 'a', 3 * page);
	R(munmap(p + page, page));
	printf("mapped: %d %d %d\n", is_mapped(p), is_mapped(p + page), is_mapped(p + 2 * page));
	printf("ends intact: %c %c\n", p[0], p[2 * page]);
	unsigned char vec[3];
	R(mincore(p, 3 * page, vec));
	R(mincore(p, page, vec));
	printf("resident=%d\n", vec[0] & 1);
	R(munmap(p, 3 * page));
	R(munmap(p, 3 * page));
	R(munmap(p + 1, page));
	R(munmap(p, 0));
	printf("after munmap: %d\n", is_mapped(p));

	M(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	M(mmap(NULL, page, PROT_READ, MAP_ANONYMOUS, -1, 0));
	M(mmap(NULL, page, PROT_READ, MAP_PRIVATE, -1, 0));
	M(mmap(NULL, page, PROT_READ, MAP_PRIVATE, 999, 0));
	M(mmap(NULL, page, 0x100, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	M(mmap((void *)0x10001000, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 123));
	M(mmap((void *)0x10000100, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));

	// A shared anonymous mapping is ordinary memory to a single process.
	char *s = M(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	strcpy(s, "shared anon");
	printf("%s\n", s);
	munmap(s, page);

	// A free hint is taken as given.
	char *h = mmap(NULL, 4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(h, 4 * page);
	char *g = mmap(h + page, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("hint honoured: %d\n", g == h + page);
	munmap(g, page);
}

static void files(void) {
	int fd = open("mapfile", O_RDWR | O_CREAT | O_TRUNC, 0644);
	char buf[64];
	for (int i = 0; i < 2 * page; i++)
		write(fd, i < page ? "A" : "B", 1);

	char *priv = M(mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	printf("private: %c %c\n", priv[0], priv[page]);
	priv[0] = 'p';
	pread(fd, buf, 1, 0);
	printf("file after private write: %c\n", buf[0]);

	char *sh = M(mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	char *sh2 = M(mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page));
	memcpy(sh + page, "through the map", 15);
	memset(buf, 0, sizeof buf);
	pread(fd, buf, 15, page);
	printf("file after shared write: %s\n", buf);
	printf("second view: %.15s\n", sh2);
	R(msync(sh, 2 * page, MS_SYNC));
	R(msync(sh, page, MS_ASYNC | MS_INVALIDATE));
	R(msync(sh + 1, page, MS_SYNC));
	R(msync(sh, page, MS_SYNC | MS_ASYNC));
	pwrite(fd, "written by pwrite", 17, 100);
	printf("map sees pwrite: %.17s\n", sh + 100);
	printf("private page 2 sees file: %.15s\n", priv + page);
	printf("private page 1 kept: %c\n", priv[0]);

	// madvise(MADV_DONTNEED) drops a private file page's copy: the file shows again.
	R(madvise(priv, page, MADV_DONTNEED));
	printf("private after DONTNEED: %c\n", priv[0]);
	R(madvise(priv, page, MADV_WILLNEED));
	R(madvise(priv + 1, page, MADV_NORMAL));

	// Unaligned offsets, read-only descriptors.
	M(mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 100));
	int ro = open("mapfile", O_RDONLY);
	M(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
	char *rop = M(mmap(NULL, page, PROT_READ, MAP_SHARED, ro, 0));
	R(mprotect(rop, page, PROT_READ | PROT_WRITE));
	char *rpriv = M(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0));
	rpriv[0] = 'z';
	printf("private of read-only file writable: %c\n", rpriv[0]);
	int wo = open("mapfile", O_WRONLY);
	M(mmap(NULL, page, PROT_READ, MAP_SHARED, wo, 0));
	close(wo);
	close(ro);

	// A mapping stays after its descriptor closes.
	close(fd);
	printf("after close: %.15s\n", sh + page);
	munmap(priv, 2 * page);
	munmap(sh, 2 * page);
	munmap(sh2, page);
	munmap(rop, page);
	munmap(rpriv, page);
	unlink("mapfile");
}

static void protect(void) {
	int fd = open("pf", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, "0123456789", 10);
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(p, "readonly data");
	R(mprotect(p, page, PROT_READ));
	lseek(fd, 0, SEEK_SET);
	R(read(fd, p, 5));
	R(read(fd, p + page - 2, 5));
	R(write(1, p, 0));
	R(pwrite(fd, p, 8, 20));
	char buf[16] = {0};
	pread(fd, buf, 8, 20);
	printf("written from read-only page: %s\n", buf);
	R(mprotect(p, page, PROT_NONE));
	R(pwrite(fd, p, 8, 20));
	R(mprotect(p, page, PROT_READ | PROT_WRITE | PROT_EXEC));
	R(read(fd, p, 3));
	R(mprotect(p + 1, page, PROT_READ));
	R(mprotect(p, page, 0x40));
	munmap(p + page, page);
#ifdef __aarch64__
	// qemu-arm 7.2 lets mprotect over unmapped pages succeed.
	R(mprotect(p, 2 * page, PROT_READ));
	munmap(p, page);
	R(mprotect(p, page, PROT_READ));
#else
	munmap(p, page);
#endif
	close(fd);
	unlink("pf");
}

__attribute__((unused)) static void remap(void) {
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'r', 2 * page);

	// Grow in place into a hole made for it.
	char *area = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(area, 'g', 2 * page);
	munmap(area + 2 * page, 6 * page);
	char *q = M(mremap(area, 2 * page, 5 * page, 0));
	printf("grew in place: %d kept=%c new=%d\n", q == area, q[page], q[4 * page]);
	// No room, no move: ENOMEM.
	char *block = mmap(area + 5 * page, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("blocker placed: %d\n", block == area + 5 * page);
	M(mremap(area, 5 * page, 6 * page, 0));
	char *moved = M(mremap(area, 5 * page, 6 * page, MREMAP_MAYMOVE));
	printf("moved: %d kept=%c %c old mapped=%d\n", moved != area, moved[0], moved[page], is_mapped(area));
	// Shrink.
	char *s = M(mremap(moved, 6 * page, page, 0));
	printf("shrunk in place: %d tail mapped=%d\n", s == moved, is_mapped(moved + page));

	// MREMAP_FIXED onto a reserved spot replaces what was there.
	char *dst = mmap(NULL, 4 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *f = M(mremap(p, 2 * page, 3 * page, MREMAP_MAYMOVE | MREMAP_FIXED, dst));
	printf("fixed: at dst=%d kept=%c %c old mapped=%d rest mapped=%d\n", f == dst, f[0], f[2 * page - 1],
	       is_mapped(p), is_mapped(dst + 3 * page));
	f[3 * page - 1] = 'w';
	M(mremap(dst, page, page, MREMAP_FIXED, dst + 8 * page));
	M(mremap(dst, page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, dst + page));
	M(mremap(dst + 1, page, 2 * page, MREMAP_MAYMOVE));
	M(mremap(dst, page, page, 0x100));
	munmap(p, page);
	M(mremap(p, page, 2 * page, MREMAP_MAYMOVE));

	// A shared file mapping grows with the file behind it.
	int fd = open("rf", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ftruncate(fd, 4 * page);
	pwrite(fd, "tail", 4, 3 * page);
	char *fm = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	strcpy(fm, "head");
	char *fg = M(mremap(fm, page, 4 * page, MREMAP_MAYMOVE));
	printf("file remap: %s %s\n", fg, fg + 3 * page);
	fg[3 * page] = 'T';
	char c;
	pread(fd, &c, 1, 3 * page);
	printf("write after remap reaches file: %c\n", c);
	munmap(fg, 4 * page);
	close(fd);
	unlink("rf");
	munmap(s, page);
	munmap(dst, 4 * page);
	munmap(block, page);
}

static void noreplace(void) {
	// qemu-user 7.2 takes MAP_FIXED_NOREPLACE over a mapping as a hint
	// instead of failing with EEXIST, so only the free case is compared.
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 'k';
	munmap(p, 2 * page);
	char *q = M(mmap(p, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	printf("placed at hint: %d zero=%d\n", q == p, q[0] == 0);
	char *r = M(mmap(p, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	printf("MAP_FIXED replaced: %d\n", r == p);
	munmap(p, page);
}

static void heap(void) {
	char *start = sbrk(0);
	char *old = sbrk(100000);
	printf("sbrk returned old end: %d\n", old == start);
	char *end = sbrk(0);
	printf("grew by %ld\n", (long)(end - start));
	memset(start, 'h', 100000);
	sbrk(-60000);
	printf("shrunk by %ld\n", (long)(end - (char *)sbrk(0)));
	printf("kept: %c\n", start[1000]);
	char *cur = sbrk(0);
	long r = syscall(SYS_brk, 0);
	printf("brk(0) is the end: %d\n", (char *)r == cur);
	r = syscall(SYS_brk, 1);
	printf("brk below start returns the end: %d\n", (char *)r == cur);
	brk(start);
	printf("back to start: %d\n", sbrk(0) == start);
	// malloc still works around it.
	char *m = malloc(1 << 20);
	memset(m, 1, 1 << 20);
	free(m);
}

static void dontneed(void) {
	char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'd', 4 * page);
	R(madvise(p + page, 2 * page, MADV_DONTNEED));
	printf("after DONTNEED: %d %d %d %d\n", p[0], p[page], p[2 * page + 5], p[3 * page]);
	R(madvise(p, 4 * page, MADV_FREE));
	R(madvise(p, 4 * page, MADV_HUGEPAGE) == 0 || errno == EINVAL);
	R(madvise(p, 4 * page, MADV_DONTFORK));
	R(madvise(p, 4 * page, MADV_DOFORK));
	munmap(p, 4 * page);
}

static void locks(void) {
	char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long r = mlock(p, 2 * page);
	printf("mlock: %s\n", r == 0 || errno == EPERM || errno == ENOMEM ? "ok" : strerrorname_np(errno));
	unsigned char vec[2];
	mincore(p, 2 * page, vec);
	if (r == 0)
		printf("locked resident: %d %d\n", vec[0] & 1, vec[1] & 1);
	R(munlock(p, 2 * page));
	R(mlock(p + 10, 100) == 0 || errno == EPERM || errno == ENOMEM);
	R(munlock(p + 10, 100));
	munmap(p + 2 * page, 2 * page);
	R(mlock(p, 4 * page));
#ifdef __aarch64__
	// qemu-arm 7.2 lets munlock over unmapped pages succeed.
	R(munlock(p, 4 * page));
#endif
	R(munlockall());
	munmap(p, 2 * page);
}

static void many(void) {
	enum { N = 5000 };
	static char *maps[N];
	int ok = 0;
	for (int i = 0; i < N; i++) {
		maps[i] = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (maps[i] == MAP_FAILED)
			break;
		*(int *)maps[i] = i;
		ok++;
	}
	printf("mapped %d\n", ok);
	int good = 0;
	for (int i = 0; i < ok; i++)
		good += *(int *)maps[i] == i;
	printf("intact %d\n", good);
	// Alternate protections so that neighbours cannot merge.
	for (int i = 0; i < ok; i += 2)
		mprotect(maps[i], page, PROT_READ);
	int unmapped = 0;
	for (int i = 0; i < ok; i++)
		unmapped += munmap(maps[i], page) == 0;
	printf("unmapped %d\n", unmapped);
	int still = 0;
	for (int i = 0; i < ok; i++)
		still += is_mapped(maps[i]);
	printf("still mapped %d\n", still);
}

static void reservation(void) {
	size_t gib = 1ul << 30;
	char *r = M(mmap(NULL, gib, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
	char *mid = r + gib / 2;
	R(mprotect(mid, 16 * page, PROT_READ | PROT_WRITE));
	for (int i = 0; i < 16; i++)
		mid[i * page] = 'a' + i;
	int fd = open("res", O_RDWR | O_CREAT | O_TRUNC, 0644);
	R(write(fd, mid, 1));
	R(write(fd, mid + 15 * page, 1));
	R(write(fd, mid - page, 1));
	R(read(fd, mid - 1, 1));
	char two[3] = {0};
	pread(fd, two, 2, 0);
	printf("written: %s\n", two);
	R(mprotect(r + gib - page, page, PROT_READ));
	printf("last page readable: %d\n", r[gib - 1] == 0);
	R(munmap(r, gib));
	printf("gone: %d\n", !is_mapped(mid));
	close(fd);
	unlink("res");
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	anon();
	files();
	protect();
#ifdef __aarch64__
	// qemu-arm 7.2 cannot grow a mapping in place, and crashes further on.
	remap();
#endif
	noreplace();
	heap();
	dontneed();
	locks();
	many();
	reservation();
	return 0;
}
