package linux

import (
	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/syscall/kernel"
)

// process_vm_readv and process_vm_writev (mm/process_vm_access.c): the
// guest's own process is its guest memory, through the checked door with
// the guest's permissions; another xemu's is its guest memory too, which
// that xemu reads and writes for us if it would let us ptrace it (EPERM
// otherwise, and when it does not answer), since that process's host
// memory is not its guest's; a native process's memory is its own,
// reached through the host call and a bounded buffer.

func init() {
	K := kernel.Kinds
	kernel.AddEntries(map[string]*kernel.Entry{
		"process_vm_readv":  {Fn: processVMReadv, Args: K(kernel.KInt, kernel.KPtr, kernel.KULong, kernel.KPtr, kernel.KULong, kernel.KHex)},
		"process_vm_writev": {Fn: processVMWritev, Args: K(kernel.KInt, kernel.KPtr, kernel.KULong, kernel.KPtr, kernel.KULong, kernel.KHex)},
	})
}

func processVMReadv(t *kernel.Task, a kernel.Args) (uint64, error) {
	return processVM(t, a, false)
}

func processVMWritev(t *kernel.Task, a kernel.Args) (uint64, error) {
	return processVM(t, a, true)
}

// processVMChunk bounds the host memory one step of a transfer uses.
const processVMChunk = mem.PageSize

func processVM(t *kernel.Task, a kernel.Args, write bool) (uint64, error) {
	pid := a.Int(0)
	if a.U64(5) != 0 {
		return 0, unix.EINVAL
	}
	if a.U64(2) > 1024 || a.U64(4) > 1024 {
		return 0, unix.EINVAL
	}
	local, err := t.Iovecs(a.Addr(1), int(a.U64(2)))
	if err != nil {
		return 0, err
	}
	remote, err := t.Iovecs(a.Addr(3), int(a.U64(4)))
	if err != nil {
		return 0, err
	}
	self := pid == unix.Getpid() || t.P.GuestThread(pid)
	var other *kernel.OtherMem
	if !self {
		if pid <= 0 {
			return 0, unix.ESRCH
		}
		if err := unix.Kill(pid, 0); err == unix.ESRCH {
			return 0, unix.ESRCH
		}
		if kernel.IsXemu(pid) {
			// mm_access's EACCES is EPERM here (process_vm_rw_core).
			if other, err = kernel.DialOtherMem(pid, false); err != nil {
				return 0, unix.EPERM
			}
			defer other.Close()
		}
	}
	// Walk both lists in step, a chunk at a time: local bytes li/lo,
	// remote bytes ri/ro.
	buf := make([]byte, processVMChunk)
	var done uint64
	li, lo, ri, ro := 0, uint64(0), 0, uint64(0)
	for {
		for li < len(local) && lo == local[li].Len() {
			li, lo = li+1, 0
		}
		for ri < len(remote) && ro == remote[ri].Len() {
			ri, ro = ri+1, 0
		}
		if li == len(local) || ri == len(remote) {
			return done, nil
		}
		la, ra := local[li].Base()+mem.GuestAddr(lo), remote[ri].Base()+mem.GuestAddr(ro)
		// A page at a time at most, so that a fault ends the transfer
		// where Linux's page-by-page copy would.
		n := min(local[li].Len()-lo, remote[ri].Len()-ro, processVMChunk,
			mem.PageSize-uint64(la)%mem.PageSize, mem.PageSize-uint64(ra)%mem.PageSize)
		b := buf[:n]
		var err error
		switch {
		case self && write:
			if err = t.CopyIn(la, b); err == nil {
				err = t.CopyOut(ra, b)
			}
		case self:
			if err = t.CopyIn(ra, b); err == nil {
				err = t.CopyOut(la, b)
			}
		case other != nil && write:
			if err = t.CopyIn(la, b); err == nil {
				err = otherProcessVM(other, b, uint64(ra), true)
			}
		case other != nil:
			if err = otherProcessVM(other, b, uint64(ra), false); err == nil {
				err = t.CopyOut(la, b)
			}
		case write:
			if err = t.CopyIn(la, b); err == nil {
				err = hostProcessVM(pid, b, uint64(ra), true)
			}
		default:
			if err = hostProcessVM(pid, b, uint64(ra), false); err == nil {
				err = t.CopyOut(la, b)
			}
		}
		if err != nil {
			// A partial transfer reports what was moved; nothing moved,
			// the error (process_vm_rw_core).
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		done += n
		lo += n
		ro += n
	}
}

// otherProcessVM moves b, within one page of the target, to or from
// address at in another xemu's guest memory: EFAULT unless all of it
// moved (pin_user_pages_remote failing on that page).
func otherProcessVM(m *kernel.OtherMem, b []byte, at uint64, write bool) error {
	n, err := m.MemIO(b, at, write)
	if err != nil || n < len(b) {
		return unix.EFAULT
	}
	return nil
}

// hostProcessVM moves b to or from address at in native process pid.
func hostProcessVM(pid int, b []byte, at uint64, write bool) error {
	l := []unix.Iovec{{Base: &b[0]}}
	l[0].SetLen(len(b))
	r := []unix.RemoteIovec{{Base: uintptr(at), Len: len(b)}}
	var n int
	var err error
	if write {
		n, err = unix.ProcessVMWritev(pid, l, r, 0)
	} else {
		n, err = unix.ProcessVMReadv(pid, l, r, 0)
	}
	if err != nil {
		return err
	}
	if n < len(b) {
		return unix.EFAULT
	}
	return nil
}
