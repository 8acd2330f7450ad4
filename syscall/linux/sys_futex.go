package linux

import (
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// futex operations (include/uapi/linux/futex.h).
const (
	futexWait          = 0
	futexWake          = 1
	futexFd            = 2
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexLockPI        = 6
	futexUnlockPI      = 7
	futexTrylockPI     = 8
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexWaitRequeuePI = 11
	futexCmpRequeuePI  = 12
	futexLockPI2       = 13
	futexCmdMask       = 0x7f // without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
)

// futex runs on the host futex at the host address of the guest's word: guest
// memory is host memory, so waiters and wakers in this process (and, for
// shared mappings, in other processes) meet there. Lock words hold TIDs, and a
// guest TID is its host TID, so the PI operations work as they are.
func futex(t *kernel.Task, a kernel.Args) (uint64, error) {
	op := a.Int(1)
	// The PI operations write the lock word itself, WAKE_OP and the
	// requeue-PI ones the second word: those must be writable for the
	// guest, as get_futex_key(FUTEX_WRITE) demands.
	need1, need2 := mem.ProtRead, mem.ProtRead
	switch op & futexCmdMask {
	case futexLockPI, futexLockPI2, futexTrylockPI, futexUnlockPI:
		need1 = mem.ProtRead | mem.ProtWrite
	case futexWakeOp, futexCmpRequeuePI, futexWaitRequeuePI:
		need2 = mem.ProtRead | mem.ProtWrite
	}
	uaddr, err := futexWord(t, a.Addr(0), need1)
	if err != nil {
		return 0, err
	}
	var timeout *unix.Timespec
	var uaddr2 uintptr
	val2 := uintptr(a.Uint(3))
	switch op & futexCmdMask {
	case futexWait, futexWaitBitset, futexLockPI, futexLockPI2, futexWaitRequeuePI:
		if a.Addr(3) != 0 {
			var ts [1]unix.Timespec
			if err := t.ReadTimespecs(a.Addr(3), ts[:]); err != nil {
				return 0, err
			}
			timeout = &ts[0]
		}
		val2 = uintptr(kernel.UnsafePointer(timeout))
	case futexWake, futexWakeBitset, futexUnlockPI, futexTrylockPI:
	case futexRequeue, futexCmpRequeue, futexWakeOp, futexCmpRequeuePI:
	default:
		return 0, unix.ENOSYS
	}
	switch op & futexCmdMask {
	case futexRequeue, futexCmpRequeue, futexWakeOp, futexCmpRequeuePI, futexWaitRequeuePI:
		if uaddr2, err = futexWord(t, a.Addr(4), need2); err != nil {
			return 0, err
		}
	}
	r, _, e := unix.Syscall6(unix.SYS_FUTEX, uaddr, uintptr(op), uintptr(a.Uint(2)), val2, uaddr2, uintptr(a.Uint(5)))
	return uint64(r), kernel.ErrOf(e)
}

// futexWord is the host address of an aligned guest futex word the guest
// may access as need says.
func futexWord(t *kernel.Task, a mem.GuestAddr, need mem.Prot) (uintptr, error) {
	if a%4 != 0 {
		return 0, unix.EINVAL
	}
	b, err := t.P.Mem.Slice(a, 4, need)
	if err != nil {
		return 0, unix.EFAULT
	}
	return uintptr(kernel.UnsafePointer(&b[0])), nil
}

func init() {
	kernel.AddEntries(map[string]*kernel.Entry{
		"futex": {Fn: futex, Args: kernel.Kinds(kernel.KPtr, kernel.KInt, kernel.KUint, kernel.KPtr, kernel.KPtr, kernel.KUint)},
	})
}
