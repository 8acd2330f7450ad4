package kernel

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// xemu starts itself again for every fork child and for every execve of a
// guest program. /proc/self/exe names its binary only where /proc is
// mounted: not in a chroot without it (debootstrap's second stage begins so,
// and binfmt_misc's F flag runs xemu in chroots that do not even contain it).
// So xemu opens its binary and the host's /proc once, where they can be
// found, keeps both among its own descriptors (high, close-on-exec, hidden
// from the guest) and hands them to every xemu it starts, which then needs
// no path at all: the binary is executed with execveat(fd, "",
// AT_EMPTY_PATH), and /proc files are opened relative to the directory
// ("self" resolves at each open, to the opener).
//
// An xemu that binfmt_misc started where neither can be opened re-enters
// itself through the kernel instead: an execve of a guest program is the
// host's execve (binfmt_misc runs xemu again), and a fork child executes
// the guest's own program file, held open for the purpose, so that the
// registration runs xemu, which finds --fork-state in its arguments.

// HostSelf is how this xemu starts another one.
type HostSelf struct {
	Exe  int // xemu's binary (O_PATH), or -1
	Proc int // the host's /proc directory (O_PATH), or -1
	// Prog is the guest program's file, open for a fork child to execute
	// through binfmt_misc when there is no Exe; -1 otherwise.
	Prog int
}

// hostSelf is this process's: it outlives any one guest program (and its
// descriptors are the emulator's, as runtimeFDs are).
var hostSelf = HostSelf{Exe: -1, Proc: -1, Prog: -1}

// OpenHostSelf opens xemu's binary and /proc through /proc/self/exe and
// /proc, or takes inherited ones (a descriptor number >= 0 in from) and
// marks them close-on-exec again. It must run before a chroot.
func OpenHostSelf(from HostSelf) HostSelf {
	take := func(fd int, path string, flags int) int {
		if fd >= 0 {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err == nil {
				return fd
			}
		}
		if path == "" {
			return -1
		}
		fd, err := unix.Open(path, flags|unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1
		}
		return highFD(fd)
	}
	hostSelf = HostSelf{
		Exe:  take(from.Exe, "/proc/self/exe", 0),
		Proc: take(from.Proc, "/proc", unix.O_DIRECTORY),
		Prog: take(from.Prog, "", 0),
	}
	if hostSelf.Proc < 0 {
		hostSelf.Proc = detachedProc()
	}
	if hostSelf.Exe < 0 && hostSelf.Proc >= 0 {
		if fd, err := unix.Openat(hostSelf.Proc, "self/exe", unix.O_PATH|unix.O_CLOEXEC, 0); err == nil {
			hostSelf.Exe = highFD(fd)
		}
	}
	return hostSelf
}

// detachedProc mounts a proc file system that no directory shows (fsopen
// and fsmount, Linux 5.2) and returns its root, or -1 (without
// CAP_SYS_ADMIN). Where /proc is missing, in a chroot such as debootstrap's
// second stage before it mounts /proc, root's xemu finds its binary and
// /proc so, changes no mount the guest sees, and forks and executes itself
// as where /proc is mounted, instead of re-entering through binfmt_misc.
func detachedProc() int {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1
	}
	defer unix.Close(fs)
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1
	}
	m, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1
	}
	return highFD(m)
}

// KeepProgram holds the guest program's file (fd, any mode) for fork
// children to re-enter xemu through binfmt_misc, where xemu has no
// descriptor of its own binary.
func KeepProgram(fd int) {
	if hostSelf.Exe >= 0 || hostSelf.Prog >= 0 {
		return
	}
	if h, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, hostFDBase); err == nil {
		hostSelf.Prog = h
	}
}

// reserveHostSelf keeps the guest's hands off the descriptors.
func (p *Process) reserveHostSelf() {
	for _, fd := range []int{hostSelf.Exe, hostSelf.Proc, hostSelf.Prog} {
		if fd >= 0 {
			p.Reserve(fd)
		}
	}
}

// fds are the descriptors that pass to the next xemu.
func (h HostSelf) fds() []int {
	var out []int
	for _, fd := range []int{h.Exe, h.Proc, h.Prog} {
		if fd >= 0 {
			out = append(out, fd)
		}
	}
	return out
}

// OpenHostProc opens a file of the host's /proc, such as "thread-self/status",
// where it is: through xemu's descriptor of /proc, which a chroot does not
// take away.
func OpenHostProc(name string) (*os.File, error) {
	if hostSelf.Proc < 0 {
		return os.Open("/proc/" + name)
	}
	fd, err := unix.Openat(hostSelf.Proc, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc/" + name, Err: err}
	}
	return os.NewFile(uintptr(fd), "/proc/"+name), nil
}

// hostStatFields is the fields of the host's /proc/PID/stat (pid a number
// or "self") after the ")" that ends comm, whatever comm holds: the state
// (field 3) first. nil if it cannot be read.
func hostStatFields(pid string) []string {
	b, err := ReadHostProc(pid + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// ReadHostProc reads a file of the host's /proc (see OpenHostProc).
func ReadHostProc(name string) ([]byte, error) {
	f, err := OpenHostProc(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// StatHostProc stats a file of the host's /proc (see OpenHostProc),
// following symbolic links such as "123/exe".
func StatHostProc(name string, st *unix.Stat_t) error {
	if hostSelf.Proc < 0 {
		return unix.Stat("/proc/"+name, st)
	}
	return unix.Fstatat(hostSelf.Proc, name, st, 0)
}

// ReadlinkHostProc reads a symbolic link of the host's /proc, such as
// "self/fd/3".
func ReadlinkHostProc(name string) (string, error) {
	buf := make([]byte, PathMax)
	var n int
	var err error
	if hostSelf.Proc < 0 {
		n, err = unix.Readlink("/proc/"+name, buf)
	} else {
		n, err = unix.Readlinkat(hostSelf.Proc, name, buf)
	}
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// setInheritable clears (or sets again) close-on-exec on the descriptors
// the next xemu takes over.
func setInheritable(fds []int, on bool) {
	flag := unix.FD_CLOEXEC
	if on {
		flag = 0
	}
	for _, fd := range fds {
		unix.FcntlInt(uintptr(fd), unix.F_SETFD, flag)
	}
}

// execSelf replaces this process with the xemu binary hostSelf.Exe names,
// which takes over the descriptors of hostSelf (--self-fds).
func execSelf(argv, envp []string) error {
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envpp, err := syscall.SlicePtrFromStrings(envp)
	if err != nil {
		return err
	}
	empty := []byte{0}
	fds := hostSelf.fds()
	setInheritable(fds, true)
	_, _, e := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(hostSelf.Exe), uintptr(unsafe.Pointer(&empty[0])),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envpp[0])), unix.AT_EMPTY_PATH, 0)
	setInheritable(fds, false)
	return e
}

// SelfFDsFlag is the value of --self-fds that hands h to the next xemu.
func (h HostSelf) SelfFDsFlag() string { return fmt.Sprintf("%d,%d,%d", h.Exe, h.Proc, h.Prog) }

// ParseSelfFDs reads a --self-fds value.
func ParseSelfFDs(s string) (HostSelf, error) {
	h := HostSelf{Exe: -1, Proc: -1, Prog: -1}
	if s == "" {
		return h, nil
	}
	_, err := fmt.Sscanf(s, "%d,%d,%d", &h.Exe, &h.Proc, &h.Prog)
	return h, err
}
