// Package syscall is the guest's Linux ABI: system call tables per
// architecture, struct layouts, and one handler per system call.
package kernel

import (
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
	"xemu/loader"
	"xemu/syscall/abi"
)

// ABI is everything about system calls that differs between guest
// architectures. Handlers ask it; they never switch on the architecture.
type ABI struct {
	Name     string
	CPU      *cpu.Arch
	Machine  int    // ELF machine
	Class    int    // 32 or 64
	Uname    string // utsname.machine
	Platform string // AT_PLATFORM
	// MinAltStack is MINSIGSTKSZ: sigaltstack refuses smaller stacks.
	MinAltStack uint64
	Numbers     map[string]uint64
	// PairedArgs: 64-bit arguments travel in an aligned register pair (ARM EABI).
	PairedArgs bool
	// StartThread sets the registers a new program starts with.
	StartThread func(e *cpu.Engine, entry, sp uint64) error
	// ExceptionSignal is the signal Linux sends for a CPU exception at pc,
	// what the frame records of it, and a few words for xemu's note.
	ExceptionSignal func(t *Task, intno uint32, pc uint64) (abi.SigInfo, faultInfo, string)
	// EmulateUndef handles an exception the way Linux does before it would
	// send a signal (AArch64's MRS of ID registers); true: execution goes on.
	EmulateUndef func(t *Task, e *cpu.Engine, intno uint32) bool
	// FaultDetail is what a signal frame records of a memory fault besides
	// siginfo (AArch64's ESR, ARM's trap number and fault status).
	FaultDetail func(f cpu.Fault) faultInfo
	// SigFrame builds and reads the architecture's signal frames.
	SigFrame abi.SigFrameLayout
	// SyscallInsnLen is the length of the svc instruction just executed
	// (a restarted call goes back over it).
	SyscallInsnLen func(e *cpu.Engine) uint64
	// Stat encodes a host stat as the guest's struct stat; EOVERFLOW if a
	// value does not fit it (a 32-bit struct stat's size or inode).
	Stat func(st *unix.Stat_t) ([]byte, error)
	// Statfs encodes a host statfs as the guest's struct statfs; EOVERFLOW
	// if a count does not fit it.
	Statfs func(st *unix.Statfs_t) ([]byte, error)
	// Stat64, Statfs64 and Flock64In/Out are the large-file layouts of
	// 32-bit ABIs (fstat64, statfs64, fcntl64); nil on 64-bit ones.
	// Statfs64 also checks the size the caller passed.
	Stat64     func(st *unix.Stat_t) []byte
	Statfs64   func(sz uint64, st *unix.Statfs_t) ([]byte, error)
	Flock64In  func(t *Task, a mem.GuestAddr) (*unix.Flock_t, error)
	Flock64Out func(t *Task, a mem.GuestAddr, fl *unix.Flock_t) error
	// Rusage and Sysinfo encode those host structs for the guest.
	Rusage  func(ru *unix.Rusage) []byte
	Sysinfo func(si *unix.Sysinfo_t) []byte
	// FlockIn and FlockOut convert struct flock.
	FlockIn  func(t *Task, a mem.GuestAddr) (*unix.Flock_t, error)
	FlockOut func(t *Task, a mem.GuestAddr, fl *unix.Flock_t) error
	// CPUInfo renders /proc/cpuinfo for the emulated CPU.
	CPUInfo func(p *Process) string
	// SetTLS sets the thread pointer register.
	SetTLS func(e *cpu.Engine, v uint64) error
	// Target gives the loader what it needs (hwcaps read from the engine).
	Target func(e *cpu.Engine) *loader.Target
	// Limit is the end of user space; StackTop where the stack starts.
	Limit uint64
	// KernelPages maps what the kernel provides outside user space (ARM's
	// vector page with the kuser helpers), or is nil.
	KernelPages func(s *mem.AddressSpace) error
	// Impl names the entry implementing a call that the architecture
	// numbers under another name, as its kernel's syscall table does
	// (arch/arm/tools/syscall.tbl: getuid is sys_getuid16, getuid32 is
	// sys_getuid, ugetrlimit is sys_getrlimit).
	Impl map[string]string
	// IPC is how the architecture passes System V IPC structures and
	// commands, and where shmat places segments.
	IPC *abi.IPCLayout
	// SmallDirCookies: directory offsets (d_off, telldir) must fit a 32-bit
	// off_t, as a 32-bit kernel makes them; the host's 64-bit cookies are
	// replaced per open directory (dircookie.go).
	SmallDirCookies bool

	built   sync.Once
	table   []*Entry
	private map[uint64]*Entry
}

// Support says how completely a system call is implemented.
type Support int

const (
	Supported Support = iota
	Partial
	Unimplemented
)

// Handler implements one system call. Arguments arrive decoded by the
// entry's argument kinds, the same on every architecture.
type Handler func(t *Task, a Args) (uint64, error)

// Control is what a system call does to its thread besides returning a
// value (gVisor's SyscallControl).
type Control int

const (
	CtlReturn  Control = iota // the value goes to the result register
	CtlRegsSet                // the handler set every register (sigreturn)
	// CtlExec: the call prepared an execve (Task.Exec); the engine stops
	// and Run replaces the program, delivering no signal to the old one.
	CtlExec
)

// ControlHandler is a handler that can change its thread's flow.
type ControlHandler func(t *Task, a Args) (uint64, Control, error)

// Entry describes one system call.
type Entry struct {
	Name string
	Fn   Handler
	Ctl  ControlHandler // instead of Fn, for calls that change the flow
	// Restart is what a signal interrupting the call's host call makes of
	// it: ERESTARTSYS (the default: restarted under SA_RESTART) or
	// ERESTARTNOHAND (EINTR whenever a handler runs).
	Restart unix.Errno
	// SockTimeout names the socket timeout (SO_RCVTIMEO, SO_SNDTIMEO)
	// under which an interrupted call on a socket in argument 0 is never
	// restarted (net/core/sock.c sock_intr_errno).
	SockTimeout int
	// NewFD: the result is a descriptor the call made for the guest, which
	// one at or past the guest's RLIMIT_NOFILE may not have (nofile.go).
	NewFD bool
	// fdArgs has bit i set when argument i is a descriptor.
	fdArgs  uint8
	Args    []ArgKind
	Ret     RetKind
	Support Support
	Note    string // what is missing (Partial) or why not (Unimplemented)
	// Time64: the call's struct timespec arguments are the 64-bit
	// __kernel_timespec of the *_time64 calls, not the ABI's long-sized one.
	Time64 bool
}

// Implemented: the entry has a handler.
func (e *Entry) Implemented() bool { return e.Fn != nil || e.Ctl != nil }

// build makes the dispatch table from the shared handler list and the
// architecture's numbers.
func (abi *ABI) build() {
	all := Entries()
	max := uint64(0)
	for _, n := range abi.Numbers {
		if n < 0x0f0000 && n > max {
			max = n
		}
	}
	abi.table = make([]*Entry, max+1)
	abi.private = map[uint64]*Entry{}
	for name, n := range abi.Numbers {
		impl := name
		if alt, ok := abi.Impl[name]; ok {
			impl = alt
		}
		original, time64 := time64Calls[name]
		if time64 {
			impl = original
		}
		e, ok := all[impl]
		if !ok {
			e = &Entry{Name: name, Support: Unimplemented, Note: "not implemented"}
		} else {
			// Each architecture's table has its own copies: one entry may
			// serve under different names (getuid32 on ARM is getuid).
			c := *e
			c.Name = name
			c.Time64 = c.Time64 || time64
			for i, k := range c.Args {
				if k == KFD || k == KDirFD {
					c.fdArgs |= 1 << i
				}
			}
			e = &c
		}
		if n >= 0x0f0000 {
			abi.private[n] = e
		} else {
			abi.table[n] = e
		}
	}
}

// Lookup finds the entry for a system call number.
func (abi *ABI) Lookup(nr uint64) *Entry {
	if nr < uint64(len(abi.table)) {
		return abi.table[nr]
	}
	return abi.private[nr]
}

// Coverage lists every system call of the architecture with its support.
func (abi *ABI) Coverage() []CoverageRow {
	var rows []CoverageRow
	for name, n := range abi.Numbers {
		e := abi.Lookup(n)
		rows = append(rows, CoverageRow{Nr: n, Name: name, Support: e.Support, Note: e.Note})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Nr != rows[j].Nr {
			return rows[i].Nr < rows[j].Nr
		}
		return rows[i].Name < rows[j].Name
	})
	return rows
}

// CoverageRow is one line of the coverage matrix.
type CoverageRow struct {
	Nr      uint64
	Name    string
	Support Support
	Note    string
}

func (s Support) String() string {
	switch s {
	case Supported:
		return "supported"
	case Partial:
		return "partial"
	default:
		return "ENOSYS"
	}
}

// Abis maps ELF machine numbers to guest ABIs. Each table is built on the
// ABI's first use, after every file's init has added its entries, and only
// for the ABIs a process runs.
var Abis = map[int]*ABI{}

func register(abi *ABI) { Abis[abi.Machine] = abi }

// ForMachine returns the ABI for an ELF machine number.
func ForMachine(m int) (*ABI, error) {
	if abi, ok := Abis[m]; ok {
		abi.built.Do(abi.build)
		return abi, nil
	}
	return nil, fmt.Errorf("%s ELF; xemu runs ARM and AArch64 programs", loader.MachineName(m))
}

// time64Calls are the calls taking struct __kernel_timespec (64-bit
// seconds) that 32-bit ABIs add beside their time32 originals
// (include/uapi/asm-generic/unistd.h 403-423): each is its original's entry
// with Entry.Time64 set.
var time64Calls = map[string]string{
	"clock_gettime64":              "clock_gettime",
	"clock_getres_time64":          "clock_getres",
	"clock_nanosleep_time64":       "clock_nanosleep",
	"utimensat_time64":             "utimensat",
	"futex_time64":                 "futex",
	"ppoll_time64":                 "ppoll",
	"pselect6_time64":              "pselect6",
	"timerfd_gettime64":            "timerfd_gettime",
	"timerfd_settime64":            "timerfd_settime",
	"recvmmsg_time64":              "recvmmsg",
	"rt_sigtimedwait_time64":       "rt_sigtimedwait",
	"clock_settime64":              "clock_settime",
	"timer_gettime64":              "timer_gettime",
	"timer_settime64":              "timer_settime",
	"mq_timedsend_time64":          "mq_timedsend",
	"mq_timedreceive_time64":       "mq_timedreceive",
	"semtimedop_time64":            "semtimedop",
	"io_pgetevents_time64":         "io_pgetevents",
	"sched_rr_get_interval_time64": "sched_rr_get_interval",
}

// Kinds is shorthand for an argument list.
func Kinds(k ...ArgKind) []ArgKind { return k }

// families are the entry lists of each subsystem's file, added by their init
// functions.
var families []map[string]*Entry

func AddEntries(m map[string]*Entry) { families = append(families, m) }

// Entries is every system call xemu implements, by its Linux name. Each
// architecture's table is these entries placed at that architecture's
// numbers; names an architecture has but these lists lack are ENOSYS there.
func Entries() map[string]*Entry {
	all := map[string]*Entry{}
	for _, f := range families {
		for name, e := range f {
			if _, dup := all[name]; dup {
				panic("syscall: two entries for " + name)
			}
			all[name] = e
		}
	}
	return all
}
