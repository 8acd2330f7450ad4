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
	ProcSmaps
	ProcAuxv
	ProcCmdline
	ProcEnviron
	ProcCPUInfo
	ProcExe
	ProcStatus
	ProcStat
	ProcComm
	ProcMem
	ProcSmapsRollup
	ProcNumaMaps
	ProcPagemap
	ProcSyscall
)

// procFiles are the files of /proc/PID (and of /proc/PID/task/TID) that
// describe the process's memory, program or threads (fs/proc/base.c
// tgid_base_stuff, tid_base_stuff).
var procFiles = map[string]ProcFile{
	"maps": ProcMaps, "smaps": ProcSmaps, "auxv": ProcAuxv, "cmdline": ProcCmdline,
	"environ": ProcEnviron, "exe": ProcExe, "status": ProcStatus, "stat": ProcStat,
	"comm": ProcComm, "mem": ProcMem, "smaps_rollup": ProcSmapsRollup, "numa_maps": ProcNumaMaps,
	"pagemap": ProcPagemap, "syscall": ProcSyscall,
}

// ProcDir names a directory of /proc/PID whose entries are the guest's
// threads or descriptors, which the emulator's own must not join.
type ProcDir int

const (
	DirNone ProcDir = iota
	DirTask         // task/: one entry per thread
	DirFD           // fd/ and fdinfo/: one entry per descriptor
	// DirMapFiles: map_files/, one link per file mapping, named by its
	// host address range: none of them is the guest's.
	DirMapFiles
)

// ProcEntry is a path inside the guest's own /proc/PID directory.
type ProcEntry struct {
	// TID is the thread named by task/TID (or thread-self); 0 for the
	// process itself.
	TID int
	// Rest is the path below /proc/PID or /proc/PID/task/TID: "maps",
	// "fd/3", "task", or "" for the directory itself.
	Rest string
}

// SplitProc says whether the absolute, clean path p is inside /proc/PID of
// process pid (named by its number, self, or thread-self as thread tid),
// and where.
func SplitProc(p string, pid, tid int) (ProcEntry, bool) {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return ProcEntry{}, false
	}
	who, rest, _ := strings.Cut(rest, "/")
	var e ProcEntry
	switch who {
	case "self", itoa(pid):
	case "thread-self":
		e.TID = tid
	default:
		return ProcEntry{}, false
	}
	if e.TID == 0 {
		if task, ok := strings.CutPrefix(rest, "task/"); ok {
			id, below, _ := strings.Cut(task, "/")
			n, ok := atoi(id)
			if !ok {
				return ProcEntry{}, false
			}
			e.TID, rest = n, below
		}
	}
	e.Rest = rest
	return e, true
}

// File is the emulated file the entry names, if any.
func (e ProcEntry) File() ProcFile { return procFiles[e.Rest] }

// Dir is the listing the entry names, if it is filtered.
func (e ProcEntry) Dir() ProcDir {
	switch {
	case e.Rest == "task" && e.TID == 0:
		return DirTask
	case e.Rest == "fd" || e.Rest == "fdinfo":
		return DirFD
	case e.Rest == "map_files":
		return DirMapFiles
	}
	return DirNone
}

// InMapFiles: the entry is a link of map_files/ (a host mapping's range).
func (e ProcEntry) InMapFiles() bool { return strings.HasPrefix(e.Rest, "map_files/") }

// FD is the descriptor an entry fd/N or fdinfo/N (or anything below it)
// names.
func (e ProcEntry) FD() (int, bool) {
	rest, ok := strings.CutPrefix(e.Rest, "fd/")
	if !ok {
		if rest, ok = strings.CutPrefix(e.Rest, "fdinfo/"); !ok {
			return 0, false
		}
	}
	n, _, _ := strings.Cut(rest, "/")
	return atoi(n)
}

// IsCPUInfo: p names /proc/cpuinfo.
func IsCPUInfo(p string) bool { return p == "/proc/cpuinfo" }

func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// otherFiles are the files of /proc/PID that another xemu process gives
// for its guest when asked (its guest view): the ones that would otherwise
// describe the emulator running it.
var otherFiles = map[string]bool{
	"maps": true, "auxv": true, "cmdline": true, "exe": true,
	"status": true, "stat": true, "comm": true, "smaps": true,
	"smaps_rollup": true, "numa_maps": true, "environ": true, "syscall": true,
}

// otherMemory are the files of another xemu process's /proc/PID that
// address its memory by guest address (mem, pagemap): that process serves
// them itself, since the host's would address its host memory.
var otherMemory = map[string]bool{"mem": true, "pagemap": true}

// OtherMemory: another xemu's /proc/PID/name reaches its guest memory,
// through that process, rather than the host's file.
func OtherMemory(name string) bool { return otherMemory[name] }

// OtherFile is the ProcFile another process's /proc/PID/name stands for,
// if it is one of those that process gives for its guest; ProcNone if not.
func OtherFile(name string) ProcFile {
	if !otherFiles[name] {
		return ProcNone
	}
	return procFiles[name]
}

// ProcOther says which process and file the absolute, clean path
// /proc/PID/FILE names when PID is another process's (a child xemu's guest
// view, if it is one): ok is false for anything else, and for a file that
// process neither gives (OtherFile) nor serves as memory (OtherMemory).
func ProcOther(p string) (pid int, file string, ok bool) {
	rest, found := strings.CutPrefix(p, "/proc/")
	if !found {
		return 0, "", false
	}
	who, file, found := strings.Cut(rest, "/")
	if !found || who == "" || who[0] == '0' {
		return 0, "", false
	}
	pid, ok = atoi(who)
	if !ok || pid > 1<<22 || pid == unix.Getpid() || OtherFile(file) == ProcNone && !otherMemory[file] {
		return 0, "", false
	}
	return pid, file, true
}

// LinkFunc says where a symbolic link the resolver knows points: target is
// an absolute path; ok is false for a path that is not such a link.
type LinkFunc func(p string) (target string, ok bool, err error)

// maxLinks is how many links one resolution follows (MAXSYMLINKS).
const maxLinks = 40

// Resolve makes p (absolute) clean component by component as the kernel's
// path walk does, except that the only links it follows are those link
// knows (the last component only if followLast): ".." after a link leaves
// the link's target, not the link's directory.
func Resolve(p string, followLast bool, link LinkFunc) (string, error) {
	todo := strings.Split(p, "/")
	var parts []string
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
			continue
		}
		parts = append(parts, c)
		last := true
		for _, r := range todo {
			if r != "" && r != "." {
				last = false
				break
			}
		}
		if last && !followLast {
			continue
		}
		target, ok, err := link("/" + strings.Join(parts, "/"))
		if err != nil {
			return "", err
		}
		if !ok {
			continue
		}
		if links++; links > maxLinks {
			return "", unix.ELOOP
		}
		parts = parts[:0]
		todo = append(strings.Split(target, "/"), todo...)
	}
	return "/" + strings.Join(parts, "/"), nil
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
func Status(host, name string, threads int, sig StatusSignals) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(host, "\n") {
		key, _, _ := strings.Cut(line, ":")
		switch key {
		case "Name":
			line = "Name:\t" + name + "\n"
		case "Threads":
			line = fmt.Sprintf("Threads:\t%d\n", threads)
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

// StatFields are what the guest's /proc/PID/stat says in place of the
// emulator's.
type StatFields struct {
	Name    string
	Threads int
	VSize   uint64
	Signals StatusSignals
}

// Stat rewrites the host's /proc/PID/stat line (fs/proc/array.c
// do_task_stat) for the guest: its name, thread count, size and signal
// sets, and zero for the addresses of the emulator's code, stack, data and
// arguments, as Linux prints them to a reader it does not let see them.
func Stat(host string, f StatFields) string {
	host = strings.TrimSuffix(host, "\n")
	open, close := strings.IndexByte(host, '('), strings.LastIndexByte(host, ')')
	if open < 0 || close < open {
		return host + "\n"
	}
	fields := strings.Fields(host[close+1:])
	// fields[i] is field i+3 of proc(5).
	set := func(n int, v uint64) {
		if i := n - 3; i >= 0 && i < len(fields) {
			fields[i] = fmt.Sprint(v)
		}
	}
	set(20, uint64(f.Threads))
	set(23, f.VSize)
	for _, n := range []int{26, 27, 28, 29, 30, 45, 46, 47, 48, 49, 50, 51} {
		set(n, 0)
	}
	// The signal fields are obsolete: the low 31 bits only.
	set(31, f.Signals.Pending&0x7fffffff)
	set(32, f.Signals.Blocked&0x7fffffff)
	set(33, f.Signals.Ignored&0x7fffffff)
	set(34, f.Signals.Caught&0x7fffffff)
	name := f.Name
	if len(name) > 15 {
		name = name[:15]
	}
	return host[:open] + "(" + name + ") " + strings.Join(fields, " ") + "\n"
}

// SmapsLine is one mapping of /proc/PID/smaps: its maps line and how much
// of it is in memory.
type SmapsLine struct {
	MapLine
	Rss       uint64
	Anonymous bool
}

// Smaps renders /proc/PID/smaps (fs/proc/task_mmu.c show_smap): each
// mapping's maps line, then its sizes in kB.
func Smaps(lines []SmapsLine, pointerBytes int) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(Maps([]MapLine{l.MapLine}, pointerBytes))
		kb := func(key string, v uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", key+":", v>>10) }
		var shared, private, anon uint64
		if l.Shared {
			shared = l.Rss
		} else {
			private = l.Rss
		}
		if l.Anonymous {
			anon = l.Rss
		}
		kb("Size", l.End-l.Start)
		kb("KernelPageSize", 4096)
		kb("MMUPageSize", 4096)
		kb("Rss", l.Rss)
		kb("Pss", l.Rss)
		kb("Pss_Dirty", private)
		kb("Shared_Clean", 0)
		kb("Shared_Dirty", shared)
		kb("Private_Clean", 0)
		kb("Private_Dirty", private)
		kb("Referenced", l.Rss)
		kb("Anonymous", anon)
		for _, k := range []string{"KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
			"Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked"} {
			kb(k, 0)
		}
		b.WriteString("THPeligible:    0\nVmFlags:")
		for _, f := range []struct {
			on   bool
			name string
		}{{l.Read, "rd"}, {l.Write, "wr"}, {l.Exec, "ex"}, {l.Shared, "sh"}, {true, "mr"}, {true, "mw"}, {true, "me"}} {
			if f.on {
				b.WriteString(" " + f.name)
			}
		}
		b.WriteString(" \n")
	}
	return b.String()
}

// smapsSums are the totals smaps_rollup and numa_maps report.
type smapsSums struct{ rss, anon, file, shared uint64 }

func sums(l SmapsLine) smapsSums {
	s := smapsSums{rss: l.Rss}
	switch {
	case l.Shared:
		s.shared = l.Rss
	case l.Anonymous:
		s.anon = l.Rss
	default:
		s.file = l.Rss
	}
	return s
}

// SmapsRollup renders /proc/PID/smaps_rollup (fs/proc/task_mmu.c
// show_smaps_rollup): one header spanning the first mapping's start to the
// last one's end, named [rollup], then smaps' sizes summed over every
// mapping, with the Pss split by kind.
func SmapsRollup(lines []SmapsLine, pointerBytes int) string {
	var t smapsSums
	for _, l := range lines {
		s := sums(l)
		t.rss += s.rss
		t.anon += s.anon
		t.file += s.file
		t.shared += s.shared
	}
	var b strings.Builder
	head := MapLine{Name: "[rollup]"}
	if len(lines) > 0 {
		head.Start, head.End = lines[0].Start, lines[len(lines)-1].End
	}
	b.WriteString(Maps([]MapLine{head}, pointerBytes))
	kb := func(key string, v uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", key+":", v>>10) }
	private := t.rss - t.shared
	kb("Rss", t.rss)
	kb("Pss", t.rss)
	kb("Pss_Dirty", private)
	kb("Pss_Anon", t.anon)
	kb("Pss_File", t.file)
	kb("Pss_Shmem", t.shared)
	kb("Shared_Clean", 0)
	kb("Shared_Dirty", t.shared)
	kb("Private_Clean", 0)
	kb("Private_Dirty", private)
	kb("Referenced", t.rss)
	kb("Anonymous", t.anon)
	for _, k := range []string{"KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
		"Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked"} {
		kb(k, 0)
	}
	return b.String()
}

// NumaMaps renders /proc/PID/numa_maps (mm/mempolicy.c show_numa_map) for a
// machine of one node: each mapping's start, the default policy, its file
// (or heap, stack), and its resident pages, all on node 0; a mapping with
// none resident ends after its name.
func NumaMaps(lines []SmapsLine) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%08x default", l.Start)
		switch {
		case strings.HasPrefix(l.Name, "/"):
			b.WriteString(" file=" + l.Name)
		case l.Name == "[heap]":
			b.WriteString(" heap")
		case l.Name == "[stack]":
			b.WriteString(" stack")
		}
		if pages := l.Rss / 4096; pages > 0 {
			if l.Anonymous {
				// Resident anonymous pages were written: dirty.
				fmt.Fprintf(&b, " anon=%d dirty=%d", pages, pages)
			} else {
				fmt.Fprintf(&b, " mapped=%d", pages)
			}
			fmt.Fprintf(&b, " N0=%d kernelpagesize_kB=4", pages)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Syscall renders /proc/PID/syscall (fs/proc/base.c proc_pid_syscall) for
// a thread in system call nr: the number, six arguments, the stack pointer
// and the program counter.
func Syscall(nr int64, args [6]uint64, sp, pc uint64) string {
	return fmt.Sprintf("%d 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x\n", nr, args[0], args[1], args[2], args[3], args[4], args[5], sp, pc)
}
