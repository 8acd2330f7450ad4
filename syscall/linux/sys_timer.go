package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/syscall/abi"
	"xemu/syscall/kernel"
)

// POSIX timers run as host timers. Their signals come back to xemu, which
// catches every signal for the guest, with si_value, si_timerid and
// si_overrun as the host kernel filled them: the guest's own values.

func init() {
	K := kernel.Kinds
	kernel.AddEntries(map[string]*kernel.Entry{
		"timer_create":     {Fn: timerCreate, Args: K(kernel.KInt, kernel.KPtr, kernel.KPtr), Support: kernel.Partial, Note: "SIGEV_SIGNAL, SIGEV_NONE and SIGEV_THREAD_ID; glibc's SIGEV_THREAD needs threads"},
		"timer_settime":    {Fn: timerSettime, Args: K(kernel.KInt, kernel.KHex, kernel.KPtr, kernel.KPtr)},
		"timer_gettime":    {Fn: timerGettime, Args: K(kernel.KInt, kernel.KPtr)},
		"timer_getoverrun": {Fn: timerGetoverrun, Args: K(kernel.KInt)},
		"timer_delete":     {Fn: timerDelete, Args: K(kernel.KInt)},
	})
}

// sigev_notify values (include/uapi/asm-generic/siginfo.h).
const (
	sigevSignal   = 0
	sigevNone     = 1
	sigevThreadID = 4
)

// hostSigevent is struct sigevent on x86-64: sigev_value, sigev_signo,
// sigev_notify, then the union whose first member is the thread ID.
type hostSigevent struct {
	value  uint64
	signo  int32
	notify int32
	tid    int32
	_      [44]byte
}

// timerCreate reads the guest's struct sigevent: sigev_value is a word
// (4 bytes on ARM), then sigev_signo, sigev_notify and sigev_notify_thread_id.
func timerCreate(t *kernel.Task, a kernel.Args) (uint64, error) {
	// With no sigevent the host does what Linux does for the guest:
	// SIGALRM, with the timer's ID as si_value.
	var ev hostSigevent
	evp := kernel.UnsafePointer(&ev)
	if a.Addr(1) == 0 {
		evp = nil
	} else {
		w := int(t.WordSize())
		b := make([]byte, w+12)
		if err := t.CopyIn(a.Addr(1), b); err != nil {
			return 0, err
		}
		if w == 8 {
			ev.value = binary.LittleEndian.Uint64(b)
		} else {
			ev.value = uint64(binary.LittleEndian.Uint32(b))
		}
		ev.signo = int32(binary.LittleEndian.Uint32(b[w:]))
		ev.notify = int32(binary.LittleEndian.Uint32(b[w+4:]))
		ev.tid = int32(binary.LittleEndian.Uint32(b[w+8:]))
		switch ev.notify {
		case sigevSignal, sigevNone:
		case sigevThreadID:
			if t.P.Thread(int(ev.tid)) == nil {
				return 0, unix.EINVAL
			}
		default:
			return 0, unix.EINVAL
		}
		// 32 and 33 are the host C library's own (not caught by xemu).
		if ev.notify != sigevNone && (ev.signo < 1 || ev.signo > abi.NSIG || ev.signo == 32 || ev.signo == 33) {
			return 0, unix.EINVAL
		}
	}
	var id int32
	_, _, e := unix.Syscall(unix.SYS_TIMER_CREATE, uintptr(a.Int(0)), uintptr(evp), uintptr(kernel.UnsafePointer(&id)))
	if e != 0 {
		return 0, e
	}
	if err := t.PutU32(a.Addr(2), uint32(id)); err != nil {
		unix.Syscall(unix.SYS_TIMER_DELETE, uintptr(id), 0, 0)
		return 0, err
	}
	t.P.AddTimer(id)
	return 0, nil
}

func timerSettime(t *kernel.Task, a kernel.Args) (uint64, error) {
	nv, err := readItimerspec(t, a.Addr(2))
	if err != nil {
		return 0, err
	}
	var old unix.ItimerSpec
	_, _, e := unix.Syscall6(unix.SYS_TIMER_SETTIME, uintptr(a.Int(0)), uintptr(a.Int(1)), uintptr(kernel.UnsafePointer(&nv)), uintptr(kernel.UnsafePointer(&old)), 0, 0)
	if e != 0 {
		return 0, e
	}
	if a.Addr(3) != 0 {
		return 0, writeItimerspec(t, a.Addr(3), old)
	}
	return 0, nil
}

func timerGettime(t *kernel.Task, a kernel.Args) (uint64, error) {
	var cur unix.ItimerSpec
	if _, _, e := unix.Syscall(unix.SYS_TIMER_GETTIME, uintptr(a.Int(0)), uintptr(kernel.UnsafePointer(&cur)), 0); e != 0 {
		return 0, e
	}
	return 0, writeItimerspec(t, mem.GuestAddr(a.Addr(1)), cur)
}

func timerGetoverrun(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, _, e := unix.Syscall(unix.SYS_TIMER_GETOVERRUN, uintptr(a.Int(0)), 0, 0)
	return uint64(r), kernel.ErrOf(e)
}

func timerDelete(t *kernel.Task, a kernel.Args) (uint64, error) {
	_, _, e := unix.Syscall(unix.SYS_TIMER_DELETE, uintptr(a.Int(0)), 0, 0)
	if e == 0 {
		t.P.RemoveTimer(int32(a.Int(0)))
	}
	return 0, kernel.ErrOf(e)
}
