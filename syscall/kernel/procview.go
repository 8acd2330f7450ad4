package kernel

import (
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"xemu/guestfs"
)

// The guest's process is xemu's host process: its /proc/PID directory is
// the host's, which describes the emulator (its memory layout, binary,
// name, Go threads and descriptors). Whatever path leads there, from the
// guest's working directory, a directory descriptor, /proc/self/fd links,
// "..", or a symbolic link anywhere, every path-taking call asks here where
// the host resolved it: an open descriptor or a stat result on the host's
// /proc is named by the host's own path for it (/proc/PID/..., the kernel's
// resolution, whatever the guest wrote), and one that is xemu's binary or
// the file of one of xemu's own descriptors is checked by resolving the
// guest's path with the /proc links the guest may follow.

// ProcView is where a guest path landed in /proc.
type ProcView struct {
	// In: inside /proc/PID of the guest process, at Entry.
	In    bool
	Entry guestfs.ProcEntry
	// CPUInfo: /proc/cpuinfo.
	CPUInfo bool
	// OtherPID and OtherFile: /proc/OtherPID/OtherFile of another process,
	// one of the files an xemu process gives for its guest
	// (guestfs.ProcOther, QueryGuestView).
	OtherPID  int
	OtherFile string
}

// File is the emulated file the view names, if any.
func (v ProcView) File() guestfs.ProcFile {
	if v.CPUInfo {
		return guestfs.ProcCPUInfo
	}
	if !v.In {
		return guestfs.ProcNone
	}
	return v.Entry.File()
}

var hostIDs = sync.OnceValue(func() (ids struct{ procDev, exeDev, exeIno uint64 }) {
	var st unix.Stat_t
	if (hostSelf.Proc >= 0 && unix.Fstat(hostSelf.Proc, &st) == nil) || unix.Stat("/proc", &st) == nil {
		ids.procDev = st.Dev
	}
	if (hostSelf.Exe >= 0 && unix.Fstat(hostSelf.Exe, &st) == nil) || unix.Stat("/proc/self/exe", &st) == nil {
		ids.exeDev, ids.exeIno = st.Dev, st.Ino
	}
	return ids
})

// OnProcFS: a file of device dev is on the host's /proc.
func OnProcFS(dev uint64) bool { return dev == hostIDs().procDev }

// emulatorFile: the file (dev, ino) is xemu's binary or the file behind
// one of xemu's own descriptors.
func (p *Process) emulatorFile(dev, ino uint64) bool {
	ids := hostIDs()
	if dev == ids.exeDev && ino == ids.exeIno {
		return true
	}
	p.reservedFilesMu.Lock()
	defer p.reservedFilesMu.Unlock()
	if p.reservedFiles == nil {
		p.reservedFiles = map[[2]uint64]bool{}
		for fd := range p.Reserved {
			var st unix.Stat_t
			if unix.Fstat(fd, &st) == nil {
				p.reservedFiles[[2]uint64{st.Dev, st.Ino}] = true
			}
		}
	}
	return p.reservedFiles[[2]uint64{dev, ino}]
}

// HostFDPath is the host's path for what descriptor fd names.
func HostFDPath(fd int) (string, error) { return ReadlinkHostProc("self/fd/" + strconv.Itoa(fd)) }

// ReservedFD: fd is one of xemu's own descriptors.
func (p *Process) ReservedFD(fd int) bool { return p.reservedFD(fd) }

// GuestThread: tid is a thread of the guest process.
func (p *Process) GuestThread(tid int) bool {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	_, ok := p.tasks[tid]
	return ok
}

// TaskByTID is the guest thread tid, or nil.
func (p *Process) TaskByTID(tid int) *Task {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	return p.tasks[tid]
}

// procViewOf says where a clean absolute host path is.
func (t *Task) procViewOf(p string) ProcView {
	if guestfs.IsCPUInfo(p) {
		return ProcView{CPUInfo: true}
	}
	e, ok := guestfs.SplitProc(p, os.Getpid(), t.TID)
	if !ok {
		if pid, file, other := guestfs.ProcOther(p); other {
			return ProcView{OtherPID: pid, OtherFile: file}
		}
	}
	return ProcView{In: ok, Entry: e}
}

// Hidden: the view names what the guest may not see: a thread that is not
// one of its own, one of xemu's descriptors, or a link of map_files/ (named
// by a host mapping's range). Linux has no such entry: ENOENT.
func (t *Task) Hidden(v ProcView) bool {
	if !v.In {
		return false
	}
	if v.Entry.TID != 0 && !t.P.GuestThread(v.Entry.TID) {
		return true
	}
	if v.Entry.InMapFiles() {
		return true
	}
	fd, ok := v.Entry.FD()
	return ok && t.P.reservedFD(fd)
}

// absPath is (dirfd, p) as an absolute host path.
func absPath(dirfd int, p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return p, nil
	}
	var base string
	var err error
	if dirfd == unix.AT_FDCWD {
		base, err = unix.Getwd()
	} else {
		base, err = HostFDPath(dirfd)
	}
	if err != nil {
		return "", err
	}
	return base + "/" + p, nil
}

// devLinks are the links of /dev to /proc that every Linux system has.
var devLinks = map[string]string{
	"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
	"/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2",
}

// procLink is the LinkFunc of the guest's /proc: self, thread-self, and in
// /proc/PID (or a task of it) fd/N, exe and cwd. A link to one of xemu's
// descriptors or a thread that is not the guest's is ENOENT.
func (t *Task) procLink(p string) (string, bool, error) {
	if target, ok := devLinks[p]; ok {
		return target, true, nil
	}
	pid := os.Getpid()
	switch p {
	case "/proc/self":
		return "/proc/" + strconv.Itoa(pid), true, nil
	case "/proc/thread-self":
		return "/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(t.TID), true, nil
	}
	v := t.procViewOf(p)
	if !v.In {
		return "", false, nil
	}
	if t.Hidden(v) {
		return "", false, unix.ENOENT
	}
	// exe is left for the caller: the link itself says the guest's
	// program is meant.
	switch rest := v.Entry.Rest; {
	case rest == "cwd":
		cwd, err := unix.Getwd()
		return cwd, err == nil, err
	case strings.HasPrefix(rest, "fd/"):
		fd, _ := v.Entry.FD()
		target, err := HostFDPath(fd)
		if err != nil {
			return "", false, unix.ENOENT
		}
		// A pipe, socket or anonymous file is no path: nothing below it.
		return target, strings.HasPrefix(target, "/"), nil
	}
	return "", false, nil
}

// anyLink is procLink, and outside /proc the host's own symbolic links.
func (t *Task) anyLink(p string) (string, bool, error) {
	if target, ok, err := t.procLink(p); ok || err != nil || strings.HasPrefix(p, "/proc/") {
		return target, ok, err
	}
	buf := make([]byte, PathMax)
	n, err := unix.Readlink(t.P.FS.Host(p), buf)
	if err != nil {
		return "", false, nil
	}
	target := string(buf[:n])
	if !strings.HasPrefix(target, "/") {
		target = p[:strings.LastIndexByte(p, '/')+1] + target
	}
	return target, true, nil
}

// LexicalView resolves the guest's (dirfd, p) with the links of the
// guest's /proc.
func (t *Task) LexicalView(dirfd int, p string, follow bool) (ProcView, error) {
	abs, err := absPath(dirfd, p)
	if err != nil {
		return ProcView{}, err
	}
	r, err := guestfs.Resolve(abs, follow, t.anyLink)
	if err != nil {
		return ProcView{}, err
	}
	return t.procViewOf(r), nil
}

// FDView is where an open descriptor is, by the host's own path for it.
func (t *Task) FDView(fd int) ProcView {
	p, err := HostFDPath(fd)
	if err != nil {
		return ProcView{}
	}
	return t.procViewOf(p)
}

// Landing says where the guest's path (dirfd, p) led, given what the host
// found there: a file of device dev and inode ino, opened as fd (or -1).
// Most paths land in neither /proc nor an emulator file and cost nothing
// more.
func (t *Task) Landing(dirfd int, p string, follow bool, dev, ino uint64, fd int) (ProcView, error) {
	switch {
	case OnProcFS(dev):
		// The host's path for it no longer says whether the way there
		// went through a link the guest may not follow (fd/N of one of
		// xemu's descriptors, which may itself be a /proc directory).
		if p != "" {
			if _, err := t.LexicalView(dirfd, p, follow); err != nil {
				return ProcView{}, err
			}
		}
		if fd >= 0 {
			return t.FDView(fd), nil
		}
		flags := unix.O_PATH | unix.O_CLOEXEC
		if !follow {
			flags |= unix.O_NOFOLLOW
		}
		host := p
		if host == "" {
			return t.FDView(dirfd), nil
		}
		h, err := unix.Openat(dirfd, t.P.FS.Host(host), flags, 0)
		if err != nil {
			return ProcView{}, nil
		}
		defer unix.Close(h)
		return t.FDView(h), nil
	case t.P.emulatorFile(dev, ino):
		if p == "" {
			// The descriptor itself (AT_EMPTY_PATH): the guest's own.
			return ProcView{}, nil
		}
		return t.LexicalView(dirfd, p, follow)
	}
	return ProcView{}, nil
}

// FilterProcDirents drops from a buffer of linux_dirent64 records read from
// fd what the guest may not see: in /proc/PID/task the threads that are not
// its own, in fd/ and fdinfo/ xemu's descriptors, in map_files/ every link
// (host mappings), and returns the new length.
func (t *Task) FilterProcDirents(fd int, buf []byte) int {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || !OnProcFS(st.Dev) {
		return len(buf)
	}
	v := t.FDView(fd)
	if !v.In {
		return len(buf)
	}
	dir := v.Entry.Dir()
	if dir == guestfs.DirNone {
		return len(buf)
	}
	out := 0
	for off := 0; off+19 <= len(buf); {
		reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
		if reclen == 0 || off+reclen > len(buf) {
			break
		}
		name := buf[off+19 : off+reclen]
		if i := strings.IndexByte(string(name), 0); i >= 0 {
			name = name[:i]
		}
		n, err := strconv.Atoi(string(name))
		keep := true
		if dir == guestfs.DirMapFiles {
			keep = string(name) == "." || string(name) == ".."
		} else if err == nil {
			switch dir {
			case guestfs.DirTask:
				keep = t.P.GuestThread(n)
			case guestfs.DirFD:
				keep = !t.P.reservedFD(n)
			}
		}
		if keep {
			copy(buf[out:], buf[off:off+reclen])
			out += reclen
		}
		off += reclen
	}
	return out
}

// Getdents reads linux_dirent64 records from fd into buf as the guest may
// see them. A batch the filter empties entirely is not the end of the
// directory: the next is read.
func (t *Task) Getdents(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil || n == 0 {
			return n, err
		}
		if k := t.FilterProcDirents(fd, buf[:n]); k > 0 {
			t.RenumberDirents(fd, buf[:k])
			return k, nil
		}
	}
}

// Tasks are the guest process's threads.
func (p *Process) Tasks() []*Task { return p.taskList() }
