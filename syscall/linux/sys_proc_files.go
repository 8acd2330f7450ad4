package linux

import (
	"bytes"
	"encoding/binary"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/guestfs"
)

// procFile makes the contents of an emulated /proc file and returns a
// descriptor that reads them (a sealed memfd), or -1 if p is not one.
func procFile(t *kernel.Task, p string, flags int) (int, error) {
	var body []byte
	switch guestfs.Proc(cleanPath(p)) {
	case guestfs.ProcMem:
		return t.P.OpenGuestMem(flags&unix.O_CLOEXEC != 0)
	case guestfs.ProcMaps:
		body = []byte(mapsText(t.P))
	case guestfs.ProcAuxv:
		body = auxvBytes(t.P)
	case guestfs.ProcCmdline:
		body = []byte(guestfs.Cmdline(t.P.Argv))
	case guestfs.ProcCPUInfo:
		body = []byte(t.P.ABI.CPUInfo(t.P))
	case guestfs.ProcStatus:
		host, err := kernel.ReadHostProc("thread-self/status")
		if err != nil {
			return 0, err
		}
		name := t.Name
		if name[0] == 0 {
			name = commName(t.P)
		}
		body = []byte(guestfs.Status(string(host), string(bytes.TrimRight(name[:], "\x00")), t.StatusSignals()))
	default:
		return -1, nil
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
