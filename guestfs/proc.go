package guestfs

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// ProcFile names a /proc file that must describe the guest, not the emulator.
type ProcFile int

const (
	ProcNone ProcFile = iota
	ProcMaps
	ProcAuxv
	ProcCmdline
	ProcCPUInfo
	ProcExe
	ProcStatus
	ProcMem
	ProcStat
	ProcComm
)

// procFiles are the per-process files that describe the guest.
var procFiles = map[string]ProcFile{
	"maps": ProcMaps, "auxv": ProcAuxv, "cmdline": ProcCmdline, "exe": ProcExe,
	"status": ProcStatus, "mem": ProcMem, "stat": ProcStat, "comm": ProcComm,
}

// ProcFileNamed is the ProcFile a per-process file name stands for.
func ProcFileNamed(name string) ProcFile { return procFiles[name] }

// Proc says which emulated /proc file an absolute guest path names: the
// guest's own process through /proc/self, /proc/thread-self or its pid, or
// /proc/cpuinfo.
func Proc(p string) ProcFile {
	if !strings.HasPrefix(p, "/proc/") {
		return ProcNone
	}
	if p == "/proc/cpuinfo" {
		return ProcCPUInfo
	}
	rest := strings.TrimPrefix(p, "/proc/")
	who, file, ok := strings.Cut(rest, "/")
	if !ok {
		return ProcNone
	}
	pid := itoa(unix.Getpid())
	switch {
	case who == "self" || who == "thread-self" || who == pid:
	case strings.HasPrefix(file, "task/"):
		return ProcNone
	default:
		return ProcNone
	}
	return procFiles[file]
}

// ProcOther says which process and file /proc/PID/FILE names when PID is
// another process's (a child xemu's guest view, if it is one): ok is false
// for anything else. /proc/PID/mem is not among them (it would need the
// other process's memory, which it does not offer).
func ProcOther(p string) (pid int, file string, ok bool) {
	rest, found := strings.CutPrefix(p, "/proc/")
	if !found {
		return 0, "", false
	}
	who, file, found := strings.Cut(rest, "/")
	if !found || who == "" || who[0] < '1' || who[0] > '9' {
		return 0, "", false
	}
	for _, c := range who {
		if c < '0' || c > '9' {
			return 0, "", false
		}
		pid = pid*10 + int(c-'0')
		if pid > 1<<22 {
			return 0, "", false
		}
	}
	if pid == unix.Getpid() {
		return 0, "", false
	}
	switch procFiles[file] {
	case ProcNone, ProcMem:
		return 0, "", false
	}
	return pid, file, true
}

// Stat rewrites a /proc/PID/stat line with the guest's command name: the
// field between the first '(' and the last ')' (fs/proc/array.c do_task_stat).
func Stat(host, comm string) string {
	i, j := strings.IndexByte(host, '('), strings.LastIndexByte(host, ')')
	if i < 0 || j < i {
		return host
	}
	return host[:i+1] + comm + host[j:]
}

// MapLine is one line of /proc/PID/maps.
type MapLine struct {
	Start, End   uint64
	Read, Write  bool
	Exec, Shared bool
	Offset       uint64
	Dev, Inode   uint64
	Name         string
}

// Maps renders /proc/PID/maps as Linux's show_map_vma does: the line is
// padded to 25 + 6 * pointer size - 1 columns and a space, then the name.
func Maps(lines []MapLine, pointerBytes int) string {
	var b strings.Builder
	width := 25 + pointerBytes*6 - 1
	for _, l := range lines {
		perm := []byte("---p")
		if l.Read {
			perm[0] = 'r'
		}
		if l.Write {
			perm[1] = 'w'
		}
		if l.Exec {
			perm[2] = 'x'
		}
		if l.Shared {
			perm[3] = 's'
		}
		s := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d ", l.Start, l.End, perm, l.Offset,
			unix.Major(l.Dev), unix.Minor(l.Dev), l.Inode)
		if l.Name != "" {
			if len(s) < width {
				s += strings.Repeat(" ", width-len(s))
			}
			s += " " + l.Name
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.String()
}

// Cmdline is /proc/PID/cmdline: the arguments, each NUL-terminated.
func Cmdline(argv []string) string {
	var b strings.Builder
	for _, a := range argv {
		b.WriteString(a)
		b.WriteByte(0)
	}
	return b.String()
}

// StatusSignals are the signal lines of /proc/PID/status, as the guest's
// kernel state has them (fs/proc/array.c task_sig).
type StatusSignals struct {
	Pending, SharedPending, Blocked, Ignored, Caught uint64
}

// Status rewrites the host's /proc/self/status for the guest: its name and
// its signal sets in place of the emulator's.
func Status(host, name string, sig StatusSignals) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(host, "\n") {
		key, _, _ := strings.Cut(line, ":")
		switch key {
		case "Name":
			line = "Name:\t" + name + "\n"
		case "SigPnd":
			line = fmt.Sprintf("SigPnd:\t%016x\n", sig.Pending)
		case "ShdPnd":
			line = fmt.Sprintf("ShdPnd:\t%016x\n", sig.SharedPending)
		case "SigBlk":
			line = fmt.Sprintf("SigBlk:\t%016x\n", sig.Blocked)
		case "SigIgn":
			line = fmt.Sprintf("SigIgn:\t%016x\n", sig.Ignored)
		case "SigCgt":
			line = fmt.Sprintf("SigCgt:\t%016x\n", sig.Caught)
		}
		b.WriteString(line)
	}
	return b.String()
}
