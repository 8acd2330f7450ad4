package kernel

import (
	"fmt"
	"strconv"
	"strings"
	"xemu/syscall/abi"

	"golang.org/x/sys/unix"
)

// formatCall renders a system call and its decoded arguments, as strace does.
func (t *Task) formatCall(e *Entry, a Args) string {
	var b strings.Builder
	b.WriteString(e.Name)
	b.WriteByte('(')
	for i, k := range e.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.formatArg(k, a, i))
	}
	b.WriteByte(')')
	return b.String()
}

func (t *Task) formatArg(k ArgKind, a Args, i int) string {
	v := a[i]
	switch k {
	case KInt, KFD:
		return strconv.Itoa(a.Int(i))
	case KLong:
		return strconv.FormatInt(int64(v), 10)
	case KDirFD:
		if a.Int(i) == unix.AT_FDCWD {
			return "AT_FDCWD"
		}
		return strconv.Itoa(a.Int(i))
	case KUint, KULong, KOff64, KOffLo:
		return strconv.FormatUint(v, 10)
	case KPath:
		if v == 0 {
			return "NULL"
		}
		s, err := t.P.Mem.ReadString(a.Addr(i), 4096)
		if err != nil {
			return fmt.Sprintf("%#x", v)
		}
		return strconv.Quote(s)
	case KStrBuf:
		if v == 0 {
			return "NULL"
		}
		n := min(a[i+1], 32)
		buf := make([]byte, n)
		if t.P.Mem.Read(a.Addr(i), buf) != nil {
			return fmt.Sprintf("%#x", v)
		}
		s := strconv.Quote(string(buf))
		if a[i+1] > n {
			s += "..."
		}
		return s
	case KOpenFlags:
		v := uint64(a.Uint(i))
		acc := []string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}[v&3]
		if v&^3 == 0 {
			return acc
		}
		return acc + "|" + flagNames(v&^3, openFlagNames, "")
	case KProt:
		return flagNames(uint64(a.Uint(i)), protNames, "PROT_NONE")
	case KMapFlags:
		return flagNames(uint64(a.Uint(i)), mapFlagNames, "0")
	case KSignal:
		return signalName(a.Int(i))
	case KPtr:
		if v == 0 {
			return "NULL"
		}
		return fmt.Sprintf("%#x", v)
	default:
		return fmt.Sprintf("%#x", v)
	}
}

func formatResult(e *Entry, r uint64, err error) string {
	if err != nil {
		if errno, ok := err.(unix.Errno); ok {
			return fmt.Sprintf("-1 %s (%s)", errnoName(errno), errno.Error())
		}
		return "-1 " + err.Error()
	}
	if e.Ret == RetHex {
		return fmt.Sprintf("%#x", r)
	}
	return strconv.FormatInt(int64(r), 10)
}

type flagName struct {
	bit  uint64
	name string
}

// flagNames prints a flag word; an access mode in the low two bits (O_WRONLY,
// O_RDWR) is listed first in the table with its full mask value.
func flagNames(v uint64, names []flagName, zero string) string {
	if v == 0 {
		return zero
	}
	var parts []string
	for _, f := range names {
		if f.bit != 0 && v&f.bit == f.bit {
			parts = append(parts, f.name)
			v &^= f.bit
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("%#x", v))
	}
	return strings.Join(parts, "|")
}

func errnoName(e unix.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("E%d", int(e))
}

func signalName(n int) string {
	if s := unix.SignalName(unix.Signal(n)); s != "" {
		return s
	}
	return strconv.Itoa(n)
}

var protNames = []flagName{{1, "PROT_READ"}, {2, "PROT_WRITE"}, {4, "PROT_EXEC"}}

var mapFlagNames = []flagName{
	{0x01, "MAP_SHARED"}, {0x02, "MAP_PRIVATE"}, {0x10, "MAP_FIXED"}, {0x20, "MAP_ANONYMOUS"},
	{0x100, "MAP_GROWSDOWN"}, {0x800, "MAP_DENYWRITE"}, {0x1000, "MAP_EXECUTABLE"},
	{0x2000, "MAP_LOCKED"}, {0x4000, "MAP_NORESERVE"}, {0x8000, "MAP_POPULATE"},
	{0x10000, "MAP_NONBLOCK"}, {0x20000, "MAP_STACK"}, {0x40000, "MAP_HUGETLB"},
	{0x100000, "MAP_FIXED_NOREPLACE"},
}

var openFlagNames = []flagName{
	{0o100, "O_CREAT"}, {0o200, "O_EXCL"},
	{0o400, "O_NOCTTY"}, {0o1000, "O_TRUNC"}, {0o2000, "O_APPEND"}, {0o4000, "O_NONBLOCK"},
	{0o4010000, "O_SYNC"}, {0o10000, "O_DSYNC"}, {0o20000, "O_ASYNC"}, {abi.GuestODirectory, "O_DIRECTORY"},
	{abi.GuestONofollow, "O_NOFOLLOW"}, {abi.GuestODirect, "O_DIRECT"}, {abi.GuestOLargefile, "O_LARGEFILE"},
	{0o1000000, "O_NOATIME"}, {0o2000000, "O_CLOEXEC"}, {0o10000000, "O_PATH"}, {0o20000000, "O_TMPFILE"},
}
