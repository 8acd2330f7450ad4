package linux

import (
	"math"
	"xemu/syscall/abi"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/guestfs"
)

func openat(t *kernel.Task, a kernel.Args) (uint64, error) {
	dirfd := a.FD(0)
	p, err := t.GuestPath(a.Addr(1))
	if err != nil {
		return 0, err
	}
	flags := abi.OpenFlagsToHost(a.Int(2))
	var host string
	if flags&unix.O_CREAT != 0 {
		host = t.P.FS.HostForCreate(p)
	} else {
		host = t.P.FS.Host(p)
	}
	if err := checkLargeFile(t, dirfd, host, a.Int(2)); err != nil {
		return 0, err
	}
	// Linux takes the descriptor before it opens: no room, no file made
	// or truncated.
	if flags&(unix.O_CREAT|unix.O_TRUNC) != 0 {
		if err := t.P.FDRoom(1); err != nil {
			return 0, err
		}
	}
	fd, err := unix.Openat(dirfd, host, flags, a.Uint(3))
	if err != nil {
		return 0, err
	}
	fd, err = guestOpened(t, dirfd, p, fd, flags)
	return uint64(fd), err
}

// guestOpened looks at where an open the guest made landed: a file of its
// /proc that describes the emulator is replaced by the guest's view of it,
// and what the guest may not see is ENOENT.
func guestOpened(t *kernel.Task, dirfd int, p string, fd, flags int) (int, error) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return fd, nil
	}
	v, err := t.Landing(dirfd, p, flags&unix.O_NOFOLLOW == 0, st.Dev, st.Ino, fd)
	if err != nil || t.Hidden(v) {
		unix.Close(fd)
		if err == nil {
			err = unix.ENOENT
		}
		return 0, err
	}
	if v.OtherPID != 0 {
		return otherOpened(t, fd, v, flags)
	}
	file := v.File()
	if file == guestfs.ProcNone || flags&unix.O_PATH != 0 && file != guestfs.ProcExe {
		return fd, nil
	}
	unix.Close(fd)
	if file == guestfs.ProcExe {
		return unix.Open(t.P.FS.Exe, flags&^(unix.O_CREAT|unix.O_TRUNC|unix.O_EXCL), 0)
	}
	return procFile(t, v, flags)
}

// otherOpened replaces fd, a file of /proc/PID of another process, by
// that process's guest view of it if it is an xemu process that gives one
// (kernel.QueryGuestView): exe opens its guest's program. mem and pagemap
// of another xemu reach its guest memory through it (the host's files
// would address its host memory), or are refused (EACCES) if it does not
// answer or allow that. Anything else keeps the host's file.
func otherOpened(t *kernel.Task, fd int, v kernel.ProcView, flags int) (int, error) {
	if guestfs.OtherMemory(v.OtherFile) {
		if flags&unix.O_PATH != 0 || !kernel.IsXemu(v.OtherPID) {
			return fd, nil
		}
		unix.Close(fd)
		pagemap := v.OtherFile == "pagemap"
		if pagemap && flags&3 != unix.O_RDONLY {
			return 0, unix.EACCES
		}
		return t.P.OpenOtherMem(v.OtherPID, pagemap, flags&unix.O_CLOEXEC != 0)
	}
	file := guestfs.OtherFile(v.OtherFile)
	if flags&unix.O_PATH != 0 && file != guestfs.ProcExe {
		return fd, nil
	}
	body, ok := kernel.QueryGuestView(v.OtherPID, v.OtherFile)
	if !ok {
		return fd, nil
	}
	unix.Close(fd)
	if file == guestfs.ProcExe {
		return unix.Open(string(body), flags&^(unix.O_CREAT|unix.O_TRUNC|unix.O_EXCL), 0)
	}
	return bodyFile(body, flags)
}

// checkLargeFile: without O_LARGEFILE, a 32-bit ABI's open refuses a regular
// file its off_t cannot describe (generic_file_open: EOVERFLOW, before
// O_TRUNC acts). 64-bit ABIs open everything as large (force_o_largefile).
func checkLargeFile(t *kernel.Task, dirfd int, host string, guestFlags int) error {
	if guestFlags&abi.GuestOLargefile != 0 || t.LongMax() == math.MaxInt64 {
		return nil
	}
	var st unix.Stat_t
	follow := 0
	if guestFlags&abi.GuestONofollow != 0 {
		follow = unix.AT_SYMLINK_NOFOLLOW
	}
	if unix.Fstatat(dirfd, host, &st, follow) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size > t.LongMax() {
		return unix.EOVERFLOW
	}
	return nil
}

func closeFD(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	t.P.Dirs.Close(a.FD(0))
	_, special := t.P.Special(a.FD(0))
	err := unix.Close(a.FD(0))
	if special {
		// A signalfd's pipe ends go with its last descriptor.
		t.P.SpecialClosed()
	}
	return 0, err
}

func closeRange(t *kernel.Task, a kernel.Args) (uint64, error) {
	first, last, flags := uint64(a.Uint(0)), uint64(a.Uint(1)), int(a.Uint(2))
	if first > last {
		return 0, unix.EINVAL
	}
	if flags&unix.CLOSE_RANGE_UNSHARE == 0 && flags&unix.CLOSE_RANGE_CLOEXEC == 0 {
		t.P.Dirs.CloseRange(first, last)
	}
	if flags&unix.CLOSE_RANGE_CLOEXEC == 0 {
		defer t.P.SpecialClosed()
	}
	// Close around the emulator's own descriptors, in ascending order (a
	// higher one first would close the lower ones with the range below it):
	// ReservedFDs is sorted.
	var reserved []uint64
	for _, fd := range t.P.ReservedFDs() {
		if f := uint64(fd); f >= first && f <= last {
			reserved = append(reserved, f)
		}
	}
	lo := first
	for _, f := range reserved {
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

func read(t *kernel.Task, a kernel.Args) (uint64, error) {
	if !t.AccessOK(a.Addr(1), a.U64(2)) {
		return 0, unix.EFAULT
	}
	if sf, ok := t.P.Special(a.FD(0)); ok {
		if f := specialReader(sf, -1); f != nil {
			return f(t, a.FD(0), sf, a.Addr(1), a.U64(2), -1)
		}
	}
	b, err := t.OutBuf(a.Addr(1), a.U64(2))
	if err != nil {
		return 0, err
	}
	n, err := unix.Read(a.FD(0), b.B)
	if err != nil {
		return 0, err
	}
	return uint64(n), b.Done(n)
}

func write(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	if !t.AccessOK(a.Addr(1), a.U64(2)) {
		return 0, unix.EFAULT
	}
	if sf, ok := t.P.Special(a.FD(0)); ok {
		if f := specialWriter(sf, -1); f != nil {
			return f(t, a.FD(0), sf, a.Addr(1), a.U64(2), -1)
		}
	}
	b, err := t.InBuf(a.Addr(1), a.U64(2))
	if err != nil {
		return 0, err
	}
	n, err := unix.Write(a.FD(0), b.B)
	return uint64(n), err
}

func pread64(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.I64(3) < 0 {
		return 0, unix.EINVAL
	}
	if !t.AccessOK(a.Addr(1), a.U64(2)) {
		return 0, unix.EFAULT
	}
	if sf, ok := t.P.Special(a.FD(0)); ok {
		if f := specialReader(sf, a.I64(3)); f != nil {
			return f(t, a.FD(0), sf, a.Addr(1), a.U64(2), a.I64(3))
		}
	}
	b, err := t.OutBuf(a.Addr(1), a.U64(2))
	if err != nil {
		return 0, err
	}
	n, err := unix.Pread(a.FD(0), b.B, a.I64(3))
	if err != nil {
		return 0, err
	}
	return uint64(n), b.Done(n)
}

func pwrite64(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.I64(3) < 0 {
		return 0, unix.EINVAL
	}
	if !t.AccessOK(a.Addr(1), a.U64(2)) {
		return 0, unix.EFAULT
	}
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	if sf, ok := t.P.Special(a.FD(0)); ok {
		if f := specialWriter(sf, a.I64(3)); f != nil {
			return f(t, a.FD(0), sf, a.Addr(1), a.U64(2), a.I64(3))
		}
	}
	b, err := t.InBuf(a.Addr(1), a.U64(2))
	if err != nil {
		return 0, err
	}
	n, err := unix.Pwrite(a.FD(0), b.B, a.I64(3))
	return uint64(n), err
}

// specialIO moves n bytes between buf and a descriptor xemu serves itself,
// at off (< 0: at the file position, which advances).
type specialIO func(t *kernel.Task, fd int, sf kernel.SpecialFile, buf mem.GuestAddr, n uint64, off int64) (uint64, error)

// specialReader is what serves read (off < 0) and pread64 on a special
// file; nil where the host descriptor does (a signalfd's or a
// /proc/PID/syscall's pread, whose memfd has nothing to give, and a comm
// file's read).
func specialReader(sf kernel.SpecialFile, off int64) specialIO {
	switch {
	case sf.SignalFD != nil && off < 0:
		return func(t *kernel.Task, fd int, sf kernel.SpecialFile, buf mem.GuestAddr, n uint64, _ int64) (uint64, error) {
			return readSignalFD(t, sf.SignalFD, fd, buf, n)
		}
	case sf.Pagemap:
		return pagemapRead
	case sf.SyscallTID != 0 && off < 0:
		return func(t *kernel.Task, fd int, sf kernel.SpecialFile, buf mem.GuestAddr, n uint64, _ int64) (uint64, error) {
			return syscallRead(t, sf.SyscallTID, fd, buf, n)
		}
	case sf.GuestMem:
		return func(t *kernel.Task, fd int, sf kernel.SpecialFile, buf mem.GuestAddr, n uint64, off int64) (uint64, error) {
			return guestMemIO(t, fd, sf, buf, n, off, false)
		}
	}
	return nil
}

// specialWriter is what serves write (off < 0) and pwrite64 on a special
// file; nil where the host descriptor does.
func specialWriter(sf kernel.SpecialFile, off int64) specialIO {
	switch {
	case sf.GuestMem:
		return func(t *kernel.Task, fd int, sf kernel.SpecialFile, buf mem.GuestAddr, n uint64, off int64) (uint64, error) {
			return guestMemIO(t, fd, sf, buf, n, off, true)
		}
	case sf.CommTID != 0 && off < 0:
		return func(t *kernel.Task, fd int, sf kernel.SpecialFile, buf mem.GuestAddr, n uint64, _ int64) (uint64, error) {
			return commWrite(t, sf.CommTID, buf, n)
		}
	}
	return nil
}

func readv(t *kernel.Task, a kernel.Args) (uint64, error) {
	return vectorIO(t, a.FD(0), a.Addr(1), a.Int(2), true, -1, 0)
}

func writev(t *kernel.Task, a kernel.Args) (uint64, error) {
	return vectorIO(t, a.FD(0), a.Addr(1), a.Int(2), false, -1, 0)
}

// preadv and pwritev refuse a negative offset (fs/read_write.c); vectorIO
// would take it to mean the file position, as readv does.
func preadv(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.I64(3) < 0 {
		return 0, unix.EINVAL
	}
	return vectorIO(t, a.FD(0), a.Addr(1), a.Int(2), true, a.I64(3), 0)
}

func pwritev(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.I64(3) < 0 {
		return 0, unix.EINVAL
	}
	return vectorIO(t, a.FD(0), a.Addr(1), a.Int(2), false, a.I64(3), 0)
}

// preadv2 and pwritev2 take RWF_* flags (include/uapi/linux/fs.h, the same
// on every architecture), and an offset of -1 for the file position.
func preadv2(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.I64(3) < -1 {
		return 0, unix.EINVAL
	}
	return vectorIO(t, a.FD(0), a.Addr(1), a.Int(2), true, a.I64(3), a.Int(5))
}

func pwritev2(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.I64(3) < -1 {
		return 0, unix.EINVAL
	}
	return vectorIO(t, a.FD(0), a.Addr(1), a.Int(2), false, a.I64(3), a.Int(5))
}

// vectorIO is readv/writev (off < 0) and preadv/pwritev, with preadv2's and
// pwritev2's flags.
func vectorIO(t *kernel.Task, fd int, iovAddr mem.GuestAddr, n int, isRead bool, off int64, flags int) (uint64, error) {
	if !isRead {
		if err := t.CheckFD(fd); err != nil {
			return 0, err
		}
	}
	iov, err := t.Iovecs(iovAddr, n)
	if err != nil {
		return 0, err
	}
	if sf, ok := t.P.Special(fd); ok {
		if n, ok, err := specialVectorIO(t, fd, sf, iov, isRead, off, flags); ok {
			return n, err
		}
	}
	bufs, slices, err := t.HostIovecs(iov, isRead)
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
	case flags != 0 && isRead:
		k, err = unix.Preadv2(fd, slices, off, flags)
	case flags != 0:
		k, err = unix.Pwritev2(fd, slices, off, flags)
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
		return uint64(k), kernel.FinishIovecs(bufs, k)
	}
	return uint64(k), nil
}

// RWF_* flags (include/uapi/linux/fs.h).
const (
	rwfHipri  = 0x1
	rwfDsync  = 0x2
	rwfSync   = 0x4
	rwfNowait = 0x8
	rwfAppend = 0x10
)

// specialVectorIO is the vector forms on a descriptor xemu serves itself,
// done as Linux does them for that file; ok is false where the host
// descriptor serves them, as it serves the scalar forms. A signalfd has
// read_iter: one read fills the iovecs as one buffer with whole
// signalfd_siginfo records (signalfd_read_iter). /proc/PID/mem, pagemap,
// syscall and comm files have read and write only, which
// do_loop_readv_writev calls once per iovec, stopping at the first short
// one; an error counts only if nothing moved before it. Those take no flag
// but RWF_HIPRI (EOPNOTSUPP).
func specialVectorIO(t *kernel.Task, fd int, sf kernel.SpecialFile, iov []kernel.Iovec, isRead bool, off int64, flags int) (uint64, bool, error) {
	if isRead && sf.SignalFD != nil && off < 0 {
		if flags&^(rwfHipri|rwfDsync|rwfSync|rwfNowait|rwfAppend) != 0 {
			return 0, true, unix.EOPNOTSUPP
		}
		n, err := readvSignalFD(t, sf.SignalFD, fd, iov, flags&rwfNowait != 0)
		return n, true, err
	}
	one := specialReader(sf, off)
	if !isRead {
		one = specialWriter(sf, off)
	}
	if one == nil {
		return 0, false, nil
	}
	if flags&^rwfHipri != 0 {
		return 0, true, unix.EOPNOTSUPP
	}
	var done uint64
	for _, v := range iov {
		n := min(v.Len(), kernel.MaxRW-done)
		if n == 0 {
			if done == kernel.MaxRW {
				break
			}
			continue
		}
		k, err := one(t, fd, sf, v.Base(), n, off)
		if err != nil {
			if done == 0 {
				return 0, true, err
			}
			break
		}
		done += k
		if off >= 0 {
			off += int64(k)
		}
		if k != n {
			break
		}
	}
	return done, true, nil
}

func lseek(t *kernel.Task, a kernel.Args) (uint64, error) {
	off, err := t.Seek(a.FD(0), a.I64(1), a.Int(2))
	if err != nil {
		return 0, err
	}
	// off_t is a long: on a 32-bit ABI a position past 2 GiB is EOVERFLOW
	// (the file position has moved all the same, as on Linux).
	if off > t.LongMax() {
		return 0, unix.EOVERFLOW
	}
	return uint64(off), nil
}

func fstat(t *kernel.Task, a kernel.Args) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(a.FD(0), &st); err != nil {
		return 0, err
	}
	b, err := t.P.ABI.Stat(&st)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a.Addr(1), b)
}

func newfstatat(t *kernel.Task, a kernel.Args) (uint64, error) {
	st, err := statAt(t, a.FD(0), a.Addr(1), a.Int(3))
	if err != nil {
		return 0, err
	}
	b, err := t.P.ABI.Stat(st)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a.Addr(2), b)
}

// statAt is fstatat with the guest's path.
func statAt(t *kernel.Task, dirfd int, pathAddr mem.GuestAddr, flags int) (*unix.Stat_t, error) {
	p, err := t.GuestPath(pathAddr)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, t.P.FS.Host(p), &st, flags); err != nil {
		return nil, err
	}
	exe, err := procStat(t, dirfd, p, flags, st.Dev, st.Ino)
	if err != nil {
		return nil, err
	}
	if exe {
		if err := unix.Stat(t.P.FS.Exe, &st); err != nil {
			return nil, err
		}
	}
	return &st, nil
}

// procStat looks at where a stat of the guest's path landed (see
// guestOpened): exe says it is the guest's program that is to be
// described.
func procStat(t *kernel.Task, dirfd int, p string, flags int, dev, ino uint64) (exe bool, err error) {
	follow := flags&unix.AT_SYMLINK_NOFOLLOW == 0
	v, err := t.Landing(dirfd, p, follow, dev, ino, -1)
	if err != nil {
		return false, err
	}
	if t.Hidden(v) {
		return false, unix.ENOENT
	}
	return follow && v.File() == guestfs.ProcExe, nil
}

func statx(t *kernel.Task, a kernel.Args) (uint64, error) {
	p, err := t.GuestPath(a.Addr(1))
	if err != nil {
		return 0, err
	}
	var sx unix.Statx_t
	if err := unix.Statx(a.FD(0), t.P.FS.Host(p), a.Int(2), a.Int(3), &sx); err != nil {
		return 0, err
	}
	exe, err := procStat(t, a.FD(0), p, a.Int(2), unix.Mkdev(sx.Dev_major, sx.Dev_minor), sx.Ino)
	if err != nil {
		return 0, err
	}
	if exe {
		if err := unix.Statx(unix.AT_FDCWD, t.P.FS.Exe, 0, a.Int(3), &sx); err != nil {
			return 0, err
		}
	}
	// struct statx is the same on every architecture (include/uapi/linux/stat.h).
	return 0, kernel.CopyOutStruct(t, a.Addr(4), &sx)
}

func getdents64(t *kernel.Task, a kernel.Args) (uint64, error) {
	// struct linux_dirent64 is the same on every architecture.
	b, err := t.OutBuf(a.Addr(1), uint64(a.Uint(2)))
	if err != nil {
		return 0, err
	}
	n, err := t.Getdents(a.FD(0), b.B)
	if err != nil {
		return 0, err
	}
	return uint64(n), b.Done(n)
}

func readlinkat(t *kernel.Task, a kernel.Args) (uint64, error) {
	p, err := t.GuestPath(a.Addr(1))
	if err != nil {
		return 0, err
	}
	if int(a.Int(3)) <= 0 {
		return 0, unix.EINVAL
	}
	target, err := guestReadlink(t, a.FD(0), p)
	if err != nil {
		return 0, err
	}
	n := min(len(target), a.Int(3))
	return uint64(n), t.CopyOut(a.Addr(2), []byte(target[:n]))
}

// guestReadlink reads a symbolic link as the guest sees it: in its /proc,
// exe names its program, fd/N and cwd name guest paths, and links to what
// the guest may not see do not exist.
func guestReadlink(t *kernel.Task, dirfd int, p string) (string, error) {
	fd, err := unix.Openat(dirfd, t.P.FS.Host(p), unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	var v kernel.ProcView
	if kernel.OnProcFS(st.Dev) {
		v = t.FDView(fd)
		if t.Hidden(v) {
			return "", unix.ENOENT
		}
		if v.File() == guestfs.ProcExe {
			return t.P.FS.Exe, nil
		}
		if guestfs.OtherFile(v.OtherFile) == guestfs.ProcExe {
			if exe, ok := kernel.QueryGuestView(v.OtherPID, v.OtherFile); ok {
				return string(exe), nil
			}
		}
	}
	buf := make([]byte, kernel.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	target := string(buf[:n])
	if _, isFD := v.Entry.FD(); v.In && (isFD || v.Entry.Rest == "cwd" || v.Entry.Rest == "root") {
		target = t.P.FS.Guest(target)
	}
	return target, nil
}

func faccessat(t *kernel.Task, a kernel.Args) (uint64, error) {
	return access2(t, a.FD(0), a.Addr(1), a.Uint(2), 0)
}

func faccessat2(t *kernel.Task, a kernel.Args) (uint64, error) {
	return access2(t, a.FD(0), a.Addr(1), a.Uint(2), a.Int(3))
}

// access2 is faccessat2: what is checked is the file the guest's path
// leads to in its view (its program for /proc/self/exe).
func access2(t *kernel.Task, dirfd int, pathAddr mem.GuestAddr, mode uint32, flags int) (uint64, error) {
	p, err := t.GuestPath(pathAddr)
	if err != nil {
		return 0, err
	}
	host := t.P.FS.Host(p)
	if err := unix.Faccessat2(dirfd, host, mode, flags); err != nil {
		return 0, err
	}
	var st unix.Stat_t
	statFlags := flags & (unix.AT_SYMLINK_NOFOLLOW | unix.AT_EMPTY_PATH)
	if unix.Fstatat(dirfd, host, &st, statFlags) != nil {
		return 0, nil
	}
	exe, err := procStat(t, dirfd, p, statFlags, st.Dev, st.Ino)
	if err != nil {
		return 0, err
	}
	if exe {
		return 0, unix.Faccessat2(unix.AT_FDCWD, t.P.FS.Exe, mode, flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH))
	}
	return 0, nil
}

func createPath(t *kernel.Task, a mem.GuestAddr) (string, error) {
	p, err := t.GuestPath(a)
	if err != nil {
		return "", err
	}
	return t.P.FS.HostForCreate(p), nil
}

func mkdirat(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := createPath(t, a.Addr(1))
	if err != nil {
		return 0, err
	}
	return 0, unix.Mkdirat(a.FD(0), host, a.Uint(2))
}

func mknodat(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := createPath(t, a.Addr(1))
	if err != nil {
		return 0, err
	}
	return 0, unix.Mknodat(a.FD(0), host, a.Uint(2), int(a.Uint(3)))
}

func unlinkat(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := t.Path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	return 0, unix.Unlinkat(a.FD(0), host, a.Int(2))
}

func renameat(t *kernel.Task, a kernel.Args) (uint64, error) {
	return renameat2(t, kernel.Args{a[0], a[1], a[2], a[3], 0})
}

func renameat2(t *kernel.Task, a kernel.Args) (uint64, error) {
	from, err := t.Path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	to, err := createPath(t, a.Addr(3))
	if err != nil {
		return 0, err
	}
	return 0, unix.Renameat2(a.FD(0), from, a.FD(2), to, uint(a.Uint(4)))
}

func symlinkat(t *kernel.Task, a kernel.Args) (uint64, error) {
	target, err := t.GuestPath(a.Addr(0))
	if err != nil {
		return 0, err
	}
	host, err := createPath(t, a.Addr(2))
	if err != nil {
		return 0, err
	}
	return 0, unix.Symlinkat(target, a.FD(1), host)
}

func linkat(t *kernel.Task, a kernel.Args) (uint64, error) {
	from, err := t.Path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	to, err := createPath(t, a.Addr(3))
	if err != nil {
		return 0, err
	}
	return 0, unix.Linkat(a.FD(0), from, a.FD(2), to, a.Int(4))
}

func fchmod(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, unix.Fchmod(a.FD(0), a.Uint(1)) }

func fchmodat(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := t.Path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	// fchmodat(2) has no flags argument; glibc handles AT_SYMLINK_NOFOLLOW.
	_, _, e := unix.Syscall(unix.SYS_FCHMODAT, uintptr(a.FD(0)), uintptr(kernel.UnsafePointer(kernel.PtrOf(host))), uintptr(a.Uint(2)))
	return 0, kernel.ErrOf(e)
}

func fchown(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, unix.Fchown(a.FD(0), int(a.Int(1)), int(a.Int(2)))
}

func fchownat(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := t.Path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	return 0, unix.Fchownat(a.FD(0), host, a.Int(2), a.Int(3), a.Int(4))
}

func utimensat(t *kernel.Task, a kernel.Args) (uint64, error) {
	var hostPath *byte
	if a.Addr(1) != 0 {
		host, err := t.Path(a.Addr(1))
		if err != nil {
			return 0, err
		}
		hostPath = kernel.PtrOf(host)
	}
	var ts [2]unix.Timespec
	var tsp *unix.Timespec
	if a.Addr(2) != 0 {
		if err := t.ReadTimespecs(a.Addr(2), ts[:]); err != nil {
			return 0, err
		}
		tsp = &ts[0]
	}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(a.FD(0)), uintptr(kernel.UnsafePointer(hostPath)), uintptr(kernel.UnsafePointer(tsp)), uintptr(a.Int(3)), 0, 0)
	return 0, kernel.ErrOf(e)
}

func truncate(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := t.Path(a.Addr(0))
	if err != nil {
		return 0, err
	}
	return 0, unix.Truncate(host, a.I64(1))
}

func ftruncate(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, unix.Ftruncate(a.FD(0), a.I64(1))
}
func fsync(t *kernel.Task, a kernel.Args) (uint64, error)     { return 0, unix.Fsync(a.FD(0)) }
func fdatasync(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, unix.Fdatasync(a.FD(0)) }
func syncAll(t *kernel.Task, a kernel.Args) (uint64, error)   { unix.Sync(); return 0, nil }
func syncfs(t *kernel.Task, a kernel.Args) (uint64, error)    { return 0, unix.Syncfs(a.FD(0)) }

func fallocate(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, unix.Fallocate(a.FD(0), uint32(a.Int(1)), a.I64(2), a.I64(3))
}

func fadvise64(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, unix.Fadvise(a.FD(0), a.I64(1), a.I64(2), a.Int(3))
}

func readahead(t *kernel.Task, a kernel.Args) (uint64, error) {
	_, _, e := unix.Syscall(unix.SYS_READAHEAD, uintptr(a.FD(0)), uintptr(a.I64(1)), uintptr(a.U64(2)))
	return 0, kernel.ErrOf(e)
}

func flock(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, unix.Flock(a.FD(0), a.Int(1)) }

func dup(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	fd, err := unix.Dup(a.FD(0))
	if err == nil {
		t.P.Dirs.Dup(a.FD(0), fd)
	}
	return uint64(fd), err
}

func dup3(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	if err := t.CheckFD(a.FD(1)); err != nil {
		return 0, err
	}
	flags := abi.OpenFlagsToHost(a.Int(2))
	if flags&^unix.O_CLOEXEC == 0 && a.FD(0) != a.FD(1) && !t.P.FDBelowLimit(a.FD(1)) {
		return 0, unix.EBADF // ksys_dup3: newfd past RLIMIT_NOFILE
	}
	_, special := t.P.Special(a.FD(1))
	if err := unix.Dup3(a.FD(0), a.FD(1), flags); err != nil {
		return 0, err
	}
	t.P.Dirs.Dup(a.FD(0), a.FD(1))
	if special {
		t.P.SpecialClosed()
	}
	return uint64(a.FD(1)), nil
}

func pipe2(t *kernel.Task, a kernel.Args) (uint64, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], abi.OpenFlagsToHost(a.Int(1))); err != nil {
		return 0, err
	}
	if err := t.P.NewFDs(fds[0], fds[1]); err != nil {
		return 0, err
	}
	b := make([]byte, 8)
	kernel.PutLE32(b, uint32(fds[0]))
	kernel.PutLE32(b[4:], uint32(fds[1]))
	if err := t.CopyOut(a.Addr(0), b); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return 0, err
	}
	return 0, nil
}

func chdir(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := t.Path(a.Addr(0))
	if err != nil {
		return 0, err
	}
	return 0, unix.Chdir(host)
}

func fchdir(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, unix.Fchdir(a.FD(0)) }

func getcwd(t *kernel.Task, a kernel.Args) (uint64, error) {
	buf := make([]byte, kernel.PathMax)
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
	return uint64(len(cwd) + 1), t.CopyOut(a.Addr(0), append([]byte(cwd), 0))
}

func umask(t *kernel.Task, a kernel.Args) (uint64, error) {
	return uint64(unix.Umask(int(a.Uint(0) & 0o777))), nil
}

func statfs(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := t.Path(a.Addr(0))
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
	return 0, t.CopyOut(a.Addr(1), b)
}

func fstatfs(t *kernel.Task, a kernel.Args) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(a.FD(0), &st); err != nil {
		return 0, err
	}
	b, err := t.P.ABI.Statfs(&st)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a.Addr(1), b)
}

func sendfile(t *kernel.Task, a kernel.Args) (uint64, error) {
	var off int64
	var offp *int64
	if a.Addr(2) != 0 {
		v, err := t.GetWord(a.Addr(2))
		if err != nil {
			return 0, err
		}
		off = int64(v)
		offp = &off
	}
	n, err := unix.Sendfile(a.FD(0), a.FD(1), offp, int(min(a.U64(3), kernel.MaxRW)))
	if err != nil {
		return 0, err
	}
	if offp != nil {
		if err := t.PutWord(a.Addr(2), uint64(off)); err != nil {
			return 0, err
		}
	}
	return uint64(n), nil
}

// loffIn reads an optional guest loff_t pointer.
func loffIn(t *kernel.Task, a mem.GuestAddr) (*int64, error) {
	if a == 0 {
		return nil, nil
	}
	v, err := t.GetU64(a)
	if err != nil {
		return nil, err
	}
	off := int64(v)
	return &off, nil
}

func loffOut(t *kernel.Task, a mem.GuestAddr, off *int64) error {
	if off == nil {
		return nil
	}
	return t.PutU64(a, uint64(*off))
}

func copyFileRange(t *kernel.Task, a kernel.Args) (uint64, error) {
	return withOffsets(t, a, unix.CopyFileRange)
}

func splice(t *kernel.Task, a kernel.Args) (uint64, error) {
	return withOffsets(t, a, func(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error) {
		k, err := unix.Splice(rfd, roff, wfd, woff, n, flags)
		return int(k), err
	})
}

// withOffsets runs copy_file_range or splice: (fd_in, off_in*, fd_out,
// off_out*, len, flags) with optional guest loff_t pointers read before and
// written back after.
func withOffsets(t *kernel.Task, a kernel.Args, call func(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error)) (uint64, error) {
	offIn, err := loffIn(t, a.Addr(1))
	if err != nil {
		return 0, err
	}
	offOut, err := loffIn(t, a.Addr(3))
	if err != nil {
		return 0, err
	}
	n, err := call(a.FD(0), offIn, a.FD(2), offOut, int(min(a.U64(4), kernel.MaxRW)), int(a.Uint(5)))
	if err != nil {
		return 0, err
	}
	if err := loffOut(t, a.Addr(1), offIn); err != nil {
		return 0, err
	}
	return uint64(n), loffOut(t, a.Addr(3), offOut)
}

func tee(t *kernel.Task, a kernel.Args) (uint64, error) {
	n, err := unix.Tee(a.FD(0), a.FD(1), int(min(a.U64(2), kernel.MaxRW)), int(a.Uint(3)))
	return uint64(n), err
}

func memfdCreate(t *kernel.Task, a kernel.Args) (uint64, error) {
	name, err := t.GuestPath(a.Addr(0))
	if err != nil {
		return 0, err
	}
	fd, err := unix.MemfdCreate(name, int(a.Uint(1)))
	return uint64(fd), err
}

func inotifyInit1(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, err := unix.InotifyInit1(abi.OpenFlagsToHost(a.Int(0)))
	return uint64(fd), err
}

func inotifyAddWatch(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := t.Path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	wd, err := unix.InotifyAddWatch(a.FD(0), host, a.Uint(2))
	return uint64(wd), err
}

func inotifyRmWatch(t *kernel.Task, a kernel.Args) (uint64, error) {
	_, err := unix.InotifyRmWatch(a.FD(0), a.Uint(1))
	return 0, err
}

// guestMemIO is read, write, pread64 and pwrite64 on /proc/PID/mem: the
// bytes move between guest memory (this process's or another xemu's) and
// the caller's buffer through a bounded buffer.
func guestMemIO(t *kernel.Task, fd int, sf kernel.SpecialFile, buf mem.GuestAddr, n uint64, off int64, write bool) (uint64, error) {
	n = min(n, kernel.MaxRW)
	tmp := make([]byte, min(n, 1<<20))
	if write {
		if err := t.CopyIn(buf, tmp); err != nil {
			return 0, err
		}
		got, err := t.GuestMemIO(fd, sf, tmp, off, true)
		return uint64(got), err
	}
	got, err := t.GuestMemIO(fd, sf, tmp, off, false)
	if err != nil {
		return 0, err
	}
	return uint64(got), t.CopyOut(buf, tmp[:got])
}

// pagemapRead is read and pread64 on /proc/PID/pagemap.
func pagemapRead(t *kernel.Task, fd int, sf kernel.SpecialFile, buf mem.GuestAddr, n uint64, off int64) (uint64, error) {
	b, err := t.PagemapRead(fd, sf, n, off)
	if err != nil {
		return 0, err
	}
	return uint64(len(b)), t.CopyOut(buf, b)
}

// commWrite is a write to a comm file (fs/proc/base.c comm_write): the
// first 15 bytes name the thread, and the whole count is reported written.
func commWrite(t *kernel.Task, tid int, buf mem.GuestAddr, n uint64) (uint64, error) {
	b := make([]byte, min(n, 15))
	if err := t.CopyIn(buf, b); err != nil {
		return 0, err
	}
	t.P.SetComm(tid, b)
	return n, nil
}

// scatter copies b over the guest's iovecs in turn, as copy_to_iter does:
// up to the first byte it cannot write. It returns how much it copied.
func scatter(t *kernel.Task, iov []kernel.Iovec, b []byte) int {
	done := 0
	for _, v := range iov {
		if done == len(b) {
			break
		}
		n := min(v.Len(), uint64(len(b)-done))
		ok := t.P.Mem.Accessible(v.Base(), n, mem.ProtWrite)
		if ok > 0 && t.CopyOut(v.Base(), b[done:done+int(ok)]) != nil {
			return done
		}
		done += int(ok)
		if ok < n {
			break
		}
	}
	return done
}
