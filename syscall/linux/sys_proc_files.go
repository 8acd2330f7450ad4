package linux

import (
	"bytes"
	"encoding/binary"
	"strconv"

	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/guestfs"
)

// procFile makes the contents of the emulated /proc file v names, for the
// process or the thread it names, and returns a descriptor that reads them
// (a sealed memfd).
func procFile(t *kernel.Task, v kernel.ProcView, flags int) (int, error) {
	p := t.P
	// The thread the file describes: task/TID's, or for /proc/PID the
	// thread group leader's, as Linux shows them.
	who := t
	if v.In {
		tid := v.Entry.TID
		if tid == 0 {
			tid = unix.Getpid()
		}
		if o := p.TaskByTID(tid); o != nil {
			who = o
		}
	}
	switch v.File() {
	case guestfs.ProcMem:
		return p.OpenGuestMem(flags&unix.O_CLOEXEC != 0)
	case guestfs.ProcSyscall:
		if flags&3 != unix.O_RDONLY {
			return -1, unix.EACCES
		}
		return p.OpenSyscallFile(who.TID, flags&unix.O_CLOEXEC != 0)
	case guestfs.ProcPagemap:
		if flags&3 != unix.O_RDONLY {
			return -1, unix.EACCES
		}
		return p.OpenPagemap(flags&unix.O_CLOEXEC != 0)
	case guestfs.ProcComm:
		if flags&3 != unix.O_RDONLY {
			return p.OpenCommWriter(who.TID, flags&unix.O_CLOEXEC != 0)
		}
	}
	body, ok, err := procBody(t, who, v.In && v.Entry.TID != 0, v.File())
	if !ok || err != nil {
		return -1, err
	}
	return bodyFile(body, flags)
}

// procBody is the contents of the guest's /proc file pf as thread t reads
// it: of /proc/PID, or of /proc/PID/task/TID if thread, describing thread
// who (for /proc/PID, the thread group leader). ok is false for a file
// that is not emulated.
func procBody(t, who *kernel.Task, thread bool, pf guestfs.ProcFile) (body []byte, ok bool, err error) {
	p := t.P
	hostDir := "self/"
	if thread {
		hostDir = "self/task/" + strconv.Itoa(who.TID) + "/"
	}
	switch pf {
	case guestfs.ProcMaps:
		body = []byte(guestfs.Maps(mapLines(p), p.ABI.Class/8))
	case guestfs.ProcSmaps:
		body = []byte(guestfs.Smaps(smapsLines(p), p.ABI.Class/8))
	case guestfs.ProcSmapsRollup:
		body = []byte(guestfs.SmapsRollup(smapsLines(p), p.ABI.Class/8))
	case guestfs.ProcNumaMaps:
		body = []byte(guestfs.NumaMaps(smapsLines(p)))
	case guestfs.ProcSyscall:
		// Asked for by another process; the guest's own open reads it
		// live (syscallRead).
		body = []byte(syscallLine(t, who))
	case guestfs.ProcAuxv:
		body = auxvBytes(p)
	case guestfs.ProcCmdline:
		body = []byte(guestfs.Cmdline(p.Argv))
	case guestfs.ProcEnviron:
		// The environment strings as they are in the guest's memory now
		// (fs/proc/base.c environ_read), or nothing if they are gone.
		if n := uint64(p.EnvEnd - p.EnvStart); p.EnvEnd > p.EnvStart && n <= 1<<20 {
			body = make([]byte, n)
			if t.CopyIn(p.EnvStart, body) != nil {
				body = nil
			}
		}
	case guestfs.ProcCPUInfo:
		body = []byte(p.ABI.CPUInfo(p))
	case guestfs.ProcExe:
		// Asked for by another process (QueryGuestView); the guest's own
		// open of exe opens the program.
		body = []byte(p.FS.Exe)
	case guestfs.ProcComm:
		body = append([]byte(taskName(who)), '\n')
	case guestfs.ProcStatus:
		host, err := kernel.ReadHostProc(hostDir + "status")
		if err != nil {
			return nil, true, err
		}
		body = []byte(guestfs.Status(string(host), taskName(who), threadCount(p), who.StatusSignals()))
	case guestfs.ProcStat:
		host, err := kernel.ReadHostProc(hostDir + "stat")
		if err != nil {
			return nil, true, err
		}
		var size uint64
		for _, m := range p.Mem.Mappings() {
			size += uint64(m.End - m.Start)
		}
		threads := threadCount(p)
		if thread {
			threads = 1
		}
		body = []byte(guestfs.Stat(string(host), guestfs.StatFields{Name: taskName(who), Threads: threads,
			VSize: size, Signals: who.StatusSignals()}))
	default:
		return nil, false, nil
	}
	return body, true, nil
}

// syscallLine is /proc/PID/syscall of thread who as thread t reads it: the
// guest's call, in the guest's numbers and registers. The reader is in its
// own read (Linux shows that call too); another thread is "running" while
// it runs guest code, and otherwise shows the call it was stopped in as its
// engine last recorded it (a snapshot, as Linux's of a task that may move
// on).
func syscallLine(t, who *kernel.Task) string {
	if who != t && who.Running() {
		return "running\n"
	}
	e := who.CPU
	if e == nil {
		return "running\n"
	}
	raw := e.SyscallArgs()
	var args [6]uint64
	copy(args[:], raw[:6])
	return guestfs.Syscall(int64(e.SyscallNr()), args, e.SP(), e.PC())
}

// syscallRead is a read of an open /proc/PID/syscall: the line as it is
// now, from the descriptor's offset, which advances.
func syscallRead(t *kernel.Task, tid int, fd int, buf mem.GuestAddr, n uint64) (uint64, error) {
	who := t.P.TaskByTID(tid)
	if who == nil {
		return 0, unix.ESRCH
	}
	line := syscallLine(t, who)
	off, err := unix.Seek(fd, 0, unix.SEEK_CUR)
	if err != nil {
		return 0, err
	}
	if off >= int64(len(line)) {
		return 0, nil
	}
	b := []byte(line[off:])[:min(n, uint64(len(line))-uint64(off))]
	if err := t.CopyOut(buf, b); err != nil {
		return 0, err
	}
	unix.Seek(fd, off+int64(len(b)), unix.SEEK_SET)
	return uint64(len(b)), nil
}

// bodyFile is a descriptor, opened with flags, that reads body: a sealed
// memfd. It can only be read.
func bodyFile(body []byte, flags int) (int, error) {
	if flags&3 != unix.O_RDONLY {
		return 0, unix.EACCES
	}
	mfd := unix.MFD_ALLOW_SEALING
	if flags&unix.O_CLOEXEC != 0 {
		mfd |= unix.MFD_CLOEXEC
	}
	fd, err := unix.MemfdCreate("xemu-proc", mfd)
	if err != nil {
		return 0, err
	}
	for len(body) > 0 {
		n, err := unix.Write(fd, body)
		if err != nil {
			unix.Close(fd)
			return 0, err
		}
		body = body[n:]
	}
	unix.Seek(fd, 0, 0)
	unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_WRITE|unix.F_SEAL_GROW|unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL)
	return fd, nil
}

func init() {
	// Another process asks about this guest's process (QueryGuestView):
	// the files of /proc/PID, which describe the thread group leader.
	kernel.GuestViewFile = func(p *kernel.Process, file string) ([]byte, error) {
		pf := guestfs.OtherFile(file)
		if pf == guestfs.ProcNone {
			return nil, unix.ENOENT
		}
		t := p.TaskByTID(unix.Getpid())
		if t == nil {
			return nil, unix.ESRCH
		}
		body, ok, err := procBody(t, t, false, pf)
		if !ok && err == nil {
			err = unix.ENOENT
		}
		return body, err
	}
}

func mapLines(p *kernel.Process) []guestfs.MapLine {
	var lines []guestfs.MapLine
	for _, m := range p.Mem.Mappings() {
		lines = append(lines, mapLine(p, m))
	}
	return lines
}

func mapLine(p *kernel.Process, m mem.Mapping) guestfs.MapLine {
	l := guestfs.MapLine{Start: uint64(m.Start), End: uint64(m.End), Read: m.Prot&mem.ProtRead != 0,
		Write: m.Prot&mem.ProtWrite != 0, Exec: m.Prot&mem.ProtExec != 0, Shared: m.Shared,
		Dev: m.Dev, Inode: m.Ino, Name: m.Name}
	switch {
	case m.Shm:
		// A System V segment is a file of Linux's shm mount whose
		// inode number is the segment's id (ipc/shm.c newseg).
		l.Inode, l.Offset = uint64(m.ShmID), m.Offset
	case len(m.Name) > 0 && m.Name[0] == '/':
		l.Name = p.FS.Guest(m.Name)
	}
	if m.Dev != 0 || m.Ino != 0 {
		l.Offset = m.Offset
	}
	return l
}

// smapsLines are the mappings with how much of each is resident: the host
// pages behind them, as mincore sees them.
func smapsLines(p *kernel.Process) []guestfs.SmapsLine {
	var lines []guestfs.SmapsLine
	for _, m := range p.Mem.Mappings() {
		l := guestfs.SmapsLine{MapLine: mapLine(p, m), Anonymous: m.Dev == 0 && m.Ino == 0 && !m.Shared}
		rs, err := p.Mem.HostRanges(m.Start, uint64(m.End-m.Start))
		if err == nil {
			for _, r := range rs {
				vec := make([]byte, r.Len/mem.PageSize)
				if len(vec) == 0 {
					continue
				}
				if _, _, e := unix.Syscall(unix.SYS_MINCORE, r.Host, uintptr(r.Len), uintptr(kernel.UnsafePointer(&vec[0]))); e != 0 {
					continue
				}
				for _, b := range vec {
					if b&1 != 0 {
						l.Rss += mem.PageSize
					}
				}
			}
		}
		lines = append(lines, l)
	}
	return lines
}

// taskName is a thread's comm: what the guest set, or its program's name.
func taskName(t *kernel.Task) string {
	name := t.Name
	if name[0] == 0 {
		name = commName(t.P)
	}
	return string(bytes.TrimRight(name[:], "\x00"))
}

func threadCount(p *kernel.Process) int { return max(len(p.Tasks()), 1) }

func auxvBytes(p *kernel.Process) []byte {
	w := p.ABI.Class / 8
	b := make([]byte, 0, len(p.Auxv)*2*w)
	for _, kv := range p.Auxv {
		for _, v := range kv {
			if w == 8 {
				b = binary.LittleEndian.AppendUint64(b, v)
			} else {
				b = binary.LittleEndian.AppendUint32(b, uint32(v))
			}
		}
	}
	return b
}
