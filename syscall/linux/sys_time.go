package linux

import (
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

func clockGettime(t *kernel.Task, a kernel.Args) (uint64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(int32(a.Int(0)), &ts); err != nil {
		return 0, err
	}
	return 0, t.WriteTimespec(a.Addr(1), ts)
}

func clockGetres(t *kernel.Task, a kernel.Args) (uint64, error) {
	var ts unix.Timespec
	if err := unix.ClockGetres(int32(a.Int(0)), &ts); err != nil {
		return 0, err
	}
	if a.Addr(1) == 0 {
		return 0, nil
	}
	return 0, t.WriteTimespec(a.Addr(1), ts)
}

func clockNanosleep(t *kernel.Task, a kernel.Args) (uint64, error) {
	var req [1]unix.Timespec
	if err := t.ReadTimespecs(a.Addr(2), req[:]); err != nil {
		return 0, err
	}
	var rem unix.Timespec
	err := unix.ClockNanosleep(int32(a.Int(0)), a.Int(1), &req[0], &rem)
	if err == unix.EINTR && a.Addr(3) != 0 && a.Int(1)&unix.TIMER_ABSTIME == 0 {
		t.WriteTimespec(a.Addr(3), rem)
	}
	return 0, err
}

func nanosleep(t *kernel.Task, a kernel.Args) (uint64, error) {
	return clockNanosleep(t, kernel.Args{unix.CLOCK_MONOTONIC, 0, a[0], a[1]})
}

func gettimeofday(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.Addr(0) != 0 {
		var tv unix.Timeval
		if err := unix.Gettimeofday(&tv); err != nil {
			return 0, err
		}
		if err := t.WriteTimespec(a.Addr(0), unix.Timespec{Sec: tv.Sec, Nsec: tv.Usec}); err != nil {
			return 0, err
		}
	}
	if a.Addr(1) != 0 {
		// struct timezone: two ints, always zero on Linux now.
		return 0, t.CopyOut(a.Addr(1), make([]byte, 8))
	}
	return 0, nil
}

func times(t *kernel.Task, a kernel.Args) (uint64, error) {
	var tms unix.Tms
	r, err := unix.Times(&tms)
	if err != nil {
		return 0, err
	}
	if a.Addr(0) != 0 {
		w := mem.GuestAddr(t.WordSize())
		for i, v := range []int64{tms.Utime, tms.Stime, tms.Cutime, tms.Cstime} {
			if err := t.PutWord(a.Addr(0)+mem.GuestAddr(i)*w, uint64(v)); err != nil {
				return 0, err
			}
		}
	}
	return uint64(r), nil
}

// Itimerval is two struct timevals; on every guest they are pairs of longs.
func readItimerval(t *kernel.Task, a mem.GuestAddr) (unix.Itimerval, error) {
	var ts [2]unix.Timespec
	if err := t.ReadTimespecs(a, ts[:]); err != nil {
		return unix.Itimerval{}, err
	}
	return unix.Itimerval{Interval: unix.Timeval{Sec: ts[0].Sec, Usec: ts[0].Nsec}, Value: unix.Timeval{Sec: ts[1].Sec, Usec: ts[1].Nsec}}, nil
}

func writeItimerval(t *kernel.Task, a mem.GuestAddr, v unix.Itimerval) error {
	w := mem.GuestAddr(2 * t.WordSize())
	if err := t.WriteTimespec(a, unix.Timespec{Sec: v.Interval.Sec, Nsec: v.Interval.Usec}); err != nil {
		return err
	}
	return t.WriteTimespec(a+w, unix.Timespec{Sec: v.Value.Sec, Nsec: v.Value.Usec})
}

func getitimer(t *kernel.Task, a kernel.Args) (uint64, error) {
	var v unix.Itimerval
	if _, _, e := unix.Syscall(unix.SYS_GETITIMER, uintptr(a.Int(0)), uintptr(kernel.UnsafePointer(&v)), 0); e != 0 {
		return 0, e
	}
	return 0, writeItimerval(t, a.Addr(1), v)
}

// The host's interval timers run for the guest: their signals reach xemu,
// which catches every signal for the guest (kernel.catchHostSignals).
func setitimer(t *kernel.Task, a kernel.Args) (uint64, error) {
	var nv, old unix.Itimerval
	if a.Addr(1) != 0 {
		var err error
		if nv, err = readItimerval(t, a.Addr(1)); err != nil {
			return 0, err
		}
	}
	if _, _, e := unix.Syscall(unix.SYS_SETITIMER, uintptr(a.Int(0)), uintptr(kernel.UnsafePointer(&nv)), uintptr(kernel.UnsafePointer(&old))); e != 0 {
		return 0, e
	}
	if a.Addr(2) != 0 {
		return 0, writeItimerval(t, a.Addr(2), old)
	}
	return 0, nil
}
