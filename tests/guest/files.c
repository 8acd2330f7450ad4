// File system calls: descriptors, I/O, metadata, directories, links, locks,
// pipes, zero-copy transfers, memfd, inotify and ioctl. Everything happens in
// the fresh working directory the harness gives; only relative facts print.
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

// The raw stat calls write the kernel's struct stat, which is glibc's only
// on 64-bit guests; elsewhere the library calls stand in.
#ifdef __aarch64__
#define RAW_FSTAT(fd, st) syscall(SYS_fstat, fd, st)
#define RAW_FSTATAT(dirfd, path, st, flags) syscall(SYS_newfstatat, dirfd, path, st, flags)
#else
#define RAW_FSTAT(fd, st) fstat(fd, st)
#define RAW_FSTATAT(dirfd, path, st, flags) fstatat(dirfd, path, st, flags)
#endif

// R prints a call's result: the value, or -1 and the errno name.
#define R(expr) report(#expr, (long)(expr))
// OK prints only whether a call succeeded (for results such as descriptors
// whose exact value is not the point).
#define OK(expr) ok(#expr, (long)(expr))

static long report(const char *what, long r) {
	if (r < 0)
		printf("%s = -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s = %ld\n", what, r);
	return r;
}

static long ok(const char *what, long r) {
	if (r < 0)
		printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s: ok\n", what);
	return r;
}

static void put(const char *path, const char *text) {
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write(fd, text, strlen(text));
	close(fd);
}

static void show_stat(const char *label, const struct stat *st) {
	printf("%s: size=%lld mode=%04o isreg=%d isdir=%d islnk=%d nlink=%lu\n", label,
	       (long long)st->st_size, st->st_mode & 07777, S_ISREG(st->st_mode),
	       S_ISDIR(st->st_mode), S_ISLNK(st->st_mode), (unsigned long)st->st_nlink);
}

static void basic_io(void) {
	char buf[64];
	int fd = syscall(SYS_openat, AT_FDCWD, "a.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
	OK(fd);
	R(write(fd, "hello world", 11));
	R(lseek(fd, 0, SEEK_CUR));
	R(lseek(fd, 0, SEEK_SET));
	memset(buf, 0, sizeof buf);
	R(read(fd, buf, 5));
	printf("read: %s\n", buf);
	R(lseek(fd, -3, SEEK_END));
	R(lseek(fd, 2, SEEK_CUR));
	R(lseek(fd, -100, SEEK_SET));
	R(lseek(fd, 0, 99));
	R(pwrite(fd, "HELLO", 5, 0));
	memset(buf, 0, sizeof buf);
	R(pread(fd, buf, 64, 0));
	printf("pread: %s\n", buf);
	R(pread(fd, buf, 4, -1));
	R(lseek(fd, 0, SEEK_CUR));

	struct iovec iov[3] = {{"one ", 4}, {"two ", 4}, {"three", 5}};
	R(lseek(fd, 0, SEEK_END));
	R(writev(fd, iov, 3));
	char a[5] = {0}, b[7] = {0}, c[32] = {0};
	struct iovec rv[3] = {{a, 4}, {b, 6}, {c, 31}};
	R(lseek(fd, 0, SEEK_SET));
	R(readv(fd, rv, 3));
	printf("readv: [%s][%s][%s]\n", a, b, c);
	struct iovec pw[2] = {{"AB", 2}, {"CD", 2}};
	R(pwritev(fd, pw, 2, 6));
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	struct iovec pr[2] = {{a, 3}, {b, 3}};
	R(preadv(fd, pr, 2, 5));
	printf("preadv: [%s][%s]\n", a, b);
	R(syscall(SYS_readv, fd, rv, -1));
	R(preadv(fd, pr, 2, -1));
	R(pwritev(fd, pw, 2, -5));
	R(lseek(fd, 0, SEEK_CUR));
	R(writev(fd, iov, 0));

	R(lseek(fd, 0, SEEK_DATA));
	R(lseek(fd, 0, SEEK_HOLE));
	R(lseek(fd, 1000, SEEK_DATA));

	struct stat st;
	R(RAW_FSTAT(fd, &st));
	show_stat("fstat", &st);
	R(ftruncate(fd, 4));
	R(RAW_FSTATAT(AT_FDCWD, "a.txt", &st, 0));
	show_stat("newfstatat", &st);
	R(truncate("a.txt", 10000));
	R(fstatat(fd, "", &st, AT_EMPTY_PATH));
	show_stat("fstatat empty", &st);
	R(ftruncate(fd, -1));
	R(fsync(fd));
	R(fdatasync(fd));
	R(syncfs(fd));
	sync();
	R(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
	R(fallocate(fd, 0, 0, 20000));
	R(fstat(fd, &st));
	printf("after fallocate: size=%lld\n", (long long)st.st_size);
	R(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 40000));
	R(fstat(fd, &st));
	printf("after keep-size: size=%lld\n", (long long)st.st_size);
	R(fallocate(fd, 0, 0, 0));
	R(close(fd));
	R(close(fd));
	R(read(fd, buf, 1));
	R(write(9999, "x", 1));
}

static void statx_test(void) {
	struct statx sx;
	put("sx.txt", "12345");
	R(statx(AT_FDCWD, "sx.txt", 0, STATX_BASIC_STATS, &sx));
	printf("statx: size=%llu mode=%04o isreg=%d nlink=%u hastype=%d hassize=%d\n",
	       (unsigned long long)sx.stx_size, sx.stx_mode & 07777, S_ISREG(sx.stx_mode),
	       sx.stx_nlink, !!(sx.stx_mask & STATX_TYPE), !!(sx.stx_mask & STATX_SIZE));
	R(statx(AT_FDCWD, "missing", 0, STATX_BASIC_STATS, &sx));
	R(symlink("sx.txt", "sx.lnk"));
	R(statx(AT_FDCWD, "sx.lnk", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
	printf("statx link: islnk=%d size=%llu\n", S_ISLNK(sx.stx_mode), (unsigned long long)sx.stx_size);
	R(statx(AT_FDCWD, "sx.lnk", 0, STATX_BASIC_STATS, &sx));
	printf("statx follow: isreg=%d size=%llu\n", S_ISREG(sx.stx_mode), (unsigned long long)sx.stx_size);
}

static void names(void) {
	struct stat st;
	char buf[64];
	put("n1", "data");
	R(mkdir("d", 0755));
	R(mkdir("d", 0755));
	R(rename("n1", "d/n2"));
	R(stat("n1", &st));
	R(stat("d/n2", &st));
	show_stat("renamed", &st);
	put("n3", "other");
	R(syscall(SYS_renameat2, AT_FDCWD, "n3", AT_FDCWD, "d/n2", RENAME_NOREPLACE));
	R(syscall(SYS_renameat2, AT_FDCWD, "n3", AT_FDCWD, "d/n4", RENAME_NOREPLACE));
	R(syscall(SYS_renameat2, AT_FDCWD, "d/n2", AT_FDCWD, "d/n4", RENAME_EXCHANGE));
	int fd = open("d/n2", O_RDONLY);
	memset(buf, 0, sizeof buf);
	read(fd, buf, sizeof buf - 1);
	close(fd);
	printf("after exchange d/n2: %s\n", buf);
	R(link("d/n2", "hard"));
	R(stat("hard", &st));
	show_stat("hard link", &st);
	R(link("d/n2", "hard"));
	R(symlink("d/n2", "soft"));
	memset(buf, 0, sizeof buf);
	R(readlink("soft", buf, sizeof buf));
	printf("readlink: %s\n", buf);
	memset(buf, 0, sizeof buf);
	R(readlink("soft", buf, 3));
	printf("readlink short: %s\n", buf);
	R(readlink("hard", buf, sizeof buf));
	R(readlink("soft", buf, 0));
	R(lstat("soft", &st));
	printf("lstat soft: islnk=%d size=%lld\n", S_ISLNK(st.st_mode), (long long)st.st_size);
	R(stat("soft", &st));
	printf("stat soft: isreg=%d size=%lld\n", S_ISREG(st.st_mode), (long long)st.st_size);
	R(rmdir("d"));
	R(unlink("d"));
	R(unlink("soft"));
	R(unlink("hard"));
	R(unlink("d/n2"));
	R(unlink("d/n4"));
	R(rmdir("d"));
	R(rmdir("d"));
	R(mkdir("e", 0700));
	R(unlinkat(AT_FDCWD, "e", AT_REMOVEDIR));
	R(mknod("fifo", S_IFIFO | 0600, 0));
	R(stat("fifo", &st));
	printf("fifo: isfifo=%d mode=%04o\n", S_ISFIFO(st.st_mode), st.st_mode & 07777);
	R(unlink("fifo"));
}

static void modes(void) {
	struct stat st;
	R(umask(022));
	R(umask(022));
	int fd = open("m", O_RDWR | O_CREAT, 0666);
	fstat(fd, &st);
	printf("created under 022: mode=%04o\n", st.st_mode & 07777);
	R(fchmod(fd, 0600));
	fstat(fd, &st);
	printf("fchmod: mode=%04o\n", st.st_mode & 07777);
	R(fchmodat(AT_FDCWD, "m", 0751, 0));
	stat("m", &st);
	printf("fchmodat: mode=%04o\n", st.st_mode & 07777);
	R(fchmodat(AT_FDCWD, "nope", 0751, 0));
	R(fchown(fd, getuid(), getgid()));
	R(fchownat(AT_FDCWD, "m", -1, -1, 0));

	struct timespec ts[2] = {{1000000000, 500000000}, {1234567890, 123456789}};
	R(utimensat(AT_FDCWD, "m", ts, 0));
	stat("m", &st);
	printf("utimensat: atime=%lld.%09ld mtime=%lld.%09ld\n", (long long)st.st_atim.tv_sec,
	       (long)st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
	struct timespec omit[2] = {{0, UTIME_OMIT}, {42, 0}};
	R(utimensat(AT_FDCWD, "m", omit, 0));
	stat("m", &st);
	printf("utimensat omit: atime=%lld mtime=%lld\n", (long long)st.st_atim.tv_sec,
	       (long long)st.st_mtim.tv_sec);
	struct timespec fts[2] = {{7, 0}, {8, 0}};
	R(futimens(fd, fts));
	fstat(fd, &st);
	printf("futimens: atime=%lld mtime=%lld\n", (long long)st.st_atim.tv_sec,
	       (long long)st.st_mtim.tv_sec);
	struct timespec bad[2] = {{0, 2000000000}, {0, 0}};
	R(utimensat(AT_FDCWD, "m", bad, 0));

	R(faccessat(AT_FDCWD, "m", R_OK | W_OK, 0));
	R(faccessat(AT_FDCWD, "m", F_OK, 0));
	R(faccessat(AT_FDCWD, "nope", F_OK, 0));
	R(syscall(SYS_faccessat, AT_FDCWD, "m", X_OK));
	R(syscall(SYS_faccessat2, AT_FDCWD, "m", R_OK, AT_EACCESS));
	R(syscall(SYS_faccessat2, AT_FDCWD, "nope", R_OK, AT_SYMLINK_NOFOLLOW));
	R(syscall(SYS_faccessat2, AT_FDCWD, "m", R_OK, 0x12345));
	close(fd);
	unlink("m");
}

static void descriptors(void) {
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	int d = dup(fd);
	OK(d);
	R(write(d, "abc", 3));
	R(lseek(fd, 0, SEEK_CUR));
	R(dup3(fd, 50, O_CLOEXEC));
	R(fcntl(50, F_GETFD));
	R(dup3(fd, 51, 0));
	R(fcntl(51, F_GETFD));
	R(dup3(fd, fd, 0));
	R(dup3(fd, 52, O_APPEND));
	R(dup2(fd, 53));
	R(dup(999));
	R(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
	R(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
	R(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
	R(fcntl(fd, F_SETFL, 0));
	R(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
	R(fcntl(fd, F_GETFD));
	R(fcntl(fd, F_SETFD, FD_CLOEXEC));
	R(fcntl(fd, F_GETFD));
	R(fcntl(fd, F_SETFD, 0));
	R(fcntl(fd, F_GETFD));
	R(fcntl(fd, F_DUPFD, 60));
	R(fcntl(fd, F_GETFD));
	R(fcntl(fd, F_DUPFD_CLOEXEC, 60));
	R(fcntl(61, F_GETFD));
	R(fcntl(fd, 12345));
	R(fcntl(999, F_GETFD));

	// Owners and signals: glibc asks for F_GETOWN with F_GETOWN_EX.
	struct f_owner_ex owner = {-1, -1};
	R(fcntl(fd, F_GETOWN_EX, &owner));
	printf("owner: type=%d pid=%d\n", owner.type, owner.pid);
	R(fcntl(fd, F_SETOWN, getpid()));
	printf("F_GETOWN is pid: %d\n", fcntl(fd, F_GETOWN) == getpid());
	owner = (struct f_owner_ex){F_OWNER_TID, gettid()};
	R(fcntl(fd, F_SETOWN_EX, &owner));
	owner = (struct f_owner_ex){-1, -1};
	R(fcntl(fd, F_GETOWN_EX, &owner));
	printf("owner: type=%d is tid=%d\n", owner.type, owner.pid == gettid());
	R(fcntl(fd, F_SETOWN, 0));
	R(fcntl(fd, F_GETOWN_EX, (void *)8));
	R(fcntl(fd, F_SETSIG, SIGUSR1));
	R(fcntl(fd, F_GETSIG));
	R(fcntl(fd, F_SETSIG, 0));
	R(fcntl(fd, F_GETLEASE));
	R(ioctl(fd, FIOCLEX));
	R(fcntl(fd, F_GETFD));
	R(ioctl(fd, FIONCLEX));
	R(fcntl(fd, F_GETFD));
	int bsz = 0;
	R(ioctl(fd, FIGETBSZ, &bsz));
	printf("FIGETBSZ positive: %d\n", bsz > 0);


	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	R(fcntl(fd, F_SETLK, &fl));
	struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	R(fcntl(fd, F_GETLK, &q));
	printf("F_GETLK own lock: type=%s\n", q.l_type == F_UNLCK ? "F_UNLCK" : "locked");
	fl.l_type = F_UNLCK;
	R(fcntl(fd, F_SETLK, &fl));
	struct flock ofd = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	R(fcntl(fd, F_OFD_SETLK, &ofd));
	int other = open("f", O_RDWR);
	struct flock q2 = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
	R(fcntl(other, F_OFD_GETLK, &q2));
	printf("F_OFD_GETLK: type=%s start=%lld len=%lld pid=%d\n",
	       q2.l_type == F_WRLCK ? "F_WRLCK" : q2.l_type == F_UNLCK ? "F_UNLCK" : "?",
	       (long long)q2.l_start, (long long)q2.l_len, q2.l_pid);
	struct flock q3 = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	R(fcntl(other, F_OFD_SETLK, &q3));
	R(fcntl(fd, F_SETLK, (void *)16));

	R(flock(fd, LOCK_EX));
	R(flock(other, LOCK_EX | LOCK_NB));
	R(flock(fd, LOCK_UN));
	R(flock(other, LOCK_SH | LOCK_NB));
	R(flock(fd, LOCK_SH | LOCK_NB));
	R(flock(fd, 0));
	close(other);

	int cfd = open("f", O_RDONLY | O_CLOEXEC);
	R(fcntl(cfd, F_GETFD));
	R(close_range(60, 62, 0));
	R(fcntl(60, F_GETFD));
	R(fcntl(61, F_GETFD));
	R(close_range(50, 53, CLOSE_RANGE_CLOEXEC));
	R(fcntl(51, F_GETFD));
	R(close_range(10, 5, 0));
	close(cfd);
	for (int i = 50; i < 54; i++)
		close(i);
	close(d);
	close(fd);
}

static void open_flags(void) {
	put("plain", "x");
	symlink("plain", "link");
	R(open("plain", O_RDONLY | O_DIRECTORY));
	R(open("link", O_RDONLY | O_NOFOLLOW));
	int fd = open("link", O_RDONLY | O_NOFOLLOW | O_PATH);
	OK(fd);
	struct stat st;
	R(fstat(fd, &st));
	printf("O_PATH|O_NOFOLLOW: islnk=%d\n", S_ISLNK(st.st_mode));
	close(fd);
	R(open("missing", O_RDONLY));
	R(open("plain", O_WRONLY | O_CREAT | O_EXCL, 0644));
	mkdir("dir", 0755);
	fd = open("dir", O_RDONLY | O_DIRECTORY);
	OK(fd);
	R(fcntl(fd, F_GETFL) & O_DIRECTORY ? 1 : 0);
	close(fd);
	R(open("dir", O_WRONLY));
	fd = open("plain", O_RDONLY | O_NOATIME);
	printf("O_NOATIME: %s\n", fd >= 0 || errno == EPERM ? "ok" : strerrorname_np(errno));
	if (fd >= 0)
		close(fd);

	fd = open(".", O_TMPFILE | O_RDWR, 0600);
	if (fd < 0) {
		printf("O_TMPFILE: -1 %s\n", strerrorname_np(errno));
	} else {
		write(fd, "tmp", 3);
		fstat(fd, &st);
		printf("O_TMPFILE: size=%lld nlink=%lu\n", (long long)st.st_size, (unsigned long)st.st_nlink);
		char p[64];
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		R(linkat(AT_FDCWD, p, AT_FDCWD, "fromtmp", AT_SYMLINK_FOLLOW));
		R(stat("fromtmp", &st));
		printf("linked tmpfile: size=%lld\n", (long long)st.st_size);
		close(fd);
		unlink("fromtmp");
	}
	R(open("plain", O_RDONLY | O_TMPFILE));
	unlink("link");
	unlink("plain");
	rmdir("dir");
}

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

static void dirs(void) {
	mkdir("tree", 0755);
	put("tree/b", "");
	put("tree/a", "");
	mkdir("tree/c", 0755);
	symlink("a", "tree/l");
	int fd = open("tree", O_RDONLY | O_DIRECTORY);
	char buf[1024];
	char *names[16];
	int n = 0;
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (got <= 0)
			break;
		for (long off = 0; off < got;) {
			struct dirent64 *de = (void *)(buf + off);
			char type = de->d_type == DT_DIR ? 'd' : de->d_type == DT_REG ? 'f' : de->d_type == DT_LNK ? 'l' : '?';
			if (n < 16) {
				names[n] = malloc(300);
				snprintf(names[n], 300, "%s:%c", de->d_name, type);
				n++;
			}
			off += de->d_reclen;
		}
	}
	qsort(names, n, sizeof names[0], cmp);
	printf("getdents64:");
	for (int i = 0; i < n; i++)
		printf(" %s", names[i]);
	printf("\n");
	R(syscall(SYS_getdents64, fd, buf, sizeof buf));
	lseek(fd, 0, SEEK_SET);
	R(syscall(SYS_getdents64, fd, buf, 8));
	int file = open("tree/a", O_RDONLY);
	R(syscall(SYS_getdents64, file, buf, sizeof buf));
	close(file);

	char cwd[4096];
	R(chdir("tree/c"));
	R(getcwd(cwd, sizeof cwd) != NULL);
	printf("cwd basename: %s\n", strrchr(cwd, '/') + 1);
	R(syscall(SYS_getcwd, cwd, 2));
	R(fchdir(fd));
	getcwd(cwd, sizeof cwd);
	printf("cwd basename: %s\n", strrchr(cwd, '/') + 1);
	R(chdir("a"));
	R(chdir("nope"));
	R(chdir(".."));
	R(fchdir(999));
	int afd = open("tree/a", O_RDONLY);
	R(fchdir(afd));
	close(afd);

	struct stat st;
	R(fstatat(fd, "a", &st, 0));
	show_stat("fstatat dirfd", &st);
	R(fstatat(fd, "l", &st, AT_SYMLINK_NOFOLLOW));
	printf("fstatat nofollow: islnk=%d\n", S_ISLNK(st.st_mode));
	R(mkdirat(fd, "x", 0700));
	R(unlinkat(fd, "x", 0));
	R(unlinkat(fd, "x", AT_REMOVEDIR));
	R(openat(fd, "b", O_RDONLY) >= 0);
	R(fstatat(-5, "a", &st, 0));
	close(fd);

	struct statfs sf;
	R(statfs(".", &sf));
	printf("statfs: type_nonzero=%d bsize_pos=%d namelen=%ld\n", sf.f_type != 0, sf.f_bsize > 0, (long)sf.f_namelen);
	fd = open(".", O_RDONLY);
	R(fstatfs(fd, &sf));
	printf("fstatfs: type_nonzero=%d bsize_pos=%d\n", sf.f_type != 0, sf.f_bsize > 0);
	close(fd);
	R(statfs("nope", &sf));
}

static void transfers(void) {
	put("src", "0123456789abcdef");
	int in = open("src", O_RDONLY);
	int out = open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644);
	off_t off = 4;
	R(sendfile(out, in, &off, 6));
	printf("sendfile off=%lld pos=%lld\n", (long long)off, (long long)lseek(in, 0, SEEK_CUR));
	R(sendfile(out, in, NULL, 3));
	printf("sendfile pos=%lld\n", (long long)lseek(in, 0, SEEK_CUR));
	loff_t oi = 10, oo = 100;
	R(copy_file_range(in, &oi, out, &oo, 4, 0));
	printf("copy_file_range oi=%lld oo=%lld\n", (long long)oi, (long long)oo);
	R(copy_file_range(in, NULL, out, NULL, 2, 0));
	R(copy_file_range(in, NULL, out, NULL, 2, 1));
	char buf[128] = {0};
	R(pread(out, buf, sizeof buf, 0));
	for (int i = 0; i < 104; i++)
		if (buf[i] == 0)
			buf[i] = '.';
	printf("dst: %.104s\n", buf);

	int p[2], q[2];
	pipe(p);
	pipe(q);
	loff_t so = 2;
	R(splice(in, &so, p[1], NULL, 5, 0));
	printf("splice so=%lld\n", (long long)so);
	R(tee(p[0], q[1], 100, 0));
	int avail = -1;
	R(ioctl(p[0], FIONREAD, &avail));
	printf("FIONREAD p=%d\n", avail);
	loff_t doff = 0;
	R(splice(p[0], NULL, out, &doff, 100, 0));
	memset(buf, 0, sizeof buf);
	R(read(q[0], buf, sizeof buf));
	printf("tee copy: %s\n", buf);
	memset(buf, 0, sizeof buf);
	R(pread(out, buf, 5, 0));
	printf("spliced: %s\n", buf);
	R(splice(in, NULL, out, NULL, 4, 0));
	R(tee(in, q[1], 4, 0));
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(in);
	close(out);
}

static void pipes(void) {
	int p[2];
	R(pipe2(p, O_CLOEXEC | O_NONBLOCK));
	R(fcntl(p[0], F_GETFD));
	R(fcntl(p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	char c;
	R(read(p[0], &c, 1));
	R(write(p[1], "xyz", 3));
	int n = -1;
	R(ioctl(p[0], FIONREAD, &n));
	printf("FIONREAD=%d\n", n);
	R(ioctl(p[0], FIONREAD, (void *)8));
	int on = 0;
	R(ioctl(p[0], FIONBIO, &on));
	R(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	R(fcntl(p[0], F_GETPIPE_SZ) > 0);
	R(fcntl(p[0], F_SETPIPE_SZ, 65536));
	R(fcntl(p[0], F_GETPIPE_SZ));
	R(read(p[0], &c, 1));
	printf("read %c\n", c);
	close(p[1]);
	char rest[8] = {0};
	R(read(p[0], rest, 8));
	R(read(p[0], rest, 8));
	close(p[0]);
	R(pipe2(p, 0x12345678));

	put("tty", "not a tty");
	int fd = open("tty", O_RDONLY);
	struct termios tio;
	R(ioctl(fd, TCGETS, &tio));
	R(isatty(fd));
	R(ioctl(fd, FIONREAD, &n));
	printf("FIONREAD file=%d\n", n);
	R(ioctl(999, FIONREAD, &n));
	close(fd);
}

static void memfd_inotify(void) {
	int fd = memfd_create("xemu-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	OK(fd);
	R(write(fd, "memfd contents", 14));
	R(ftruncate(fd, 4096));
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mmap: %s\n", m == MAP_FAILED ? "failed" : "ok");
	printf("mapped: %.14s\n", m);
	memcpy(m, "MEMFD", 5);
	char buf[16] = {0};
	R(pread(fd, buf, 14, 0));
	printf("read back: %s\n", buf);
	R(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	R(fcntl(fd, F_GET_SEALS));
	R(ftruncate(fd, 8192));
	R(write(fd, "x", 1) >= 0);
	munmap(m, 4096);
	close(fd);
	R(memfd_create("bad", 0x1000));

	mkdir("watched", 0755);
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	OK(in);
	R(fcntl(in, F_GETFL) & O_NONBLOCK);
	int wd = inotify_add_watch(in, "watched", IN_CREATE | IN_DELETE);
	R(wd);
	char ev[4096];
	R(read(in, ev, sizeof ev));
	put("watched/newfile", "");
	unlink("watched/newfile");
	long n = read(in, ev, sizeof ev);
	for (long off = 0; off < n;) {
		struct inotify_event *e = (void *)(ev + off);
		printf("inotify: wd_match=%d create=%d delete=%d name=%s\n", e->wd == wd,
		       !!(e->mask & IN_CREATE), !!(e->mask & IN_DELETE), e->len ? e->name : "");
		off += sizeof *e + e->len;
	}
	R(inotify_rm_watch(in, wd));
	R(inotify_rm_watch(in, wd));
	R(inotify_add_watch(in, "nope", IN_CREATE));
	close(in);
	rmdir("watched");
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	basic_io();
	statx_test();
	names();
	modes();
	descriptors();
	open_flags();
	dirs();
	transfers();
	pipes();
	memfd_inotify();
	return 0;
}
