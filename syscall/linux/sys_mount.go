package linux

import (
	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/syscall/kernel"
)

// The file-system context: chroot, mount and umount2 go to the host as they
// are (their flags are the generic ones on every architecture:
// include/uapi/linux/mount.h). xemu re-executes itself through descriptors
// it opened at start-up (kernel/selfexe.go), so a guest that changes its
// root keeps forking and executing.

func chroot(t *kernel.Task, a kernel.Args) (uint64, error) {
	host, err := t.Path(a.Addr(0))
	if err != nil {
		return 0, err
	}
	return 0, unix.Chroot(host)
}

// optionalString reads a string argument that may be NULL.
func optionalString(t *kernel.Task, addr mem.GuestAddr, max int) (string, error) {
	if addr == 0 {
		return "", nil
	}
	return t.P.Mem.ReadString(addr, max)
}

func mount(t *kernel.Task, a kernel.Args) (uint64, error) {
	source, err := optionalString(t, a.Addr(0), kernel.PathMax)
	if err != nil {
		return 0, err
	}
	target, err := t.Path(a.Addr(1))
	if err != nil {
		return 0, err
	}
	fstype, err := optionalString(t, a.Addr(2), mem.PageSize)
	if err != nil {
		return 0, err
	}
	// The options are a string for every file system a guest mounts here;
	// Linux copies at most a page of them.
	data, err := optionalString(t, a.Addr(4), mem.PageSize)
	if err != nil {
		return 0, err
	}
	// A source that is a path (bind mounts, block devices) is the guest's.
	if len(source) > 0 && source[0] == '/' {
		source = t.P.FS.Host(source)
	}
	return 0, unix.Mount(source, target, fstype, uintptr(a.U64(3)), data)
}

func umount2(t *kernel.Task, a kernel.Args) (uint64, error) {
	target, err := t.Path(a.Addr(0))
	if err != nil {
		return 0, err
	}
	return 0, unix.Unmount(target, int(a.Int(1)))
}
