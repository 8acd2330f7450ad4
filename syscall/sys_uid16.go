package syscall

import (
	"golang.org/x/sys/unix"
)

// The 16-bit uid/gid calls (kernel/uid16.c) that older ABIs keep under the
// original names (ARM's getuid, chown...; ABI.Impl routes them here). An id
// travels as old_uid_t, an unsigned short: 0xffff means -1 ("unchanged")
// going in, and an id that does not fit comes out as the overflow id 65534.

// overflowID is /proc/sys/kernel/overflowuid and overflowgid's default.
const overflowID = 65534

// highToLowID is high2lowuid: a 32-bit id as a 16-bit caller sees it.
func highToLowID(id uint32) uint32 {
	if id&^0xffff != 0 {
		return overflowID
	}
	return id
}

// lowToHigh is low2highuid on argument i, as an Args value.
func lowToHigh(a Args, i int) uint64 {
	v := a.Uint(i) & 0xffff
	if v == 0xffff {
		return uint64(1<<64 - 1) // -1
	}
	return uint64(v)
}

func getuid16(t *Task, a Args) (uint64, error) {
	return uint64(highToLowID(uint32(unix.Getuid()))), nil
}
func getgid16(t *Task, a Args) (uint64, error) {
	return uint64(highToLowID(uint32(unix.Getgid()))), nil
}
func geteuid16(t *Task, a Args) (uint64, error) {
	return uint64(highToLowID(uint32(unix.Geteuid()))), nil
}
func getegid16(t *Task, a Args) (uint64, error) {
	return uint64(highToLowID(uint32(unix.Getegid()))), nil
}

func setuid16(t *Task, a Args) (uint64, error) { return setuid(t, Args{lowToHigh(a, 0)}) }
func setgid16(t *Task, a Args) (uint64, error) { return setgid(t, Args{lowToHigh(a, 0)}) }
func setreuid16(t *Task, a Args) (uint64, error) {
	return setreuid(t, Args{lowToHigh(a, 0), lowToHigh(a, 1)})
}
func setregid16(t *Task, a Args) (uint64, error) {
	return setregid(t, Args{lowToHigh(a, 0), lowToHigh(a, 1)})
}
func setresuid16(t *Task, a Args) (uint64, error) {
	return setresuid(t, Args{lowToHigh(a, 0), lowToHigh(a, 1), lowToHigh(a, 2)})
}
func setresgid16(t *Task, a Args) (uint64, error) {
	return setresgid(t, Args{lowToHigh(a, 0), lowToHigh(a, 1), lowToHigh(a, 2)})
}
func setfsuid16(t *Task, a Args) (uint64, error) { return setfsuid(t, Args{lowToHigh(a, 0)}) }
func setfsgid16(t *Task, a Args) (uint64, error) { return setfsgid(t, Args{lowToHigh(a, 0)}) }

func getresuid16(t *Task, a Args) (uint64, error) {
	r, e, s := unix.Getresuid()
	return 0, t.putIDs16(a, r, e, s)
}

func getresgid16(t *Task, a Args) (uint64, error) {
	r, e, s := unix.Getresgid()
	return 0, t.putIDs16(a, r, e, s)
}

func (t *Task) putIDs16(a Args, ids ...int) error {
	for i, id := range ids {
		b := []byte{0, 0}
		v := highToLowID(uint32(id))
		b[0], b[1] = byte(v), byte(v>>8)
		if err := t.copyOut(a.Addr(i), b); err != nil {
			return err
		}
	}
	return nil
}

func chown16(t *Task, a Args) (uint64, error) {
	return chown(t, Args{a[0], lowToHigh(a, 1), lowToHigh(a, 2)})
}
func lchown16(t *Task, a Args) (uint64, error) {
	return lchown(t, Args{a[0], lowToHigh(a, 1), lowToHigh(a, 2)})
}
func fchown16(t *Task, a Args) (uint64, error) {
	return fchown(t, Args{a[0], lowToHigh(a, 1), lowToHigh(a, 2)})
}

func getgroups16(t *Task, a Args) (uint64, error) {
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
		v := highToLowID(uint32(g))
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	}
	return uint64(len(gs)), t.copyOut(a.Addr(1), b)
}

func setgroups16(t *Task, a Args) (uint64, error) {
	n := a.Int(0)
	if n < 0 || n > 65536 {
		return 0, unix.EINVAL
	}
	b := make([]byte, 2*n)
	if err := t.copyIn(a.Addr(1), b); err != nil {
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
	addEntries(map[string]*Entry{
		"getuid16":    {Fn: getuid16},
		"getgid16":    {Fn: getgid16},
		"geteuid16":   {Fn: geteuid16},
		"getegid16":   {Fn: getegid16},
		"setuid16":    {Fn: setuid16, Args: kinds(KUint)},
		"setgid16":    {Fn: setgid16, Args: kinds(KUint)},
		"setreuid16":  {Fn: setreuid16, Args: kinds(KUint, KUint)},
		"setregid16":  {Fn: setregid16, Args: kinds(KUint, KUint)},
		"setresuid16": {Fn: setresuid16, Args: kinds(KUint, KUint, KUint)},
		"setresgid16": {Fn: setresgid16, Args: kinds(KUint, KUint, KUint)},
		"getresuid16": {Fn: getresuid16, Args: kinds(KPtr, KPtr, KPtr)},
		"getresgid16": {Fn: getresgid16, Args: kinds(KPtr, KPtr, KPtr)},
		"setfsuid16":  {Fn: setfsuid16, Args: kinds(KUint)},
		"setfsgid16":  {Fn: setfsgid16, Args: kinds(KUint)},
		"chown16":     {Fn: chown16, Args: kinds(KPath, KUint, KUint)},
		"lchown16":    {Fn: lchown16, Args: kinds(KPath, KUint, KUint)},
		"fchown16":    {Fn: fchown16, Args: kinds(KFD, KUint, KUint)},
		"getgroups16": {Fn: getgroups16, Args: kinds(KInt, KPtr)},
		"setgroups16": {Fn: setgroups16, Args: kinds(KInt, KPtr)},
	})
}
