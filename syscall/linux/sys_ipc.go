package linux

import (
	"encoding/binary"
	"unsafe"

	"xemu/syscall/abi"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// System V semaphores and message queues are the host's own objects, so
// native processes and other guests share them; only what the guest passes
// in memory is translated (ARM's 32-bit layouts, struct msgbuf's long
// mtype). Layouts and the IPC_64 convention come from ABI.IPC.
//
// Host calls take pointers to Go memory inline in the unix.Syscall call
// expression, so that the memory stays put and alive for the call.

// ipcCommand takes the version flag off a ctl command: old reports a 32-bit
// ARM command without IPC_64, which would pass the pre-2.4 structures
// (struct ipc_perm with 16-bit ids) that xemu does not translate.
func ipcCommand(t *kernel.Task, cmd int) (c int, old bool) {
	v := t.P.ABI.IPC.Version64
	if v == 0 {
		return cmd, false
	}
	return cmd &^ v, cmd&v == 0
}

func semget(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, _, e := unix.Syscall(unix.SYS_SEMGET, uintptr(a.Int(0)), uintptr(a.Int(1)), uintptr(a.Int(2)))
	return uint64(r), kernel.ErrOf(e)
}

func semop(t *kernel.Task, a kernel.Args) (uint64, error) {
	return doSemtimedop(t, a, false)
}

func semtimedop(t *kernel.Task, a kernel.Args) (uint64, error) {
	return doSemtimedop(t, a, true)
}

// doSemtimedop checks as ipc/sem.c does before it copies the operations:
// EINVAL for none, E2BIG for more than semopm.
func doSemtimedop(t *kernel.Task, a kernel.Args, timed bool) (uint64, error) {
	id, nsops := a.Int(0), a.Uint(2)
	if nsops < 1 || id < 0 {
		return 0, unix.EINVAL
	}
	if nsops > 500 { // SEMOPM, below which no limit is looked up
		var si abi.Seminfo
		if _, _, e := unix.Syscall6(unix.SYS_SEMCTL, 0, 0, abi.IPC_INFO, uintptr(unsafe.Pointer(&si)), 0, 0); e != 0 || nsops > uint32(si.Semopm) {
			return 0, unix.E2BIG
		}
	}
	sops := make([]byte, uint64(nsops)*abi.SembufSize)
	if err := t.CopyIn(a.Addr(1), sops); err != nil {
		return 0, err
	}
	var ts *unix.Timespec
	if timed && a.Addr(3) != 0 {
		var tv [1]unix.Timespec
		if err := t.ReadTimespecs(a.Addr(3), tv[:]); err != nil {
			return 0, err
		}
		ts = &tv[0]
	}
	_, _, e := unix.Syscall6(unix.SYS_SEMTIMEDOP, uintptr(id), uintptr(unsafe.Pointer(&sops[0])), uintptr(nsops), uintptr(unsafe.Pointer(ts)), 0, 0)
	return 0, kernel.ErrOf(e)
}

// semctl's fourth argument is union semun: an int (SETVAL, its low half on
// a 64-bit little-endian kernel) or a pointer, by command.
func semctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, num, arg := a.Int(0), a.Int(1), a.U64(3)
	cmd, old := ipcCommand(t, a.Int(2))
	l := t.P.ABI.IPC
	host := func(cmd int, p unsafe.Pointer) (uint64, error) {
		r, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), uintptr(num), uintptr(cmd), uintptr(p), 0, 0)
		return uint64(r), kernel.ErrOf(e)
	}
	switch cmd {
	case abi.IPC_RMID, abi.GETPID, abi.GETVAL, abi.GETNCNT, abi.GETZCNT:
		return host(cmd, nil)
	case abi.SETVAL:
		r, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), uintptr(num), abi.SETVAL, uintptr(uint32(arg)), 0, 0)
		return uint64(r), kernel.ErrOf(e)
	case abi.IPC_INFO, abi.SEM_INFO:
		si := new(abi.Seminfo)
		r, err := host(cmd, unsafe.Pointer(si))
		if err != nil {
			return 0, err
		}
		return r, kernel.CopyOutStruct(t, mem.GuestAddr(arg), si)
	case abi.IPC_STAT, abi.SEM_STAT, abi.SEM_STAT_ANY:
		if old {
			return 0, unix.EINVAL
		}
		ds := new(abi.HostSemid64DS)
		r, err := host(cmd, unsafe.Pointer(ds))
		if err != nil {
			return 0, err
		}
		return r, t.CopyOut(mem.GuestAddr(arg), l.SemidOut(ds))
	case abi.IPC_SET:
		if old {
			return 0, unix.EINVAL
		}
		b := make([]byte, l.SemidSize)
		if err := t.CopyIn(mem.GuestAddr(arg), b); err != nil {
			return 0, err
		}
		ds := l.SemidIn(b)
		return host(cmd, unsafe.Pointer(&ds))
	case abi.GETALL, abi.SETALL:
		// The array is sem_nsems unsigned shorts.
		ds := new(abi.HostSemid64DS)
		if _, err := host(abi.IPC_STAT, unsafe.Pointer(ds)); err != nil {
			return 0, err
		}
		vals := make([]byte, 2*ds.Nsems)
		if cmd == abi.SETALL {
			if err := t.CopyIn(mem.GuestAddr(arg), vals); err != nil {
				return 0, err
			}
			return host(cmd, unsafe.Pointer(&vals[0]))
		}
		if _, err := host(cmd, unsafe.Pointer(&vals[0])); err != nil {
			return 0, err
		}
		return 0, t.CopyOut(mem.GuestAddr(arg), vals)
	}
	return 0, unix.EINVAL
}

func msgget(t *kernel.Task, a kernel.Args) (uint64, error) {
	r, _, e := unix.Syscall(unix.SYS_MSGGET, uintptr(a.Int(0)), uintptr(a.Int(1)), 0)
	return uint64(r), kernel.ErrOf(e)
}

// msgMax is the host's msg_ctlmax, the largest message; sizes above
// MSGMAX's default are checked against it before anything is copied.
func msgMax(size uint64) uint64 {
	if size <= 8192 {
		return 8192
	}
	mi := new(abi.Msginfo)
	if _, _, e := unix.Syscall(unix.SYS_MSGCTL, 0, abi.IPC_INFO, uintptr(unsafe.Pointer(mi))); e != 0 {
		return 8192
	}
	return uint64(mi.Msgmax)
}

// getMtype reads struct msgbuf's mtype: a long, sign-extended from a
// 32-bit guest's as compat_ksys_msgsnd does.
func getMtype(t *kernel.Task, a kernel.Args) (int64, error) {
	v, err := t.GetWord(a.Addr(1))
	if t.P.ABI.IPC.MtypeSize == 4 {
		return int64(int32(v)), err
	}
	return int64(v), err
}

func msgsnd(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, size := a.Int(0), a.U64(2)
	mtype, err := getMtype(t, a)
	if err != nil {
		return 0, err
	}
	if id < 0 || size > uint64(t.LongMax()) || size > msgMax(size) || mtype < 1 {
		return 0, unix.EINVAL
	}
	buf := make([]byte, 8+size)
	binary.LittleEndian.PutUint64(buf, uint64(mtype))
	if err := t.CopyIn(a.Addr(1)+mem.GuestAddr(t.P.ABI.IPC.MtypeSize), buf[8:]); err != nil {
		return 0, err
	}
	_, _, e := unix.Syscall6(unix.SYS_MSGSND, uintptr(id), uintptr(unsafe.Pointer(&buf[0])), uintptr(size), uintptr(a.Int(3)), 0, 0)
	return 0, kernel.ErrOf(e)
}

// msgrcv receives into host memory and copies the message out with the
// guest's mtype: a message the guest cannot take is lost, as on Linux,
// whose store_msg fails after the message left the queue.
func msgrcv(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, size, typ, flags := a.Int(0), a.U64(2), a.I64(3), a.Int(4)
	if id < 0 || size > uint64(t.LongMax()) {
		return 0, unix.EINVAL
	}
	// No message is longer than msg_ctlmax: a larger buffer is not needed.
	size = min(size, msgMax(size))
	buf := make([]byte, 8+size)
	n, _, e := unix.Syscall6(unix.SYS_MSGRCV, uintptr(id), uintptr(unsafe.Pointer(&buf[0])), uintptr(size), uintptr(typ), uintptr(flags), 0)
	if e != 0 {
		return 0, e
	}
	w := t.P.ABI.IPC.MtypeSize
	out := buf[8-w : 8+n]
	mtype := binary.LittleEndian.Uint64(buf)
	if w == 4 {
		binary.LittleEndian.PutUint32(out, uint32(mtype))
	} else {
		binary.LittleEndian.PutUint64(out, mtype)
	}
	return uint64(n), t.CopyOut(a.Addr(1), out)
}

func msgctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	id, arg := a.Int(0), a.Addr(2)
	cmd, old := ipcCommand(t, a.Int(1))
	l := t.P.ABI.IPC
	host := func(cmd int, p unsafe.Pointer) (uint64, error) {
		r, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(id), uintptr(cmd), uintptr(p))
		return uint64(r), kernel.ErrOf(e)
	}
	switch cmd {
	case abi.IPC_RMID:
		return host(cmd, nil)
	case abi.IPC_INFO, abi.MSG_INFO:
		mi := new(abi.Msginfo)
		r, err := host(cmd, unsafe.Pointer(mi))
		if err != nil {
			return 0, err
		}
		return r, kernel.CopyOutStruct(t, arg, mi)
	case abi.IPC_STAT, abi.MSG_STAT, abi.MSG_STAT_ANY:
		if old {
			return 0, unix.EINVAL
		}
		ds := new(abi.Msqid64DS)
		r, err := host(cmd, unsafe.Pointer(ds))
		if err != nil {
			return 0, err
		}
		return r, t.CopyOut(arg, l.MsqidOut(ds))
	case abi.IPC_SET:
		if old {
			return 0, unix.EINVAL
		}
		b := make([]byte, l.MsqidSize)
		if err := t.CopyIn(arg, b); err != nil {
			return 0, err
		}
		ds := l.MsqidIn(b)
		return host(cmd, unsafe.Pointer(&ds))
	}
	return 0, unix.EINVAL
}

func init() {
	kernel.AddEntries(map[string]*kernel.Entry{
		"semget": {Fn: semget, Args: kernel.Kinds(kernel.KInt, kernel.KInt, kernel.KHex)},
		// Linux's semop answers a signal with EINTR; xemu restarts it when
		// no handler runs (a stop and continue), as msgsnd and msgrcv are.
		"semop":      {Restart: kernel.ERESTARTNOHAND, Fn: semop, Args: kernel.Kinds(kernel.KInt, kernel.KPtr, kernel.KUint)},
		"semtimedop": {Restart: kernel.ERESTARTNOHAND, Fn: semtimedop, Args: kernel.Kinds(kernel.KInt, kernel.KPtr, kernel.KUint, kernel.KPtr)},
		"semctl": {Fn: semctl, Args: kernel.Kinds(kernel.KInt, kernel.KInt, kernel.KInt, kernel.KHex),
			Support: kernel.Partial, Note: "32-bit ARM structures without IPC_64 (pre-2.4 layouts) are refused"},
		"msgget": {Fn: msgget, Args: kernel.Kinds(kernel.KInt, kernel.KHex)},
		"msgsnd": {Restart: kernel.ERESTARTNOHAND, Fn: msgsnd, Args: kernel.Kinds(kernel.KInt, kernel.KPtr, kernel.KULong, kernel.KHex)},
		"msgrcv": {Restart: kernel.ERESTARTNOHAND, Fn: msgrcv, Args: kernel.Kinds(kernel.KInt, kernel.KPtr, kernel.KULong, kernel.KLong, kernel.KHex)},
		"msgctl": {Fn: msgctl, Args: kernel.Kinds(kernel.KInt, kernel.KInt, kernel.KPtr),
			Support: kernel.Partial, Note: "32-bit ARM structures without IPC_64 (pre-2.4 layouts) are refused"},
	})
}
