package linux

import (
	"encoding/binary"

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
		"futex":       {Fn: futex, Args: kernel.Kinds(kernel.KPtr, kernel.KInt, kernel.KUint, kernel.KPtr, kernel.KPtr, kernel.KUint)},
		"futex_waitv": {Fn: futexWaitv, Time64: true, Args: kernel.Kinds(kernel.KPtr, kernel.KUint, kernel.KHex, kernel.KPtr, kernel.KInt)},
		"membarrier":  {Fn: membarrier, Args: kernel.Kinds(kernel.KInt, kernel.KHex, kernel.KInt)},
	})
}

// futexWaitvMax is FUTEX_WAITV_MAX (include/uapi/linux/futex.h).
const futexWaitvMax = 128

// futex_waitv(waiters, nr, flags, timeout, clockid): struct futex_waitv is
// {u64 val; u64 uaddr; u32 flags; u32 reserved} on every architecture; the
// host call gets the same array with host addresses. The timeout is a
// struct __kernel_timespec, absolute on clockid.
func futexWaitv(t *kernel.Task, a kernel.Args) (uint64, error) {
	n := a.Uint(1)
	if a.Uint(2) != 0 || n == 0 || n > futexWaitvMax {
		return 0, unix.EINVAL
	}
	raw := make([]byte, 24*n)
	if err := t.CopyIn(a.Addr(0), raw); err != nil {
		return 0, err
	}
	host := make([]byte, len(raw))
	copy(host, raw)
	for i := uint32(0); i < n; i++ {
		e := raw[24*i : 24*i+24]
		if binary.LittleEndian.Uint32(e[20:]) != 0 {
			return 0, unix.EINVAL
		}
		uaddr := mem.GuestAddr(binary.LittleEndian.Uint64(e[8:]))
		if t.P.ABI.Class == 32 && uint64(uaddr) > 0xffffffff {
			return 0, unix.EFAULT
		}
		h, err := futexWord(t, uaddr, mem.ProtRead)
		if err != nil {
			return 0, err
		}
		binary.LittleEndian.PutUint64(host[24*i+8:], uint64(h))
	}
	var timeout *unix.Timespec
	if a.Addr(3) != 0 {
		var ts [1]unix.Timespec
		if err := t.ReadTimespecs(a.Addr(3), ts[:]); err != nil {
			return 0, err
		}
		timeout = &ts[0]
	}
	r, _, e := unix.Syscall6(unix.SYS_FUTEX_WAITV, uintptr(kernel.UnsafePointer(&host[0])), uintptr(n), 0,
		uintptr(kernel.UnsafePointer(timeout)), uintptr(a.Int(4)), 0)
	return uint64(r), kernel.ErrOf(e)
}

// membarrier commands (include/uapi/linux/membarrier.h). Guest threads are
// host threads of this process, so the host's barriers reach them; the
// rseq variants are refused, as rseq is not supported. The host's
// registrations are the process's and outlive an execve in it, so the guest
// program's own are kept apart (kernel.Process.MembarrierRegistrations):
// a private expedited barrier it has not registered for is EPERM, as
// membarrier_private_expedited answers, once the host has had its say (an
// EINVAL for a command it lacks comes first, as on Linux).
const (
	membarrierQuery                            = 0
	membarrierRegisterGlobalExpedited          = 1 << 2
	membarrierPrivateExpedited                 = 1 << 3
	membarrierRegisterPrivateExpedited         = 1 << 4
	membarrierPrivateExpeditedSyncCore         = 1 << 5
	membarrierRegisterPrivateExpeditedSyncCore = 1 << 6
	membarrierRseqMask                         = 1<<7 | 1<<8
	membarrierGetRegistrations                 = 1 << 9
	membarrierSupportMask                      = 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | membarrierGetRegistrations
)

func membarrier(t *kernel.Task, a kernel.Args) (uint64, error) {
	cmd := a.Int(0)
	if cmd&membarrierRseqMask != 0 {
		return 0, unix.EINVAL
	}
	r, _, e := unix.Syscall(unix.SYS_MEMBARRIER, uintptr(cmd), uintptr(a.Uint(1)), uintptr(a.Int(2)))
	if e != 0 {
		return 0, e
	}
	switch cmd {
	case membarrierQuery:
		// GLOBAL (bit 0) and the others xemu passes on.
		return uint64(r) & (1 | membarrierSupportMask), nil
	case membarrierPrivateExpedited, membarrierPrivateExpeditedSyncCore:
		// Each command's registration is the bit above it.
		if t.P.MembarrierRegistrations()&uint32(cmd<<1) == 0 {
			return 0, unix.EPERM
		}
	case membarrierRegisterGlobalExpedited, membarrierRegisterPrivateExpedited, membarrierRegisterPrivateExpeditedSyncCore:
		t.P.RegisterMembarrier(uint32(cmd))
	case membarrierGetRegistrations:
		return uint64(t.P.MembarrierRegistrations()), nil
	}
	return uint64(r), nil
}
