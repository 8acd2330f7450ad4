package linux

import (
	"strconv"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/syscall/kernel"
)

func init() {
	K := kernel.Kinds
	kernel.AddEntries(map[string]*kernel.Entry{
		"execve":   {Ctl: execve, Args: K(kernel.KPath, kernel.KPtr, kernel.KPtr)},
		"execveat": {Ctl: execveat, Args: K(kernel.KDirFD, kernel.KPath, kernel.KPtr, kernel.KPtr, kernel.KHex)},
	})
}

// Limits on what execve copies (include/uapi/linux/binfmts.h): each string
// at most MAX_ARG_STRLEN, and all of them within what the new stack takes
// (a quarter of an 8 MiB stack limit).
const (
	maxArgStrlen = 32 * 4096
	maxArgTotal  = 2 << 20
)

// readStrings reads a NULL-terminated array of string pointers (argv, envp).
func readStrings(t *kernel.Task, a mem.GuestAddr, total *int) ([]string, error) {
	var out []string
	if a == 0 {
		return nil, nil
	}
	w := mem.GuestAddr(t.WordSize())
	for i := 0; ; i++ {
		p, err := t.GetWord(a + mem.GuestAddr(i)*w)
		if err != nil {
			return nil, err
		}
		if p == 0 {
			return out, nil
		}
		s, err := t.P.Mem.ReadString(mem.GuestAddr(p), maxArgStrlen)
		if err == unix.ENAMETOOLONG {
			return nil, unix.E2BIG
		}
		if err != nil {
			return nil, err
		}
		*total += len(s) + 1 + int(w)
		if *total > maxArgTotal {
			return nil, unix.E2BIG
		}
		out = append(out, s)
	}
}

func execArgs(t *kernel.Task, argvAddr, envAddr mem.GuestAddr) (argv, envp []string, err error) {
	total := 0
	if argv, err = readStrings(t, argvAddr, &total); err != nil {
		return nil, nil, err
	}
	envp, err = readStrings(t, envAddr, &total)
	return argv, envp, err
}

func execve(t *kernel.Task, a kernel.Args) (uint64, kernel.Control, error) {
	path, err := t.GuestPath(a.Addr(0))
	if err != nil {
		return 0, kernel.CtlReturn, err
	}
	argv, envp, err := execArgs(t, a.Addr(1), a.Addr(2))
	if err != nil {
		return 0, kernel.CtlReturn, err
	}
	return exec(t, path, argv, envp)
}

// exec returns only on failure or when the execve is carried out in this
// process, by Run once the call has returned.
func exec(t *kernel.Task, path string, argv, envp []string) (uint64, kernel.Control, error) {
	if err := t.Exec(path, argv, envp); err != nil {
		return 0, kernel.CtlReturn, err
	}
	return 0, kernel.CtlExec, nil
}

// execveat: a path relative to a directory descriptor, or with
// AT_EMPTY_PATH the descriptor itself (fexecve), named through /proc/self/fd.
func execveat(t *kernel.Task, a kernel.Args) (uint64, kernel.Control, error) {
	dirfd, flags := a.Int(0), a.Int(4)
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return 0, kernel.CtlReturn, unix.EINVAL
	}
	path, err := t.GuestPath(a.Addr(1))
	if err != nil {
		return 0, kernel.CtlReturn, err
	}
	switch {
	case path == "" && flags&unix.AT_EMPTY_PATH != 0:
		if err := t.CheckFD(dirfd); err != nil {
			return 0, kernel.CtlReturn, err
		}
		path = "/proc/self/fd/" + strconv.Itoa(dirfd)
	case path == "":
		return 0, kernel.CtlReturn, unix.ENOENT
	case path[0] != '/' && dirfd != unix.AT_FDCWD:
		if err := t.CheckFD(dirfd); err != nil {
			return 0, kernel.CtlReturn, err
		}
		path = "/proc/self/fd/" + strconv.Itoa(dirfd) + "/" + path
	}
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		var st unix.Stat_t
		if err := unix.Lstat(t.P.FS.Host(path), &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return 0, kernel.CtlReturn, unix.ELOOP
		}
	}
	argv, envp, err := execArgs(t, a.Addr(2), a.Addr(3))
	if err != nil {
		return 0, kernel.CtlReturn, err
	}
	return exec(t, path, argv, envp)
}
