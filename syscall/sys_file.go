package syscall

import (
	"math"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/guestfs"
)

// Open flags that ARM and AArch64 number differently from x86-64
// (arch/arm64/include/uapi/asm/fcntl.h, arch/arm/include/uapi/asm/fcntl.h).
const (
	guestODirectory = 0o40000
	guestONofollow  = 0o100000
	guestODirect    = 0o200000
	guestOLargefile = 0o400000

	hostODirect    = 0o40000
	hostOLargefile = 0o100000
	hostODirectory = 0o200000
	hostONofollow  = 0o400000
)

var openFlagMap = [][2]int{
	{guestODirectory, hostODirectory},
	{guestONofollow, hostONofollow},
	{guestODirect, hostODirect},
	{guestOLargefile, hostOLargefile},
}

const movedOpenFlags = guestODirectory | guestONofollow | guestODirect | guestOLargefile

func openFlagsToHost(f int) int {
	h := f &^ movedOpenFlags
	for _, m := range openFlagMap {
		if f&m[0] != 0 {
			h |= m[1]
		}
	}
	return h
}

func openFlagsToGuest(h int) int {
	g := h &^ (hostODirectory | hostONofollow | hostODirect | hostOLargefile)
	for _, m := range openFlagMap {
		if h&m[1] != 0 {
			g |= m[0]
		}
	}
	return g
}

var openFlagNames = []flagName{
	{0o100, "O_CREAT"}, {0o200, "O_EXCL"},
	{0o400, "O_NOCTTY"}, {0o1000, "O_TRUNC"}, {0o2000, "O_APPEND"}, {0o4000, "O_NONBLOCK"},
	{0o4010000, "O_SYNC"}, {0o10000, "O_DSYNC"}, {0o20000, "O_ASYNC"}, {guestODirectory, "O_DIRECTORY"},
	{guestONofollow, "O_NOFOLLOW"}, {guestODirect, "O_DIRECT"}, {guestOLargefile, "O_LARGEFILE"},
	{0o1000000, "O_NOATIME"}, {0o2000000, "O_CLOEXEC"}, {0o10000000, "O_PATH"}, {0o20000000, "O_TMPFILE"},
}

// checkFD refuses the emulator's own descriptors.
func (t *Task) checkFD(fd int) error {
	if t.P.reserved[fd] {
		return unix.EBADF
	}
	return nil
}

// Reserve marks a host descriptor as the emulator's own.
func (p *Process) Reserve(fd int) { p.reserved[fd] = true }

func openat(t *Task, a Args) (uint64, error) {
	dirfd := a.FD(0)
	p, err := t.guestPath(a.Addr(1))
	if err != nil {
		return 0, err
	}
	flags := openFlagsToHost(a.Int(2))
	if fd, err := t.procFile(p, flags); fd >= 0 || err != nil {
		return uint64(fd), err
	}
	var host string
	if guestfs.IsSelfExe(p) {
		host = t.P.FS.Exe
	} else if flags&unix.O_CREAT != 0 {
		host = t.P.FS.HostForCreate(p)
	} else {
		host = t.P.FS.Host(p)
	}
	if dirfd != unix.AT_FDCWD {
		if err := t.checkFD(dirfd); err != nil {
			return 0, err
		}
	}
	if err := t.checkLargeFile(dirfd, host, a.Int(2)); err != nil {
		return 0, err
	}
	fd, err := unix.Openat(dirfd, host, flags, a.Uint(3))
	return uint64(fd), err
}

// checkLargeFile: without O_LARGEFILE, a 32-bit ABI's open refuses a regular
// file its off_t cannot describe (generic_file_open: EOVERFLOW, before
// O_TRUNC acts). 64-bit ABIs open everything as large (force_o_largefile).
func (t *Task) checkLargeFile(dirfd int, host string, guestFlags int) error {
	if guestFlags&guestOLargefile != 0 || t.longMax() == math.MaxInt64 {
		return nil
	}
	var st unix.Stat_t
	follow := 0
	if guestFlags&guestONofollow != 0 {
		follow = unix.AT_SYMLINK_NOFOLLOW
	}
	if unix.Fstatat(dirfd, host, &st, follow) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size > t.longMax() {
		return unix.EOVERFLOW
	}
	return nil
}

func closeFD(t *Task, a Args) (uint64, error) {
	if err := t.checkFD(a.FD(0)); err != nil {
		return 0, err
	}
	t.P.dirs.close(a.FD(0))
	return 0, unix.Close(a.FD(0))
}

func closeRange(t *Task, a Args) (uint64, error) {
	first, last, flags := uint64(a.Uint(0)), uint64(a.Uint(1)), int(a.Uint(2))
	if first > last {
		return 0, unix.EINVAL
	}
	if flags&unix.CLOSE_RANGE_UNSHARE == 0 && flags&unix.CLOSE_RANGE_CLOEXEC == 0 {
		t.P.dirs.closeRange(first, last)
	}
	// Close around the emulator's own descriptors.
	lo := first
	for fd := range t.P.reserved {
		f := uint64(fd)
		if f < first || f > last {
			continue
		}
		if f > lo {
			if _, _, e := unix.Syscall(unix.SYS_CLOSE_RANGE, uintptr(lo), uintptr(f-1), uintptr(flags)); e != 0 {
				return 0, e
			}
		}
		lo = f + 1
	}
	if lo <= last {
		if _, _, e := unix.Syscall(unix.SYS_CLOSE_RANGE, uintptr(lo), uintptr(last), uintptr(flags)); e != 0 {
			return 0, e
		}
	}
	return 0, nil
}

func read(t *Task, a Args) (uint64, error) {
	b, err := t.outBuf(a.Addr(1), a.U64(2))
	if err != nil {
		return 0, err
	}
	n, err := unix.Read(a.FD(0), b.B)
	if err != nil {
		return 0, err
	}
	return uint64(n), b.done(n)
}

func write(t *Task, a Args) (uint64, error) {
	if err := t.checkFD(a.FD(0)); err != nil {
		return 0, err
	}
	b, err := t.inBuf(a.Addr(1), a.U64(2))
	if err != nil {
		return 0, err
	}
	n, err := unix.Write(a.FD(0), b.B)
	return uint64(n), err
}

func pread64(t *Task, a Args) (uint64, error) {
	if a.I64(3) < 0 {
		return 0, unix.EINVAL
	}
	b, err := t.outBuf(a.Addr(1), a.U64(2))
	if err != nil {
		return 0, err
	}
	n, err := unix.Pread(a.FD(0), b.B, a.I64(3))
	if err != nil {
		return 0, err
	}
	return uint64(n), b.done(n)
}

func pwrite64(t *Task, a Args) (uint64, error) {
	if a.I64(3) < 0 {
		return 0, unix.EINVAL
	}
	if err := t.checkFD(a.FD(0)); err != nil {
		return 0, err
	}
	b, err := t.inBuf(a.Addr(1), a.U64(2))
	if err != nil {
		return 0, err
	}
	n, err := unix.Pwrite(a.FD(0), b.B, a.I64(3))
	return uint64(n), err
}

func readv(t *Task, a Args) (uint64, error) {
	return vectorIO(t, a.FD(0), a.Addr(1), a.Int(2), true, -1)
}

func writev(t *Task, a Args) (uint64, error) {
	return vectorIO(t, a.FD(0), a.Addr(1), a.Int(2), false, -1)
}

// preadv and pwritev refuse a negative offset (fs/read_write.c); vectorIO
// would take it to mean the file position, as readv does.
func preadv(t *Task, a Args) (uint64, error) {
	if a.I64(3) < 0 {
		return 0, unix.EINVAL
	}
	return vectorIO(t, a.FD(0), a.Addr(1), a.Int(2), true, a.I64(3))
}

func pwritev(t *Task, a Args) (uint64, error) {
	if a.I64(3) < 0 {
		return 0, unix.EINVAL
	}
	return vectorIO(t, a.FD(0), a.Addr(1), a.Int(2), false, a.I64(3))
}

// vectorIO is readv/writev (off < 0) and preadv/pwritev.
func vectorIO(t *Task, fd int, iovAddr mem.GuestAddr, n int, isRead bool, off int64) (uint64, error) {
	if !isRead {
		if err := t.checkFD(fd); err != nil {
			return 0, err
		}
	}
	iov, err := t.iovecs(iovAddr, n)
	if err != nil {
		return 0, err
	}
	bufs, slices, err := t.hostIovecs(iov, isRead)
	if err != nil {
		return 0, err
	}
	if len(slices) == 0 {
		// Nothing to move: still report a bad descriptor.
		_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		return 0, err
	}
	var k int
	switch {
	case isRead && off < 0:
		k, err = unix.Readv(fd, slices)
	case isRead:
		k, err = unix.Preadv(fd, slices, off)
	case off < 0:
		k, err = unix.Writev(fd, slices)
	default:
		k, err = unix.Pwritev(fd, slices, off)
	}
	if err != nil {
		return 0, err
	}
	if isRead {
		return uint64(k), finishIovecs(bufs, k)
	}
	return uint64(k), nil
}

func lseek(t *Task, a Args) (uint64, error) {
	off, err := t.seek(a.FD(0), a.I64(1), a.Int(2))
	if err != nil {
		return 0, err
	}
	// off_t is a long: on a 32-bit ABI a position past 2 GiB is EOVERFLOW
	// (the file position has moved all the same, as on Linux).
	if off > t.longMax() {
		return 0, unix.EOVERFLOW
	}
	return uint64(off), nil
}

func fstat(t *Task, a Args) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(a.FD(0), &st); err != nil {
		return 0, err
	}
	b, err := t.P.ABI.Stat(&st)
	if err != nil {
		return 0, err
	}
	return 0, t.copyOut(a.Addr(1), b)
}

func newfstatat(t *Task, a Args) (uint64, error) {
	st, err := t.statAt(a.FD(0), a.Addr(1), a.Int(3))
	if err != nil {
		return 0, err
	}
	b, err := t.P.ABI.Stat(st)
	if err != nil {
		return 0, err
	}
	return 0, t.copyOut(a.Addr(2), b)
}

// statAt is fstatat with the guest's path.
func (t *Task) statAt(dirfd int, pathAddr mem.GuestAddr, flags int) (*unix.Stat_t, error) {
	p, err := t.guestPath(pathAddr)
	if err != nil {
		return nil, err
	}
	host := t.P.FS.Host(p)
	if guestfs.IsSelfExe(p) && flags&unix.AT_SYMLINK_NOFOLLOW == 0 {
		host = t.P.FS.Exe
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, host, &st, flags); err != nil {
		return nil, err
	}
	return &st, nil
}

func statx(t *Task, a Args) (uint64, error) {
	p, err := t.guestPath(a.Addr(1))
	if err != nil {
		return 0, err
	}
	host := t.P.FS.Host(p)
	if guestfs.IsSelfExe(p) && a.Int(2)&unix.AT_SYMLINK_NOFOLLOW == 0 {
		host = t.P.FS.Exe
	}
	var sx unix.Statx_t
	if err := unix.Statx(a.FD(0), host, a.Int(2), a.Int(3), &sx); err != nil {
		return 0, err
	}
	// struct statx is the same on every architecture (include/uapi/linux/stat.h).
	return 0, copyOutStruct(t, a.Addr(4), &sx)
}

func getdents64(t *Task, a Args) (uint64, error) {
	// struct linux_dirent64 is the same on every architecture.
	b, err := t.outBuf(a.Addr(1), uint64(a.Uint(2)))
	if err != nil {
		return 0, err
	}
	n, err := unix.Getdents(a.FD(0), b.B)
	if err != nil {
		return 0, err
	}
	t.renumberDirents(a.FD(0), b.B[:n])
	return uint64(n), b.done(n)
}

func readlinkat(t *Task, a Args) (uint64, error) {
	p, err := t.guestPath(a.Addr(1))
	if err != nil {
		return 0, err
	}
	if int(a.Int(3)) <= 0 {
		return 0, unix.EINVAL
	}
	var target string
	if guestfs.IsSelfExe(p) {
		target = t.P.FS.Exe
	} else {
		buf := make([]byte, pathMax)
		n, err := unix.Readlinkat(a.FD(0), t.P.FS.Host(p), buf)
		if err != nil {
			return 0, err
		}
		target = string(buf[:n])
	}
	n := min(len(target), a.Int(3))
	return uint64(n), t.copyOut(a.Addr(2), []byte(target[:n]))
}

func faccessat(t *Task, a Args) (uint64, error) {
	host, err := t.path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	return 0, unix.Faccessat(a.FD(0), host, a.Uint(2), 0)
}

func faccessat2(t *Task, a Args) (uint64, error) {
	host, err := t.path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	return 0, unix.Faccessat2(a.FD(0), host, a.Uint(2), a.Int(3))
}

func (t *Task) createPath(a mem.GuestAddr) (string, error) {
	p, err := t.guestPath(a)
	if err != nil {
		return "", err
	}
	return t.P.FS.HostForCreate(p), nil
}

func mkdirat(t *Task, a Args) (uint64, error) {
	host, err := t.createPath(a.Addr(1))
	if err != nil {
		return 0, err
	}
	return 0, unix.Mkdirat(a.FD(0), host, a.Uint(2))
}

func mknodat(t *Task, a Args) (uint64, error) {
	host, err := t.createPath(a.Addr(1))
	if err != nil {
		return 0, err
	}
	return 0, unix.Mknodat(a.FD(0), host, a.Uint(2), int(a.Uint(3)))
}

func unlinkat(t *Task, a Args) (uint64, error) {
	host, err := t.path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	return 0, unix.Unlinkat(a.FD(0), host, a.Int(2))
}

func renameat(t *Task, a Args) (uint64, error) {
	return renameat2(t, Args{a[0], a[1], a[2], a[3], 0})
}

func renameat2(t *Task, a Args) (uint64, error) {
	from, err := t.path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	to, err := t.createPath(a.Addr(3))
	if err != nil {
		return 0, err
	}
	return 0, unix.Renameat2(a.FD(0), from, a.FD(2), to, uint(a.Uint(4)))
}

func symlinkat(t *Task, a Args) (uint64, error) {
	target, err := t.guestPath(a.Addr(0))
	if err != nil {
		return 0, err
	}
	host, err := t.createPath(a.Addr(2))
	if err != nil {
		return 0, err
	}
	return 0, unix.Symlinkat(target, a.FD(1), host)
}

func linkat(t *Task, a Args) (uint64, error) {
	from, err := t.path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	to, err := t.createPath(a.Addr(3))
	if err != nil {
		return 0, err
	}
	return 0, unix.Linkat(a.FD(0), from, a.FD(2), to, a.Int(4))
}

func fchmod(t *Task, a Args) (uint64, error) { return 0, unix.Fchmod(a.FD(0), a.Uint(1)) }

func fchmodat(t *Task, a Args) (uint64, error) {
	host, err := t.path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	// fchmodat(2) has no flags argument; glibc handles AT_SYMLINK_NOFOLLOW.
	_, _, e := unix.Syscall(unix.SYS_FCHMODAT, uintptr(a.FD(0)), uintptr(unsafePointer(ptrOf(host))), uintptr(a.Uint(2)))
	return 0, errOf(e)
}

func fchown(t *Task, a Args) (uint64, error) {
	return 0, unix.Fchown(a.FD(0), int(a.Int(1)), int(a.Int(2)))
}

func fchownat(t *Task, a Args) (uint64, error) {
	host, err := t.path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	return 0, unix.Fchownat(a.FD(0), host, a.Int(2), a.Int(3), a.Int(4))
}

func utimensat(t *Task, a Args) (uint64, error) {
	var hostPath *byte
	if a.Addr(1) != 0 {
		host, err := t.path(a.Addr(1))
		if err != nil {
			return 0, err
		}
		hostPath = ptrOf(host)
	}
	var ts [2]unix.Timespec
	var tsp *unix.Timespec
	if a.Addr(2) != 0 {
		if err := t.readTimespecs(a.Addr(2), ts[:]); err != nil {
			return 0, err
		}
		tsp = &ts[0]
	}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(a.FD(0)), uintptr(unsafePointer(hostPath)), uintptr(unsafePointer(tsp)), uintptr(a.Int(3)), 0, 0)
	return 0, errOf(e)
}

func truncate(t *Task, a Args) (uint64, error) {
	host, err := t.path(a.Addr(0))
	if err != nil {
		return 0, err
	}
	return 0, unix.Truncate(host, a.I64(1))
}

func ftruncate(t *Task, a Args) (uint64, error) { return 0, unix.Ftruncate(a.FD(0), a.I64(1)) }
func fsync(t *Task, a Args) (uint64, error)     { return 0, unix.Fsync(a.FD(0)) }
func fdatasync(t *Task, a Args) (uint64, error) { return 0, unix.Fdatasync(a.FD(0)) }
func syncAll(t *Task, a Args) (uint64, error)   { unix.Sync(); return 0, nil }
func syncfs(t *Task, a Args) (uint64, error)    { return 0, unix.Syncfs(a.FD(0)) }

func fallocate(t *Task, a Args) (uint64, error) {
	return 0, unix.Fallocate(a.FD(0), uint32(a.Int(1)), a.I64(2), a.I64(3))
}

func fadvise64(t *Task, a Args) (uint64, error) {
	return 0, unix.Fadvise(a.FD(0), a.I64(1), a.I64(2), a.Int(3))
}

func readahead(t *Task, a Args) (uint64, error) {
	_, _, e := unix.Syscall(unix.SYS_READAHEAD, uintptr(a.FD(0)), uintptr(a.I64(1)), uintptr(a.U64(2)))
	return 0, errOf(e)
}

func flock(t *Task, a Args) (uint64, error) { return 0, unix.Flock(a.FD(0), a.Int(1)) }

func dup(t *Task, a Args) (uint64, error) {
	if err := t.checkFD(a.FD(0)); err != nil {
		return 0, err
	}
	fd, err := unix.Dup(a.FD(0))
	if err == nil {
		t.P.dirs.dup(a.FD(0), fd)
	}
	return uint64(fd), err
}

func dup3(t *Task, a Args) (uint64, error) {
	if err := t.checkFD(a.FD(0)); err != nil {
		return 0, err
	}
	if err := t.checkFD(a.FD(1)); err != nil {
		return 0, err
	}
	flags := openFlagsToHost(a.Int(2))
	if err := unix.Dup3(a.FD(0), a.FD(1), flags); err != nil {
		return 0, err
	}
	t.P.dirs.dup(a.FD(0), a.FD(1))
	return uint64(a.FD(1)), nil
}

func pipe2(t *Task, a Args) (uint64, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], openFlagsToHost(a.Int(1))); err != nil {
		return 0, err
	}
	b := make([]byte, 8)
	putLE32(b, uint32(fds[0]))
	putLE32(b[4:], uint32(fds[1]))
	if err := t.copyOut(a.Addr(0), b); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return 0, err
	}
	return 0, nil
}

func chdir(t *Task, a Args) (uint64, error) {
	host, err := t.path(a.Addr(0))
	if err != nil {
		return 0, err
	}
	return 0, unix.Chdir(host)
}

func fchdir(t *Task, a Args) (uint64, error) { return 0, unix.Fchdir(a.FD(0)) }

func getcwd(t *Task, a Args) (uint64, error) {
	buf := make([]byte, pathMax)
	n, err := unix.Getcwd(buf)
	if err != nil {
		return 0, err
	}
	cwd := string(buf[:n-1])
	// Inside the sysroot, the guest sees the path from its root.
	cwd = t.P.FS.Guest(cwd)
	if uint64(len(cwd)+1) > a.U64(1) {
		return 0, unix.ERANGE
	}
	return uint64(len(cwd) + 1), t.copyOut(a.Addr(0), append([]byte(cwd), 0))
}

func umask(t *Task, a Args) (uint64, error) { return uint64(unix.Umask(int(a.Uint(0) & 0o777))), nil }

func statfs(t *Task, a Args) (uint64, error) {
	host, err := t.path(a.Addr(0))
	if err != nil {
		return 0, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(host, &st); err != nil {
		return 0, err
	}
	b, err := t.P.ABI.Statfs(&st)
	if err != nil {
		return 0, err
	}
	return 0, t.copyOut(a.Addr(1), b)
}

func fstatfs(t *Task, a Args) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(a.FD(0), &st); err != nil {
		return 0, err
	}
	b, err := t.P.ABI.Statfs(&st)
	if err != nil {
		return 0, err
	}
	return 0, t.copyOut(a.Addr(1), b)
}

func sendfile(t *Task, a Args) (uint64, error) {
	var off int64
	var offp *int64
	if a.Addr(2) != 0 {
		v, err := t.getWord(a.Addr(2))
		if err != nil {
			return 0, err
		}
		off = int64(v)
		offp = &off
	}
	n, err := unix.Sendfile(a.FD(0), a.FD(1), offp, int(min(a.U64(3), maxRW)))
	if err != nil {
		return 0, err
	}
	if offp != nil {
		if err := t.putWord(a.Addr(2), uint64(off)); err != nil {
			return 0, err
		}
	}
	return uint64(n), nil
}

// loffIn reads an optional guest loff_t pointer.
func (t *Task) loffIn(a mem.GuestAddr) (*int64, error) {
	if a == 0 {
		return nil, nil
	}
	v, err := t.getU64(a)
	if err != nil {
		return nil, err
	}
	off := int64(v)
	return &off, nil
}

func (t *Task) loffOut(a mem.GuestAddr, off *int64) error {
	if off == nil {
		return nil
	}
	return t.putU64(a, uint64(*off))
}

func copyFileRange(t *Task, a Args) (uint64, error) { return withOffsets(t, a, unix.CopyFileRange) }

func splice(t *Task, a Args) (uint64, error) {
	return withOffsets(t, a, func(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error) {
		k, err := unix.Splice(rfd, roff, wfd, woff, n, flags)
		return int(k), err
	})
}

// withOffsets runs copy_file_range or splice: (fd_in, off_in*, fd_out,
// off_out*, len, flags) with optional guest loff_t pointers read before and
// written back after.
func withOffsets(t *Task, a Args, call func(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error)) (uint64, error) {
	offIn, err := t.loffIn(a.Addr(1))
	if err != nil {
		return 0, err
	}
	offOut, err := t.loffIn(a.Addr(3))
	if err != nil {
		return 0, err
	}
	n, err := call(a.FD(0), offIn, a.FD(2), offOut, int(min(a.U64(4), maxRW)), int(a.Uint(5)))
	if err != nil {
		return 0, err
	}
	if err := t.loffOut(a.Addr(1), offIn); err != nil {
		return 0, err
	}
	return uint64(n), t.loffOut(a.Addr(3), offOut)
}

func tee(t *Task, a Args) (uint64, error) {
	n, err := unix.Tee(a.FD(0), a.FD(1), int(min(a.U64(2), maxRW)), int(a.Uint(3)))
	return uint64(n), err
}

func memfdCreate(t *Task, a Args) (uint64, error) {
	name, err := t.guestPath(a.Addr(0))
	if err != nil {
		return 0, err
	}
	fd, err := unix.MemfdCreate(name, int(a.Uint(1)))
	return uint64(fd), err
}

func inotifyInit1(t *Task, a Args) (uint64, error) {
	fd, err := unix.InotifyInit1(openFlagsToHost(a.Int(0)))
	return uint64(fd), err
}

func inotifyAddWatch(t *Task, a Args) (uint64, error) {
	host, err := t.path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	wd, err := unix.InotifyAddWatch(a.FD(0), host, a.Uint(2))
	return uint64(wd), err
}

func inotifyRmWatch(t *Task, a Args) (uint64, error) {
	_, err := unix.InotifyRmWatch(a.FD(0), a.Uint(1))
	return 0, err
}
