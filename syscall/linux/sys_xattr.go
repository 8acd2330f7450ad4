package linux

import (
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"
)

// Extended attributes: names and values are plain bytes, the same for every
// architecture. xattrMax is Linux's XATTR_SIZE_MAX.
const xattrMax = 65536

// xattrTarget is how an xattr call names its file.
type xattrTarget int

const (
	byPath xattrTarget = iota
	byLink
	byFD
)

func xattrName(t *kernel.Task, a kernel.Args) (string, error) {
	name, err := t.P.Mem.ReadString(a.Addr(1), 256)
	if err == unix.ENAMETOOLONG {
		return "", unix.ERANGE
	}
	return name, err
}

func getxattrAny(t *kernel.Task, a kernel.Args, how xattrTarget) (uint64, error) {
	name, err := xattrName(t, a)
	if err != nil {
		return 0, err
	}
	size := min(a.U64(3), xattrMax)
	buf := make([]byte, size)
	var n int
	switch how {
	case byFD:
		n, err = unix.Fgetxattr(a.FD(0), name, buf)
	default:
		p, perr := t.Path(a.Addr(0))
		if perr != nil {
			return 0, perr
		}
		if how == byLink {
			n, err = unix.Lgetxattr(p, name, buf)
		} else {
			n, err = unix.Getxattr(p, name, buf)
		}
	}
	if err != nil {
		return 0, err
	}
	if size > 0 {
		if err := t.CopyOut(a.Addr(2), buf[:n]); err != nil {
			return 0, err
		}
	}
	return uint64(n), nil
}

func listxattrAny(t *kernel.Task, a kernel.Args, how xattrTarget) (uint64, error) {
	size := min(a.U64(2), xattrMax)
	buf := make([]byte, size)
	var n int
	var err error
	switch how {
	case byFD:
		n, err = unix.Flistxattr(a.FD(0), buf)
	default:
		p, perr := t.Path(a.Addr(0))
		if perr != nil {
			return 0, perr
		}
		if how == byLink {
			n, err = unix.Llistxattr(p, buf)
		} else {
			n, err = unix.Listxattr(p, buf)
		}
	}
	if err != nil {
		return 0, err
	}
	if size > 0 {
		if err := t.CopyOut(a.Addr(1), buf[:n]); err != nil {
			return 0, err
		}
	}
	return uint64(n), nil
}

func setxattrAny(t *kernel.Task, a kernel.Args, how xattrTarget) (uint64, error) {
	name, err := xattrName(t, a)
	if err != nil {
		return 0, err
	}
	if a.U64(3) > xattrMax {
		return 0, unix.E2BIG
	}
	val := make([]byte, a.U64(3))
	if err := t.CopyIn(a.Addr(2), val); err != nil {
		return 0, err
	}
	flags := a.Int(4)
	switch how {
	case byFD:
		return 0, unix.Fsetxattr(a.FD(0), name, val, flags)
	}
	p, err := t.Path(a.Addr(0))
	if err != nil {
		return 0, err
	}
	if how == byLink {
		return 0, unix.Lsetxattr(p, name, val, flags)
	}
	return 0, unix.Setxattr(p, name, val, flags)
}

func removexattrAny(t *kernel.Task, a kernel.Args, how xattrTarget) (uint64, error) {
	name, err := xattrName(t, a)
	if err != nil {
		return 0, err
	}
	switch how {
	case byFD:
		return 0, unix.Fremovexattr(a.FD(0), name)
	}
	p, err := t.Path(a.Addr(0))
	if err != nil {
		return 0, err
	}
	if how == byLink {
		return 0, unix.Lremovexattr(p, name)
	}
	return 0, unix.Removexattr(p, name)
}

func getxattr(t *kernel.Task, a kernel.Args) (uint64, error)     { return getxattrAny(t, a, byPath) }
func lgetxattr(t *kernel.Task, a kernel.Args) (uint64, error)    { return getxattrAny(t, a, byLink) }
func fgetxattr(t *kernel.Task, a kernel.Args) (uint64, error)    { return getxattrAny(t, a, byFD) }
func listxattr(t *kernel.Task, a kernel.Args) (uint64, error)    { return listxattrAny(t, a, byPath) }
func llistxattr(t *kernel.Task, a kernel.Args) (uint64, error)   { return listxattrAny(t, a, byLink) }
func flistxattr(t *kernel.Task, a kernel.Args) (uint64, error)   { return listxattrAny(t, a, byFD) }
func setxattr(t *kernel.Task, a kernel.Args) (uint64, error)     { return setxattrAny(t, a, byPath) }
func lsetxattr(t *kernel.Task, a kernel.Args) (uint64, error)    { return setxattrAny(t, a, byLink) }
func fsetxattr(t *kernel.Task, a kernel.Args) (uint64, error)    { return setxattrAny(t, a, byFD) }
func removexattr(t *kernel.Task, a kernel.Args) (uint64, error)  { return removexattrAny(t, a, byPath) }
func lremovexattr(t *kernel.Task, a kernel.Args) (uint64, error) { return removexattrAny(t, a, byLink) }
func fremovexattr(t *kernel.Task, a kernel.Args) (uint64, error) { return removexattrAny(t, a, byFD) }

func init() {
	pathName := kernel.Kinds(kernel.KPath, kernel.KPath, kernel.KPtr, kernel.KULong, kernel.KHex)
	fdName := kernel.Kinds(kernel.KFD, kernel.KPath, kernel.KPtr, kernel.KULong, kernel.KHex)
	kernel.AddEntries(map[string]*kernel.Entry{
		"getxattr":     {Fn: getxattr, Args: pathName},
		"lgetxattr":    {Fn: lgetxattr, Args: pathName},
		"fgetxattr":    {Fn: fgetxattr, Args: fdName},
		"listxattr":    {Fn: listxattr, Args: kernel.Kinds(kernel.KPath, kernel.KPtr, kernel.KULong)},
		"llistxattr":   {Fn: llistxattr, Args: kernel.Kinds(kernel.KPath, kernel.KPtr, kernel.KULong)},
		"flistxattr":   {Fn: flistxattr, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KULong)},
		"setxattr":     {Fn: setxattr, Args: pathName},
		"lsetxattr":    {Fn: lsetxattr, Args: pathName},
		"fsetxattr":    {Fn: fsetxattr, Args: fdName},
		"removexattr":  {Fn: removexattr, Args: kernel.Kinds(kernel.KPath, kernel.KPath)},
		"lremovexattr": {Fn: lremovexattr, Args: kernel.Kinds(kernel.KPath, kernel.KPath)},
		"fremovexattr": {Fn: fremovexattr, Args: kernel.Kinds(kernel.KFD, kernel.KPath)},
	})
}
