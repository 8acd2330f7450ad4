package linux

import (
	"encoding/binary"
	"xemu/cpu/mem"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"
)

// The calls from before the *at family, which older ABIs (ARM EABI, and
// x86-64) still number and whose C libraries still use (glibc for armhf
// calls unlink, mkdir, rename, dup2... directly). Each is its *at
// counterpart relative to the working directory.

// cwd is AT_FDCWD as an argument.
var cwd = func() uint64 { fd := unix.AT_FDCWD; return uint64(int64(fd)) }()

func open(t *kernel.Task, a kernel.Args) (uint64, error) {
	return openat(t, kernel.Args{cwd, a[0], a[1], a[2]})
}

func creat(t *kernel.Task, a kernel.Args) (uint64, error) {
	return openat(t, kernel.Args{cwd, a[0], unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC, a[1]})
}

func link(t *kernel.Task, a kernel.Args) (uint64, error) {
	return linkat(t, kernel.Args{cwd, a[0], cwd, a[1], 0})
}
func unlink(t *kernel.Task, a kernel.Args) (uint64, error) {
	return unlinkat(t, kernel.Args{cwd, a[0], 0})
}
func mkdir(t *kernel.Task, a kernel.Args) (uint64, error) {
	return mkdirat(t, kernel.Args{cwd, a[0], a[1]})
}
func rmdir(t *kernel.Task, a kernel.Args) (uint64, error) {
	return unlinkat(t, kernel.Args{cwd, a[0], unix.AT_REMOVEDIR})
}
func rename(t *kernel.Task, a kernel.Args) (uint64, error) {
	return renameat2(t, kernel.Args{cwd, a[0], cwd, a[1], 0})
}
func chmod(t *kernel.Task, a kernel.Args) (uint64, error) {
	return fchmodat(t, kernel.Args{cwd, a[0], a[1]})
}
func chown(t *kernel.Task, a kernel.Args) (uint64, error) {
	return fchownat(t, kernel.Args{cwd, a[0], a[1], a[2], 0})
}
func lchown(t *kernel.Task, a kernel.Args) (uint64, error) {
	return fchownat(t, kernel.Args{cwd, a[0], a[1], a[2], unix.AT_SYMLINK_NOFOLLOW})
}
func access(t *kernel.Task, a kernel.Args) (uint64, error) {
	return faccessat(t, kernel.Args{cwd, a[0], a[1]})
}
func readlink(t *kernel.Task, a kernel.Args) (uint64, error) {
	return readlinkat(t, kernel.Args{cwd, a[0], a[1], a[2]})
}
func symlink(t *kernel.Task, a kernel.Args) (uint64, error) {
	return symlinkat(t, kernel.Args{a[0], cwd, a[1]})
}
func mknod(t *kernel.Task, a kernel.Args) (uint64, error) {
	return mknodat(t, kernel.Args{cwd, a[0], a[1], a[2]})
}
func pipe(t *kernel.Task, a kernel.Args) (uint64, error)    { return pipe2(t, kernel.Args{a[0], 0}) }
func getpgrp(t *kernel.Task, a kernel.Args) (uint64, error) { return getpgid(t, kernel.Args{0}) }
func inotifyInit(t *kernel.Task, a kernel.Args) (uint64, error) {
	return inotifyInit1(t, kernel.Args{0})
}

// dup2 is dup3 without flags, except that duplicating a descriptor onto
// itself checks it and succeeds.
func dup2(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.FD(0) == a.FD(1) {
		if err := t.CheckFD(a.FD(0)); err != nil {
			return 0, err
		}
		if _, err := unix.FcntlInt(uintptr(a.FD(0)), unix.F_GETFD, 0); err != nil {
			return 0, err
		}
		return uint64(a.FD(1)), nil
	}
	return dup3(t, kernel.Args{a[0], a[1], 0})
}

func stat(t *kernel.Task, a kernel.Args) (uint64, error) {
	return newfstatat(t, kernel.Args{cwd, a[0], a[1], 0})
}
func lstat(t *kernel.Task, a kernel.Args) (uint64, error) {
	return newfstatat(t, kernel.Args{cwd, a[0], a[1], unix.AT_SYMLINK_NOFOLLOW})
}

// utimes and futimesat take struct timeval pairs (microseconds), or NULL
// for now.
func utimes(t *kernel.Task, a kernel.Args) (uint64, error) {
	return futimesat(t, kernel.Args{cwd, a[0], a[1]})
}

func futimesat(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.Addr(2) == 0 {
		return utimensat(t, kernel.Args{a[0], a[1], 0, 0})
	}
	var tv [2]unix.Timespec
	if err := t.ReadTimespecs(a.Addr(2), tv[:]); err != nil {
		return 0, err
	}
	for i := range tv {
		if tv[i].Nsec < 0 || tv[i].Nsec >= 1000000 {
			return 0, unix.EINVAL
		}
		tv[i].Nsec *= 1000
	}
	var hostPath *byte
	if a.Addr(1) != 0 {
		p, err := t.Path(a.Addr(1))
		if err != nil {
			return 0, err
		}
		hostPath = kernel.PtrOf(p)
	}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(a.FD(0)), uintptr(kernel.UnsafePointer(hostPath)), uintptr(kernel.UnsafePointer(&tv[0])), 0, 0, 0)
	return 0, kernel.ErrOf(e)
}

// getdents fills struct linux_dirent records (fs/readdir.c: d_ino and d_off
// are longs, d_type is the record's last byte) from the host's
// linux_dirent64 ones. As in filldir, an inode a long cannot hold is
// EOVERFLOW, or ends the batch after the records before it; records read
// but not returned are read again next time.
func getdents(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, count := a.FD(0), int(min(a.Uint(2), kernel.MaxRW))
	// The host buffer is sized by what the guest can take: its writable
	// bytes (none is EFAULT), and at most 1 MiB a call (the caller loops).
	if uint64(a.Addr(1))+uint64(count) > t.P.ABI.Limit {
		return 0, unix.EFAULT // access_ok: the range must be user space
	}
	if count > 0 {
		count = int(min(t.P.Mem.Accessible(a.Addr(1), uint64(count), mem.ProtWrite), 1<<20))
		if count == 0 {
			return 0, unix.EFAULT
		}
	}
	start, err := unix.Seek(fd, 0, unix.SEEK_CUR)
	if err != nil && err != unix.ESPIPE {
		return 0, err
	}
	in := make([]byte, count)
	n, err := t.Getdents(fd, in)
	if err != nil {
		return 0, err
	}
	w := int(t.WordSize())
	nameOff := 2*w + 2
	out := make([]byte, 0, count)
	consumed, resume := 0, start
	var why error = unix.EINVAL // the buffer cannot hold the first record
	for off := 0; off < n; {
		reclen := int(binary.LittleEndian.Uint16(in[off+16:]))
		ino := binary.LittleEndian.Uint64(in[off:])
		doff := binary.LittleEndian.Uint64(in[off+8:])
		name := in[off+19 : off+reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if w == 4 && ino > 0xffffffff {
			why = unix.EOVERFLOW
			break
		}
		size := (nameOff + len(name) + 2 + w - 1) &^ (w - 1)
		if len(out)+size > count {
			break
		}
		rec := make([]byte, size)
		if w == 4 {
			binary.LittleEndian.PutUint32(rec, uint32(ino))
			binary.LittleEndian.PutUint32(rec[4:], uint32(doff))
		} else {
			binary.LittleEndian.PutUint64(rec, ino)
			binary.LittleEndian.PutUint64(rec[8:], doff)
		}
		binary.LittleEndian.PutUint16(rec[2*w:], uint16(size))
		copy(rec[nameOff:], name)
		rec[size-1] = in[off+18] // d_type
		out = append(out, rec...)
		off += reclen
		consumed, resume = off, int64(doff)
	}
	if consumed < n {
		if d := t.P.Dirs.Get(fd); d != nil && consumed > 0 {
			resume = d.ToHost(resume) // a d_off, renumbered above
		}
		if _, err := unix.Seek(fd, resume, unix.SEEK_SET); err != nil {
			return 0, err
		}
		if len(out) == 0 {
			return 0, why
		}
	}
	return uint64(len(out)), t.CopyOut(a.Addr(1), out)
}

func init() {
	kernel.AddEntries(map[string]*kernel.Entry{
		"open":         {NewFD: true, Fn: open, Args: kernel.Kinds(kernel.KPath, kernel.KOpenFlags, kernel.KHex)},
		"creat":        {NewFD: true, Fn: creat, Args: kernel.Kinds(kernel.KPath, kernel.KHex)},
		"link":         {Fn: link, Args: kernel.Kinds(kernel.KPath, kernel.KPath)},
		"unlink":       {Fn: unlink, Args: kernel.Kinds(kernel.KPath)},
		"mkdir":        {Fn: mkdir, Args: kernel.Kinds(kernel.KPath, kernel.KHex)},
		"rmdir":        {Fn: rmdir, Args: kernel.Kinds(kernel.KPath)},
		"rename":       {Fn: rename, Args: kernel.Kinds(kernel.KPath, kernel.KPath)},
		"chmod":        {Fn: chmod, Args: kernel.Kinds(kernel.KPath, kernel.KHex)},
		"chown":        {Fn: chown, Args: kernel.Kinds(kernel.KPath, kernel.KInt, kernel.KInt)},
		"lchown":       {Fn: lchown, Args: kernel.Kinds(kernel.KPath, kernel.KInt, kernel.KInt)},
		"access":       {Fn: access, Args: kernel.Kinds(kernel.KPath, kernel.KHex)},
		"readlink":     {Fn: readlink, Args: kernel.Kinds(kernel.KPath, kernel.KPtr, kernel.KInt)},
		"symlink":      {Fn: symlink, Args: kernel.Kinds(kernel.KPath, kernel.KPath)},
		"mknod":        {Fn: mknod, Args: kernel.Kinds(kernel.KPath, kernel.KHex, kernel.KHex)},
		"pipe":         {Fn: pipe, Args: kernel.Kinds(kernel.KPtr)},
		"dup2":         {Fn: dup2, Args: kernel.Kinds(kernel.KFD, kernel.KFD)},
		"getpgrp":      {Fn: getpgrp},
		"inotify_init": {NewFD: true, Fn: inotifyInit},
		"stat":         {Fn: stat, Args: kernel.Kinds(kernel.KPath, kernel.KPtr)},
		"lstat":        {Fn: lstat, Args: kernel.Kinds(kernel.KPath, kernel.KPtr)},
		"utimes":       {Fn: utimes, Args: kernel.Kinds(kernel.KPath, kernel.KPtr)},
		"futimesat":    {Fn: futimesat, Args: kernel.Kinds(kernel.KDirFD, kernel.KPath, kernel.KPtr)},
		"getdents":     {Fn: getdents, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KUint)},
	})
}
