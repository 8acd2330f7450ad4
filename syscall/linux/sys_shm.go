package linux

import (
	"fmt"
	"unsafe"

	"xemu/syscall/abi"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// System V shared memory: the host's segments, attached by the host into the
// guest's arena slot (mem.MapRequest.Shm), so a guest sees and makes the
// same writes as every other process attaching the segment.

func shmget(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, _, e := unix.Syscall(unix.SYS_SHMGET, uintptr(a.Int(0)), uintptr(a.U64(1)), uintptr(a.Int(2)))
	return uint64(r), kernel.ErrOf(e)
}

// shmat places the segment as ipc/shm.c do_shmat does: an address that is
// not SHMLBA-aligned is rounded down with SHM_RND and refused without it
// (where the architecture forces SHMLBA, or when not even page-aligned); a
// given address must be free unless SHM_REMAP; no address lets the space
// choose one, SHMLBA-aligned.
func shmat(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, addr, flags := a.Int(0), a.Addr(1), a.Int(2)
	l := t.P.ABI.IPC
	if id < 0 {
		return 0, unix.EINVAL
	}
	ds := new(abi.Shmid64DS)
	if _, _, e := unix.Syscall(unix.SYS_SHMCTL, uintptr(id), abi.IPC_STAT, uintptr(unsafe.Pointer(ds))); e != 0 {
		return 0, e
	}
	if addr != 0 {
		if uint64(addr)&(l.SHMLBA-1) != 0 {
			switch {
			case flags&abi.SHM_RND != 0:
				addr &^= mem.GuestAddr(l.SHMLBA - 1)
				if addr == 0 && flags&abi.SHM_REMAP != 0 {
					return 0, unix.EINVAL
				}
			case l.ForceSHMLBA || uint64(addr)%mem.PageSize != 0:
				return 0, unix.EINVAL
			}
		}
	} else if flags&abi.SHM_REMAP != 0 {
		return 0, unix.EINVAL
	}
	prot := mem.ProtRead
	if flags&abi.SHM_RDONLY == 0 {
		prot |= mem.ProtWrite
	}
	if flags&abi.SHM_EXEC != 0 {
		prot |= mem.ProtExec
	}
	got, err := t.P.Mem.Map(mem.MapRequest{
		Addr: addr, Length: ds.Segsz, Prot: prot,
		Fixed:     addr != 0,
		NoReplace: addr != 0 && flags&abi.SHM_REMAP == 0,
		Shared:    true, FD: -1, Shm: true, ShmID: id, Align: l.SHMLBA,
		// The segment's file in Linux's internal shm mount, unlinked.
		Name: fmt.Sprintf("/SYSV%08x (deleted)", uint32(ds.Perm.Key)),
	})
	if err == unix.EEXIST {
		err = unix.EINVAL // something is mapped there: do_shmat's find_vma_intersection
	}
	return uint64(got), err
}

func shmdt(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, t.P.Mem.DetachShm(a.Addr(0))
}

func shmctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, arg := a.Int(0), a.Addr(2)
	cmd, old := ipcCommand(t, a.Int(1))
	l := t.P.ABI.IPC
	host := func(cmd int, p unsafe.Pointer) (uint64, error) {
		r, _, e := unix.Syscall(unix.SYS_SHMCTL, uintptr(id), uintptr(cmd), uintptr(p))
		return uint64(r), kernel.ErrOf(e)
	}
	switch cmd {
	case abi.IPC_RMID, abi.SHM_LOCK, abi.SHM_UNLOCK:
		return host(cmd, nil)
	case abi.IPC_INFO:
		if old {
			return 0, unix.EINVAL // struct shminfo, not shminfo64
		}
		si := new(abi.Shminfo64)
		r, err := host(cmd, unsafe.Pointer(si))
		if err != nil {
			return 0, err
		}
		return r, t.CopyOut(arg, l.ShminfoOut(si))
	case abi.SHM_INFO:
		si := new(abi.ShmInfo)
		r, err := host(cmd, unsafe.Pointer(si))
		if err != nil {
			return 0, err
		}
		return r, t.CopyOut(arg, l.ShmInfoOut(si))
	case abi.IPC_STAT, abi.SHM_STAT, abi.SHM_STAT_ANY:
		if old {
			return 0, unix.EINVAL
		}
		ds := new(abi.Shmid64DS)
		r, err := host(cmd, unsafe.Pointer(ds))
		if err != nil {
			return 0, err
		}
		return r, t.CopyOut(arg, l.ShmidOut(ds))
	case abi.IPC_SET:
		if old {
			return 0, unix.EINVAL
		}
		b := make([]byte, l.ShmidSize)
		if err := t.CopyIn(arg, b); err != nil {
			return 0, err
		}
		ds := l.ShmidIn(b)
		return host(cmd, unsafe.Pointer(&ds))
	}
	return 0, unix.EINVAL
}

func init() {
	kernel.AddEntries(map[string]*kernel.Entry{
		"shmget": {Fn: shmget, Args: kernel.Kinds(kernel.KInt, kernel.KULong, kernel.KHex)},
		"shmat":  {Fn: shmat, Args: kernel.Kinds(kernel.KInt, kernel.KPtr, kernel.KHex), Ret: kernel.RetHex},
		"shmdt":  {Fn: shmdt, Args: kernel.Kinds(kernel.KPtr)},
		"shmctl": {Fn: shmctl, Args: kernel.Kinds(kernel.KInt, kernel.KInt, kernel.KPtr),
			Support: kernel.Partial, Note: "32-bit ARM structures without IPC_64 (pre-2.4 layouts) are refused"},
	})
}
