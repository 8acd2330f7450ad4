package linux

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/guestfs"
)

// procFile makes the contents of an emulated /proc file and returns a
// descriptor that reads them (a sealed memfd), or -1 if p is not one. The
// files of another xemu process (a child) are that process's guest view,
// which it gives on request (kernel.QueryGuestView).
func procFile(t *kernel.Task, p string, flags int) (int, error) {
	clean := cleanPath(p)
	var body []byte
	switch pf := guestfs.Proc(clean); pf {
	case guestfs.ProcNone:
		pid, file, ok := guestfs.ProcOther(clean)
		if !ok {
			return -1, nil
		}
		if body, ok = kernel.QueryGuestView(pid, file); !ok {
			return -1, nil
		}
		if guestfs.ProcFileNamed(file) == guestfs.ProcExe {
			fd, err := unix.Open(string(body), flags, 0)
			return fd, err
		}
	case guestfs.ProcMem:
		return t.P.OpenGuestMem(flags&unix.O_CLOEXEC != 0)
	case guestfs.ProcExe:
		return -1, nil // opened as the program (openat)
	default:
		var err error
		if body, err = procBody(t, pf); err != nil {
			return 0, err
		}
	}
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

// procBody is the contents of one of the guest's /proc files.
func procBody(t *kernel.Task, pf guestfs.ProcFile) ([]byte, error) {
	switch pf {
	case guestfs.ProcMaps:
		return []byte(mapsText(t.P)), nil
	case guestfs.ProcAuxv:
		return auxvBytes(t.P), nil
	case guestfs.ProcCmdline:
		return []byte(guestfs.Cmdline(t.P.Argv)), nil
	case guestfs.ProcCPUInfo:
		return []byte(t.P.ABI.CPUInfo(t.P)), nil
	case guestfs.ProcExe:
		return []byte(t.P.FS.Exe), nil
	case guestfs.ProcComm:
		return []byte(threadName(t) + "\n"), nil
	case guestfs.ProcStat:
		host, err := kernel.ReadHostProc(fmt.Sprintf("%d/task/%d/stat", unix.Getpid(), t.TID))
		if err != nil {
			return nil, err
		}
		return []byte(guestfs.Stat(string(host), threadName(t))), nil
	case guestfs.ProcStatus:
		host, err := kernel.ReadHostProc(fmt.Sprintf("%d/task/%d/status", unix.Getpid(), t.TID))
		if err != nil {
			return nil, err
		}
		return []byte(guestfs.Status(string(host), threadName(t), t.StatusSignals())), nil
	}
	return nil, unix.ENOENT
}

// threadName is the thread's comm: the name prctl set, else the program's.
func threadName(t *kernel.Task) string {
	name := t.Name
	if name[0] == 0 {
		name = commName(t.P)
	}
	return string(bytes.TrimRight(name[:], "\x00"))
}

func init() {
	// Another process asks about this guest's process: the main thread's
	// files, as the host's /proc/PID shows the thread group leader's.
	kernel.GuestViewFile = func(p *kernel.Process, file string) ([]byte, error) {
		pf := guestfs.ProcFileNamed(file)
		if pf == guestfs.ProcNone || pf == guestfs.ProcMem {
			return nil, unix.ENOENT
		}
		t := p.Thread(unix.Getpid())
		if t == nil {
			return nil, unix.ESRCH
		}
		return procBody(t, pf)
	}
}

// cleanPath resolves "." and ".." lexically, for recognising /proc paths.
func cleanPath(p string) string {
	if len(p) == 0 || p[0] != '/' {
		return p
	}
	var parts []string
	for _, c := range splitPath(p) {
		switch c {
		case "", ".":
		case "..":
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
		default:
			parts = append(parts, c)
		}
	}
	out := ""
	for _, c := range parts {
		out += "/" + c
	}
	if out == "" {
		return "/"
	}
	return out
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

func mapsText(p *kernel.Process) string {
	var lines []guestfs.MapLine
	for _, m := range p.Mem.Mappings() {
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
		lines = append(lines, l)
	}
	return guestfs.Maps(lines, p.ABI.Class/8)
}

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
