package linux

import (
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"
)

// The 16-bit uid/gid calls (kernel/uid16.c) that older ABIs keep under the
// original names (ARM's getuid, chown...; ABI.Impl routes them here). An id
// travels as old_uid_t, an unsigned short: 0xffff means -1 ("unchanged")
// going in, and an id that does not fit comes out as the overflow id 65534.

// lowToHigh is low2highuid on argument i, as an Args value.
func lowToHigh(a kernel.Args, i int) uint64 {
	v := a.Uint(i) & 0xffff
	if v == 0xffff {
		return uint64(1<<64 - 1) // -1
	}
	return uint64(v)
}

func getuid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return uint64(kernel.HighToLowID(uint32(unix.Getuid()))), nil
}
func getgid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return uint64(kernel.HighToLowID(uint32(unix.Getgid()))), nil
}
func geteuid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return uint64(kernel.HighToLowID(uint32(unix.Geteuid()))), nil
}
func getegid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return uint64(kernel.HighToLowID(uint32(unix.Getegid()))), nil
}

func setuid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return setuid(t, kernel.Args{lowToHigh(a, 0)})
}
func setgid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return setgid(t, kernel.Args{lowToHigh(a, 0)})
}
func setreuid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return setreuid(t, kernel.Args{lowToHigh(a, 0), lowToHigh(a, 1)})
}
func setregid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return setregid(t, kernel.Args{lowToHigh(a, 0), lowToHigh(a, 1)})
}
func setresuid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return setresuid(t, kernel.Args{lowToHigh(a, 0), lowToHigh(a, 1), lowToHigh(a, 2)})
}
func setresgid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return setresgid(t, kernel.Args{lowToHigh(a, 0), lowToHigh(a, 1), lowToHigh(a, 2)})
}
func setfsuid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return setfsuid(t, kernel.Args{lowToHigh(a, 0)})
}
func setfsgid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return setfsgid(t, kernel.Args{lowToHigh(a, 0)})
}

func getresuid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, e, s := unix.Getresuid()
	return 0, putIDs16(t, a, r, e, s)
}

func getresgid16(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, e, s := unix.Getresgid()
	return 0, putIDs16(t, a, r, e, s)
}

func putIDs16(t *kernel.Task, a kernel.Args, ids ...int) error {
	for i, id := range ids {
		b := []byte{0, 0}
		v := kernel.HighToLowID(uint32(id))
		b[0], b[1] = byte(v), byte(v>>8)
		if err := t.CopyOut(a.Addr(i), b); err != nil {
			return err
		}
	}
	return nil
}

func chown16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return chown(t, kernel.Args{a[0], lowToHigh(a, 1), lowToHigh(a, 2)})
}
func lchown16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return lchown(t, kernel.Args{a[0], lowToHigh(a, 1), lowToHigh(a, 2)})
}
func fchown16(t *kernel.Task, a kernel.Args) (uint64, error) {
	return fchown(t, kernel.Args{a[0], lowToHigh(a, 1), lowToHigh(a, 2)})
}

func getgroups16(t *kernel.Task, a kernel.Args) (uint64, error) {
	gs, err := unix.Getgroups()
	if err != nil {
		return 0, err
	}
	n := a.Int(0)
	switch {
	case n < 0:
		return 0, unix.EINVAL
	case n == 0:
		return uint64(len(gs)), nil
	case n < len(gs):
		return 0, unix.EINVAL
	}
	b := make([]byte, 2*len(gs))
	for i, g := range gs {
		v := kernel.HighToLowID(uint32(g))
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	}
	return uint64(len(gs)), t.CopyOut(a.Addr(1), b)
}

func setgroups16(t *kernel.Task, a kernel.Args) (uint64, error) {
	n := a.Int(0)
	if n < 0 || n > 65536 {
		return 0, unix.EINVAL
	}
	b := make([]byte, 2*n)
	if err := t.CopyIn(a.Addr(1), b); err != nil {
		return 0, err
	}
	gs := make([]int, n)
	for i := range gs {
		v := int(b[2*i]) | int(b[2*i+1])<<8
		if v == 0xffff {
			v = -1
		}
		gs[i] = v
	}
	return 0, unix.Setgroups(gs)
}

func init() {
	kernel.AddEntries(map[string]*kernel.Entry{
		"getuid16":    {Fn: getuid16},
		"getgid16":    {Fn: getgid16},
		"geteuid16":   {Fn: geteuid16},
		"getegid16":   {Fn: getegid16},
		"setuid16":    {Fn: setuid16, Args: kernel.Kinds(kernel.KUint)},
		"setgid16":    {Fn: setgid16, Args: kernel.Kinds(kernel.KUint)},
		"setreuid16":  {Fn: setreuid16, Args: kernel.Kinds(kernel.KUint, kernel.KUint)},
		"setregid16":  {Fn: setregid16, Args: kernel.Kinds(kernel.KUint, kernel.KUint)},
		"setresuid16": {Fn: setresuid16, Args: kernel.Kinds(kernel.KUint, kernel.KUint, kernel.KUint)},
		"setresgid16": {Fn: setresgid16, Args: kernel.Kinds(kernel.KUint, kernel.KUint, kernel.KUint)},
		"getresuid16": {Fn: getresuid16, Args: kernel.Kinds(kernel.KPtr, kernel.KPtr, kernel.KPtr)},
		"getresgid16": {Fn: getresgid16, Args: kernel.Kinds(kernel.KPtr, kernel.KPtr, kernel.KPtr)},
		"setfsuid16":  {Fn: setfsuid16, Args: kernel.Kinds(kernel.KUint)},
		"setfsgid16":  {Fn: setfsgid16, Args: kernel.Kinds(kernel.KUint)},
		"chown16":     {Fn: chown16, Args: kernel.Kinds(kernel.KPath, kernel.KUint, kernel.KUint)},
		"lchown16":    {Fn: lchown16, Args: kernel.Kinds(kernel.KPath, kernel.KUint, kernel.KUint)},
		"fchown16":    {Fn: fchown16, Args: kernel.Kinds(kernel.KFD, kernel.KUint, kernel.KUint)},
		"getgroups16": {Fn: getgroups16, Args: kernel.Kinds(kernel.KInt, kernel.KPtr)},
		"setgroups16": {Fn: setgroups16, Args: kernel.Kinds(kernel.KInt, kernel.KPtr)},
	})
}
