// Package guestfs maps the paths a guest names to host paths: the sysroot
// (qemu-user's -L) and the files under /proc that must describe the guest, not
// the emulator.
package guestfs

import (
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// FS is one guest's view of the file system.
type FS struct {
	// Sysroot, if set, is searched first for absolute paths.
	Sysroot string
	// Exe is the host path of the running guest program (what /proc/self/exe
	// names).
	Exe string
}

// Host returns the host path for an absolute or relative guest path. Relative
// paths are left alone: they resolve against the real working directory or the
// directory descriptor the guest passed. An absolute path is looked up in the
// sysroot first; if it does not exist there, the host's own path is used, as
// qemu-user's -L does.
func (fs *FS) Host(p string) string {
	if fs.Sysroot == "" || !strings.HasPrefix(p, "/") {
		return p
	}
	if isProcSelf(p) {
		return p
	}
	in := path.Join(fs.Sysroot, p)
	if in == fs.Sysroot || p == "/" {
		return p
	}
	var st unix.Stat_t
	if unix.Lstat(in, &st) == nil {
		return in
	}
	return p
}

// HostForCreate is Host for a path that is about to be created: the sysroot
// is used when the parent directory exists in it.
func (fs *FS) HostForCreate(p string) string {
	if fs.Sysroot == "" || !strings.HasPrefix(p, "/") {
		return p
	}
	h := fs.Host(p)
	if h != p {
		return h
	}
	in := path.Join(fs.Sysroot, p)
	var st unix.Stat_t
	if unix.Stat(path.Dir(in), &st) == nil && path.Dir(in) != fs.Sysroot {
		return in
	}
	return p
}

func isProcSelf(p string) bool {
	return strings.HasPrefix(p, "/proc/") || p == "/proc"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// Guest turns a host path back into the guest's view: a path inside the
// sysroot loses the sysroot prefix.
func (fs *FS) Guest(host string) string {
	if fs.Sysroot == "" || fs.Sysroot == "/" {
		return host
	}
	root := strings.TrimSuffix(fs.Sysroot, "/")
	if host == root {
		return "/"
	}
	if strings.HasPrefix(host, root+"/") {
		return host[len(root):]
	}
	return host
}
