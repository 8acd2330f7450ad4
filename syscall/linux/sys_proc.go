package linux

import (
	"bytes"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

func exitGroup(t *kernel.Task, a kernel.Args) (uint64, error) {
	t.Exit(a.Int(0))
	return 0, nil
}

// exit ends the calling thread; the last thread's exit ends the process.
func exitThread(t *kernel.Task, a kernel.Args) (uint64, error) {
	t.ExitThread(a.Int(0))
	return 0, nil
}

func getpid(t *kernel.Task, a kernel.Args) (uint64, error)  { return uint64(unix.Getpid()), nil }
func getppid(t *kernel.Task, a kernel.Args) (uint64, error) { return uint64(unix.Getppid()), nil }
func gettid(t *kernel.Task, a kernel.Args) (uint64, error)  { return uint64(t.TID), nil }
func getuid(t *kernel.Task, a kernel.Args) (uint64, error)  { return uint64(unix.Getuid()), nil }
func geteuid(t *kernel.Task, a kernel.Args) (uint64, error) { return uint64(unix.Geteuid()), nil }
func getgid(t *kernel.Task, a kernel.Args) (uint64, error)  { return uint64(unix.Getgid()), nil }
func getegid(t *kernel.Task, a kernel.Args) (uint64, error) { return uint64(unix.Getegid()), nil }

func getpgid(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, err := unix.Getpgid(a.Int(0))
	return uint64(r), err
}

func setpgid(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, unix.Setpgid(a.Int(0), a.Int(1))
}

func getsid(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, err := unix.Getsid(a.Int(0))
	return uint64(r), err
}

func setsid(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, err := unix.Setsid()
	return uint64(r), err
}

func setuid(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, unix.Setuid(a.Int(0)) }
func setgid(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, unix.Setgid(a.Int(0)) }
func setreuid(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, unix.Setreuid(a.Int(0), a.Int(1))
}
func setregid(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, unix.Setregid(a.Int(0), a.Int(1))
}
func setresuid(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, unix.Setresuid(a.Int(0), a.Int(1), a.Int(2))
}
func setresgid(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, unix.Setresgid(a.Int(0), a.Int(1), a.Int(2))
}

func getresuid(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, e, s := unix.Getresuid()
	return 0, putIDs(t, a, uint32(r), uint32(e), uint32(s))
}

func getresgid(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, e, s := unix.Getresgid()
	return 0, putIDs(t, a, uint32(r), uint32(e), uint32(s))
}

func putIDs(t *kernel.Task, a kernel.Args, ids ...uint32) error {
	for i, id := range ids {
		if err := t.PutU32(a.Addr(i), id); err != nil {
			return err
		}
	}
	return nil
}

func setfsuid(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, _, _ := unix.Syscall(unix.SYS_SETFSUID, uintptr(a.Uint(0)), 0, 0)
	return uint64(r), nil
}

func setfsgid(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, _, _ := unix.Syscall(unix.SYS_SETFSGID, uintptr(a.Uint(0)), 0, 0)
	return uint64(r), nil
}

func getgroups(t *kernel.Task, a kernel.Args) (uint64, error) {
	gs, err := unix.Getgroups()
	if err != nil {
		return 0, err
	}
	n := a.Int(0)
	if n < 0 {
		return 0, unix.EINVAL
	}
	if n == 0 {
		return uint64(len(gs)), nil
	}
	if n < len(gs) {
		return 0, unix.EINVAL
	}
	b := make([]byte, 4*len(gs))
	for i, g := range gs {
		kernel.PutLE32(b[4*i:], uint32(g))
	}
	return uint64(len(gs)), t.CopyOut(a.Addr(1), b)
}

func setgroups(t *kernel.Task, a kernel.Args) (uint64, error) {
	n := a.Int(0)
	if n < 0 || n > 65536 {
		return 0, unix.EINVAL
	}
	gs := make([]int, n)
	for i := range gs {
		g, err := t.GetU32(a.Addr(1) + mem.GuestAddr(4*i))
		if err != nil {
			return 0, err
		}
		gs[i] = int(g)
	}
	return 0, unix.Setgroups(gs)
}

func uname(t *kernel.Task, a kernel.Args) (uint64, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return 0, err
	}
	// struct utsname is six 65-byte fields everywhere.
	u.Machine = [65]byte{}
	copy(u.Machine[:], t.P.ABI.Uname)
	return 0, kernel.CopyOutStruct(t, a.Addr(0), &u)
}

func setTIDAddress(t *kernel.Task, a kernel.Args) (uint64, error) {
	t.ClearChildTID = a.Addr(0)
	return uint64(t.TID), nil
}

func setRobustList(t *kernel.Task, a kernel.Args) (uint64, error) {
	// struct robust_list_head: three words.
	if a.U64(1) != 3*t.WordSize() {
		return 0, unix.EINVAL
	}
	t.RobustList, t.RobustLen = a.Addr(0), a.U64(1)
	return 0, nil
}

func getRobustList(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.Int(0) != 0 && a.Int(0) != t.TID {
		return 0, unix.EPERM
	}
	if err := t.PutWord(a.Addr(1), uint64(t.RobustList)); err != nil {
		return 0, err
	}
	return 0, t.PutWord(a.Addr(2), t.RobustLen)
}

// Resource limits that describe the guest's address space are kept by xemu:
// applied to the host they would limit the emulator's own reservations. So
// is RLIMIT_NOFILE, which the host keeps raised for xemu's own descriptors
// (kernel/nofile.go).
const (
	rlimitStack  = 3
	rlimitData   = kernel.RlimitData
	rlimitAS     = kernel.RlimitAS
	rlimitNofile = kernel.RlimitNofile
)

// emulatedLimit is the limit xemu keeps for res, if it keeps one; those of
// the address space get their defaults when first asked for.
func emulatedLimit(p *kernel.Process, res int) (*kernel.Rlimit, bool) {
	if p.Limits == nil {
		p.Limits = map[int]*kernel.Rlimit{}
	}
	inf := ^uint64(0)
	if p.Limits[rlimitStack] == nil {
		p.Limits[rlimitStack] = &kernel.Rlimit{Cur: 8 << 20, Max: inf}
		var l unix.Rlimit
		if unix.Getrlimit(rlimitStack, &l) == nil {
			p.Limits[rlimitStack] = &kernel.Rlimit{Cur: l.Cur, Max: l.Max}
		}
	}
	for _, r := range []int{rlimitData, rlimitAS} {
		if p.Limits[r] == nil {
			p.Limits[r] = &kernel.Rlimit{Cur: inf, Max: inf}
		}
	}
	l, ok := p.Limits[res]
	return l, ok
}

// setEmulatedLimit changes a limit xemu keeps. Raising a hard limit takes
// CAP_SYS_RESOURCE; an RLIMIT_NOFILE past the host's raises the host's, which
// fs.nr_open bounds (EPERM past it, as Linux gives).
func setEmulatedLimit(p *kernel.Process, res int, l *kernel.Rlimit, cur, max uint64) error {
	if max > l.Max && unix.Geteuid() != 0 {
		return unix.EPERM
	}
	if res == rlimitNofile {
		var host unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &host); err != nil {
			return err
		}
		if max > host.Max {
			if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: max, Max: max}); err != nil {
				return err
			}
		}
	}
	l.Cur, l.Max = cur, max
	p.SyncMemoryRules()
	p.SyncFileLimit()
	return nil
}

// rlim64 converts between host RLIM64_INFINITY and a 32-bit guest's.
func rlimOut(t *kernel.Task, v uint64) uint64 {
	if t.P.ABI.Class == 32 && v > 0xffffffff {
		return 0xffffffff
	}
	return v
}

func prlimit64(t *kernel.Task, a kernel.Args) (uint64, error) {
	pid, res := a.Int(0), a.Int(1)
	if res < 0 || res >= 16 {
		return 0, unix.EINVAL
	}
	self := pid == 0 || pid == unix.Getpid()
	var newl *unix.Rlimit
	if a.Addr(2) != 0 {
		var b [16]byte
		if err := t.CopyIn(a.Addr(2), b[:]); err != nil {
			return 0, err
		}
		newl = &unix.Rlimit{Cur: leU64(b[:]), Max: leU64(b[8:])}
		if newl.Cur > newl.Max {
			return 0, unix.EINVAL
		}
	}
	var old unix.Rlimit
	if l, ok := emulatedLimit(t.P, res); ok && self {
		old = unix.Rlimit{Cur: l.Cur, Max: l.Max}
		if newl != nil {
			if err := setEmulatedLimit(t.P, res, l, newl.Cur, newl.Max); err != nil {
				return 0, err
			}
		}
	} else if err := unix.Prlimit(pid, res, newl, &old); err != nil {
		return 0, err
	}
	if a.Addr(3) != 0 {
		var b [16]byte
		putLE64(b[:], old.Cur)
		putLE64(b[8:], old.Max)
		return 0, t.CopyOut(a.Addr(3), b[:])
	}
	return 0, nil
}

func getrlimit(t *kernel.Task, a kernel.Args) (uint64, error) {
	var b [16]byte
	if _, err := prlimit64(t, kernel.Args{0, a[0], 0, 0}); err != nil {
		return 0, err
	}
	l, ok := emulatedLimit(t.P, a.Int(0))
	var cur, max uint64
	if ok {
		cur, max = l.Cur, l.Max
	} else {
		var r unix.Rlimit
		if err := unix.Getrlimit(a.Int(0), &r); err != nil {
			return 0, err
		}
		cur, max = r.Cur, r.Max
	}
	w := t.WordSize()
	if w == 4 {
		kernel.PutLE32(b[:], uint32(rlimOut(t, cur)))
		kernel.PutLE32(b[4:], uint32(rlimOut(t, max)))
	} else {
		putLE64(b[:], cur)
		putLE64(b[8:], max)
	}
	return 0, t.CopyOut(a.Addr(1), b[:2*w])
}

func setrlimit(t *kernel.Task, a kernel.Args) (uint64, error) {
	cur, err := t.GetWord(a.Addr(1))
	if err != nil {
		return 0, err
	}
	max, err := t.GetWord(a.Addr(1) + mem.GuestAddr(t.WordSize()))
	if err != nil {
		return 0, err
	}
	if t.P.ABI.Class == 32 {
		if cur == 0xffffffff {
			cur = ^uint64(0)
		}
		if max == 0xffffffff {
			max = ^uint64(0)
		}
	}
	// Reuse prlimit64 through a scratch copy in host memory.
	res := a.Int(0)
	if l, ok := emulatedLimit(t.P, res); ok {
		if cur > max {
			return 0, unix.EINVAL
		}
		return 0, setEmulatedLimit(t.P, res, l, cur, max)
	}
	return 0, unix.Setrlimit(res, &unix.Rlimit{Cur: cur, Max: max})
}

func getrusage(t *kernel.Task, a kernel.Args) (uint64, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(a.Int(0), &ru); err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a.Addr(1), t.P.ABI.Rusage(&ru))
}

func sysinfo(t *kernel.Task, a kernel.Args) (uint64, error) {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a.Addr(0), t.P.ABI.Sysinfo(&si))
}

func getrandom(t *kernel.Task, a kernel.Args) (uint64, error) {
	b, err := t.OutBuf(a.Addr(0), a.U64(1))
	if err != nil {
		return 0, err
	}
	n, err := unix.Getrandom(b.B, int(a.Uint(2)))
	if err != nil {
		return 0, err
	}
	return uint64(n), b.Done(n)
}

func schedGetaffinity(t *kernel.Task, a kernel.Args) (uint64, error) {
	size := a.U64(1)
	if size == 0 || size%t.WordSize() != 0 {
		return 0, unix.EINVAL
	}
	// Linux returns the bytes it wrote, the size of its CPU mask
	// (nr_cpu_ids rounded up to longs), not the caller's size: take the
	// host's answer rather than the size of unix.CPUSet.
	var set unix.CPUSet
	raw := kernel.AsBytes(&set)
	r, _, e := unix.RawSyscall(unix.SYS_SCHED_GETAFFINITY, uintptr(a.Int(0)), uintptr(min(uint64(len(raw)), size)), uintptr(kernel.UnsafePointer(&set)))
	if e != 0 {
		return 0, e
	}
	return uint64(r), t.CopyOut(a.Addr(2), raw[:r])
}

func schedSetaffinity(t *kernel.Task, a kernel.Args) (uint64, error) {
	var set unix.CPUSet
	raw := kernel.AsBytes(&set)
	n := min(uint64(len(raw)), a.U64(1))
	if err := t.CopyIn(a.Addr(2), raw[:n]); err != nil {
		return 0, err
	}
	return 0, unix.SchedSetaffinity(a.Int(0), &set)
}

func schedYield(t *kernel.Task, a kernel.Args) (uint64, error) {
	unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	return 0, nil
}

func getcpu(t *kernel.Task, a kernel.Args) (uint64, error) {
	var cpu, node uint32
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(kernel.UnsafePointer(&cpu)), uintptr(kernel.UnsafePointer(&node)), 0); e != 0 {
		return 0, e
	}
	if a.Addr(0) != 0 {
		if err := t.PutU32(a.Addr(0), cpu); err != nil {
			return 0, err
		}
	}
	if a.Addr(1) != 0 {
		if err := t.PutU32(a.Addr(1), node); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// prctl options (include/uapi/linux/prctl.h).
const (
	prSetPdeathsig      = 1
	prGetPdeathsig      = 2
	prGetDumpable       = 3
	prSetDumpable       = 4
	prSetName           = 15
	prGetName           = 16
	prGetSeccomp        = 21
	prCapbsetRead       = 23
	prSetChildSubreaper = 36
	prGetChildSubreaper = 37
	prSetNoNewPrivs     = 38
	prGetNoNewPrivs     = 39
	prSetTHPDisable     = 41
	prGetTHPDisable     = 42
)

func prctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	switch opt := a.Int(0); opt {
	case prSetName:
		var name [16]byte
		n := t.P.Mem.Accessible(a.Addr(1), 16, mem.ProtRead)
		if n == 0 {
			return 0, unix.EFAULT
		}
		if err := t.CopyIn(a.Addr(1), name[:n]); err != nil {
			return 0, err
		}
		name[15] = 0
		if i := bytes.IndexByte(name[:], 0); i >= 0 {
			clear(name[i:])
		}
		t.SetName(name)
		return 0, nil
	case prGetName:
		name := t.Name()
		if name[0] == 0 {
			name = commName(t.P)
		}
		return 0, t.CopyOut(a.Addr(1), name[:])
	case prSetPdeathsig:
		return 0, t.P.SetParentDeathSignal(int(a.U64(1)))
	case prGetPdeathsig:
		return 0, t.PutU32(a.Addr(1), uint32(kernel.ParentDeathSignal()))
	case prSetChildSubreaper:
		// Orphans would come to this process: children a zygote could not
		// be told apart from (kernel/zygote.go).
		if a.U64(1) != 0 {
			t.P.DropZygote(true)
		}
		r, _, e := unix.Syscall6(unix.SYS_PRCTL, uintptr(opt), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), 0)
		return uint64(r), kernel.ErrOf(e)
	case prGetDumpable, prSetDumpable, prGetSeccomp, prCapbsetRead,
		prSetNoNewPrivs, prGetNoNewPrivs, prSetTHPDisable, prGetTHPDisable:
		r, _, e := unix.Syscall6(unix.SYS_PRCTL, uintptr(opt), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), 0)
		return uint64(r), kernel.ErrOf(e)
	case prGetChildSubreaper:
		var v int32
		if _, _, e := unix.Syscall(unix.SYS_PRCTL, prGetChildSubreaper, uintptr(kernel.UnsafePointer(&v)), 0); e != 0 {
			return 0, e
		}
		return 0, t.PutU32(a.Addr(1), uint32(v))
	}
	// Options that name arm64 features xemu does not offer (SVE, SME, pointer
	// authentication keys, tagged addresses), or that act on the emulator.
	return 0, unix.EINVAL
}

func personality(t *kernel.Task, a kernel.Args) (uint64, error) {
	old := t.P.Personality
	if a.Uint(0) != 0xffffffff {
		t.P.Personality = a.Uint(0)
		t.P.SyncMemoryRules()
	}
	return uint64(old), nil
}

func leU64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func putLE64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// commName is the default thread name: the program's base name, 15 bytes.
func commName(p *kernel.Process) [16]byte {
	var name [16]byte
	base := p.ExePath
	for i := len(base) - 1; i >= 0; i-- {
		if base[i] == '/' {
			base = base[i+1:]
			break
		}
	}
	copy(name[:15], base)
	return name
}
