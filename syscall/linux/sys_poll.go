package linux

import (
	"bufio"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"unsafe"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// Waiting for descriptors: poll, select, epoll, and the descriptors made to
// be waited on (eventfd, timerfd). The waits run as host calls on host
// descriptors; only the structures are converted.
//
// The temporary signal masks of ppoll, pselect6 and epoll_pwait are checked
// (size, readability) the way Linux checks them and installed for the call
// (kernel.Task.SetTemporaryMask). A host EINTR ends the wait with EINTR when a
// guest signal is due; otherwise it came from a signal the guest must not see
// and the wait goes on with the time left.

func init() {
	kernel.AddEntries(map[string]*kernel.Entry{
		"ppoll":         {Restart: kernel.ERESTARTNOHAND, Fn: ppoll, Args: kernel.Kinds(kernel.KPtr, kernel.KUint, kernel.KPtr, kernel.KPtr, kernel.KULong)},
		"poll":          {Restart: kernel.ERESTARTNOHAND, Fn: poll, Args: kernel.Kinds(kernel.KPtr, kernel.KUint, kernel.KInt)},
		"pselect6":      {Restart: kernel.ERESTARTNOHAND, Fn: pselect6, Args: kernel.Kinds(kernel.KInt, kernel.KPtr, kernel.KPtr, kernel.KPtr, kernel.KPtr, kernel.KPtr)},
		"_newselect":    {Restart: kernel.ERESTARTNOHAND, Fn: newselect, Args: kernel.Kinds(kernel.KInt, kernel.KPtr, kernel.KPtr, kernel.KPtr, kernel.KPtr)},
		"epoll_create":  {NewFD: true, Fn: epollCreate, Args: kernel.Kinds(kernel.KInt)},
		"epoll_create1": {NewFD: true, Fn: epollCreate1, Args: kernel.Kinds(kernel.KOpenFlags)},
		"epoll_ctl":     {Fn: epollCtl, Args: kernel.Kinds(kernel.KFD, kernel.KInt, kernel.KFD, kernel.KPtr)},
		"epoll_wait":    {Restart: kernel.ERESTARTNOHAND, Fn: epollWait, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KInt, kernel.KInt)},
		"epoll_pwait":   {Restart: kernel.ERESTARTNOHAND, Fn: epollPwait, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KInt, kernel.KInt, kernel.KPtr, kernel.KULong)},
		// epoll_pwait2 came after the time64 work: every ABI passes it a __kernel_timespec.
		"epoll_pwait2":    {Restart: kernel.ERESTARTNOHAND, Fn: epollPwait2, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KInt, kernel.KPtr, kernel.KPtr, kernel.KULong), Time64: true},
		"eventfd":         {NewFD: true, Fn: eventfd, Args: kernel.Kinds(kernel.KUint)},
		"eventfd2":        {NewFD: true, Fn: eventfd2, Args: kernel.Kinds(kernel.KUint, kernel.KOpenFlags)},
		"timerfd_create":  {NewFD: true, Fn: timerfdCreate, Args: kernel.Kinds(kernel.KInt, kernel.KOpenFlags)},
		"timerfd_settime": {Fn: timerfdSettime, Args: kernel.Kinds(kernel.KFD, kernel.KHex, kernel.KPtr, kernel.KPtr)},
		"timerfd_gettime": {Fn: timerfdGettime, Args: kernel.Kinds(kernel.KFD, kernel.KPtr)},
	})
}

// sigsetSize is the kernel's sizeof(sigset_t) on every guest: 64 signals.
const sigsetSize = 8

// checkSigmaskArg checks a (sigset_t *, size) pair as set_user_sigmask does
// and installs the set as the thread's mask until the call returns.
func checkSigmaskArg(t *kernel.Task, a mem.GuestAddr, size uint64) error {
	if a == 0 {
		return nil
	}
	if size != sigsetSize {
		return unix.EINVAL
	}
	m, err := t.GetU64(a)
	if err != nil {
		return err
	}
	t.SetTemporaryMask(kernel.SigSet(m))
	return nil
}

// validTimeout is timespec64_valid plus the sign check of
// poll_select_set_timeout.
func validTimeout(ts unix.Timespec) bool {
	return ts.Sec >= 0 && ts.Nsec >= 0 && ts.Nsec < 1e9
}

// readTimeout reads an optional guest timeout: nil means wait forever.
func readTimeout(t *kernel.Task, a mem.GuestAddr) (*unix.Timespec, error) {
	if a == 0 {
		return nil, nil
	}
	var ts [1]unix.Timespec
	if err := t.ReadTimespecs(a, ts[:]); err != nil {
		return nil, err
	}
	if !validTimeout(ts[0]) {
		return nil, unix.EINVAL
	}
	return &ts[0], nil
}

// msTimeout turns a poll/epoll_wait millisecond timeout into a timespec
// (nil: a negative timeout waits forever).
func msTimeout(ms int) *unix.Timespec {
	if ms < 0 {
		return nil
	}
	ts := unix.NsecToTimespec(int64(ms) * int64(time.Millisecond))
	return &ts
}

// slicePtr is a host buffer's address for a raw host call, nil for one
// without room. Convert it to uintptr in the call's argument list, where the
// compiler keeps the buffer alive and in place.
func slicePtr[T any](s []T) unsafe.Pointer {
	if cap(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(s))
}

// pollfdSize is struct pollfd: int fd; short events, revents. The same on
// every architecture (include/uapi/asm-generic/poll.h).
const pollfdSize = 8

func ppoll(t *kernel.Task, a kernel.Args) (uint64, error) {
	ts, err := readTimeout(t, a.Addr(2))
	if err != nil {
		return 0, err
	}
	if err := checkSigmaskArg(t, a.Addr(3), a.U64(4)); err != nil {
		return 0, err
	}
	n, err := pollFDs(t, a.Addr(0), uint64(a.Uint(1)), ts)
	if ts != nil {
		// Linux reports the time left and ignores a fault doing so.
		t.WriteTimespec(a.Addr(2), *ts)
	}
	return n, err
}

func poll(t *kernel.Task, a kernel.Args) (uint64, error) {
	return pollFDs(t, a.Addr(0), uint64(a.Uint(1)), msTimeout(a.Int(2)))
}

// pollFDs runs a host ppoll on the guest's pollfd array; ts (if any) is
// left holding the time that remained, as the kernel updates it.
func pollFDs(t *kernel.Task, fdsAddr mem.GuestAddr, nfds uint64, ts *unix.Timespec) (uint64, error) {
	// do_sys_poll: more entries than RLIMIT_NOFILE (the guest's) is EINVAL.
	lim := t.P.FileLimit()
	if lim == 0 {
		var host unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_NOFILE, &host) == nil {
			lim = host.Cur
		}
	}
	if lim != 0 && nfds > lim {
		return 0, unix.EINVAL
	}
	raw := make([]byte, nfds*pollfdSize)
	if err := t.CopyIn(fdsAddr, raw); err != nil {
		return 0, err
	}
	fds := make([]unix.PollFd, nfds)
	for i := range fds {
		b := raw[i*pollfdSize:]
		fds[i] = unix.PollFd{Fd: int32(binary.LittleEndian.Uint32(b)), Events: int16(binary.LittleEndian.Uint16(b[4:]))}
	}
	var n uintptr
	for {
		var e unix.Errno
		n, _, e = unix.Syscall6(unix.SYS_PPOLL, uintptr(slicePtr(fds)), uintptr(nfds), uintptr(unsafe.Pointer(ts)), 0, 0, 0)
		if e == unix.EINTR {
			if t.SignalPending() {
				return 0, unix.EINTR
			}
			continue
		}
		if e != 0 {
			return 0, e
		}
		break
	}
	for i, fd := range fds {
		binary.LittleEndian.PutUint16(raw[i*pollfdSize+6:], uint16(fd.Revents))
	}
	return uint64(n), t.CopyOut(fdsAddr, raw)
}

func pselect6(t *kernel.Task, a kernel.Args) (uint64, error) {
	ts, err := readTimeout(t, a.Addr(4))
	if err != nil {
		return 0, err
	}
	// The sixth argument points to { const sigset_t *ss; size_t ss_len; }.
	if a.Addr(5) != 0 {
		ss, err := t.GetWord(a.Addr(5))
		if err != nil {
			return 0, err
		}
		size, err := t.GetWord(a.Addr(5) + mem.GuestAddr(t.WordSize()))
		if err != nil {
			return 0, err
		}
		if err := checkSigmaskArg(t, mem.GuestAddr(ss), size); err != nil {
			return 0, err
		}
	}
	n, err := selectFDs(t, a.Int(0), [3]mem.GuestAddr{a.Addr(1), a.Addr(2), a.Addr(3)}, ts)
	if ts != nil {
		t.WriteTimespec(a.Addr(4), *ts)
	}
	return n, err
}

// newselect is select(2) (ARM's _newselect): the timeout is a struct timeval,
// two longs like a timespec, with microseconds.
func newselect(t *kernel.Task, a kernel.Args) (uint64, error) {
	var ts *unix.Timespec
	if a.Addr(4) != 0 {
		var tv [1]unix.Timespec
		if err := t.ReadTimespecs(a.Addr(4), tv[:]); err != nil {
			return 0, err
		}
		sec, usec := tv[0].Sec, tv[0].Nsec
		if sec < 0 || usec < 0 {
			return 0, unix.EINVAL
		}
		ts = &unix.Timespec{Sec: sec + usec/1e6, Nsec: usec % 1e6 * 1e3}
	}
	n, err := selectFDs(t, a.Int(0), [3]mem.GuestAddr{a.Addr(1), a.Addr(2), a.Addr(3)}, ts)
	if ts != nil {
		t.WriteTimespec(a.Addr(4), unix.Timespec{Sec: ts.Sec, Nsec: ts.Nsec / 1e3})
	}
	return n, err
}

// fdSetSize is FD_SETSIZE: the descriptors a plain fd_set holds.
const fdSetSize = 1024

// selectFDs runs a host pselect6 on the guest's fd_sets. An fd_set is an
// array of longs with descriptor i at bit i%BITS_PER_LONG of long i/BITS_PER_LONG;
// on little-endian guests that is bit i of the bytes whatever the long's
// size, so only the number of bytes read and written depends on the guest.
func selectFDs(t *kernel.Task, n int, sets [3]mem.GuestAddr, ts *unix.Timespec) (uint64, error) {
	if n < 0 {
		return 0, unix.EINVAL
	}
	if n > fdSetSize {
		// Linux looks no further than its descriptor table.
		n = min(n, fdTableSize())
	}
	wordBits := 8 * int(t.WordSize())
	guestBytes := (n + wordBits - 1) / wordBits * (wordBits / 8)
	hostBytes := (n + 63) / 64 * 8
	var host [3][]byte
	var ptrs [3]unsafe.Pointer
	for i, a := range sets {
		if a == 0 {
			continue
		}
		host[i] = make([]byte, max(hostBytes, guestBytes))
		if err := t.CopyIn(a, host[i][:guestBytes]); err != nil {
			return 0, err
		}
		ptrs[i] = slicePtr(host[i])
	}
	var r uintptr
	for {
		var e unix.Errno
		r, _, e = unix.Syscall6(unix.SYS_PSELECT6, uintptr(n), uintptr(ptrs[0]), uintptr(ptrs[1]), uintptr(ptrs[2]), uintptr(unsafe.Pointer(ts)), 0)
		if e == unix.EINTR {
			if t.SignalPending() {
				return 0, unix.EINTR
			}
			continue
		}
		if e != 0 {
			return 0, e
		}
		break
	}
	for i, a := range sets {
		if a == 0 {
			continue
		}
		if err := t.CopyOut(a, host[i][:guestBytes]); err != nil {
			return 0, err
		}
	}
	return uint64(r), nil
}

// fdTableSize is the size of this process's descriptor table (FDSize in
// /proc/self/status), which is as far as select looks.
func fdTableSize() int {
	f, err := kernel.OpenHostProc("self/status")
	if err != nil {
		return fdSetSize
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "FDSize:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return fdSetSize
}

// epollEvent is struct epoll_event as ARM and AArch64 lay it out: natural
// alignment puts the 64-bit data at offset 8, 16 bytes in all
// (include/uapi/linux/eventpoll.h; only x86-64 packs it).
type epollEvent struct {
	Events uint32
	_      uint32
	Data   uint64
}

// hostEpollEvent is x86-64's packed struct epoll_event: 12 bytes, the data
// at offset 4 (EPOLL_PACKED in include/uapi/linux/eventpoll.h).
type hostEpollEvent struct {
	Events uint32
	Data   [2]uint32
}

func (e epollEvent) host() hostEpollEvent {
	return hostEpollEvent{Events: e.Events, Data: [2]uint32{uint32(e.Data), uint32(e.Data >> 32)}}
}

func (h hostEpollEvent) guest() epollEvent {
	return epollEvent{Events: h.Events, Data: uint64(h.Data[0]) | uint64(h.Data[1])<<32}
}

const (
	epollCtlDel = 2
	// epollMaxEvents is the kernel's EP_MAX_EVENTS for the guest's struct.
	epollMaxEvents = (1<<31 - 1) / int(unsafe.Sizeof(epollEvent{}))
	// epollBatch bounds one host wait; epoll hands out at most maxevents, and
	// events not handed out stay ready for the next wait.
	epollBatch = 1024
)

func epollCreate(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.Int(0) <= 0 {
		return 0, unix.EINVAL
	}
	fd, err := unix.EpollCreate1(0)
	return uint64(fd), err
}

func epollCreate1(t *kernel.Task, a kernel.Args) (uint64, error) {
	// EPOLL_CLOEXEC is O_CLOEXEC, the same on ARM, AArch64 and x86-64.
	fd, err := unix.EpollCreate1(a.Int(0))
	return uint64(fd), err
}

func epollCtl(t *kernel.Task, a kernel.Args) (uint64, error) {
	epfd, op, fd := a.FD(0), a.Int(1), a.FD(2)
	var ev hostEpollEvent
	var evp uintptr
	if op != epollCtlDel {
		var g epollEvent
		if err := kernel.CopyInStruct(t, a.Addr(3), &g); err != nil {
			return 0, err
		}
		ev = g.host()
		evp = uintptr(unsafe.Pointer(&ev))
	}
	if err := t.CheckFD(epfd); err != nil {
		return 0, err
	}
	if err := t.CheckFD(fd); err != nil {
		return 0, err
	}
	_, _, e := unix.Syscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), evp, 0, 0)
	return 0, kernel.ErrOf(e)
}

func epollWait(t *kernel.Task, a kernel.Args) (uint64, error) {
	return doEpollWait(t, a.FD(0), a.Addr(1), a.Int(2), msTimeout(a.Int(3)))
}

func epollPwait(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := checkSigmaskArg(t, a.Addr(4), a.U64(5)); err != nil {
		return 0, err
	}
	return doEpollWait(t, a.FD(0), a.Addr(1), a.Int(2), msTimeout(a.Int(3)))
}

func epollPwait2(t *kernel.Task, a kernel.Args) (uint64, error) {
	ts, err := readTimeout(t, a.Addr(3))
	if err != nil {
		return 0, err
	}
	if err := checkSigmaskArg(t, a.Addr(4), a.U64(5)); err != nil {
		return 0, err
	}
	return doEpollWait(t, a.FD(0), a.Addr(1), a.Int(2), ts)
}

// epollWait waits with a host epoll_pwait2 (nil ts: forever) and converts
// the events to the guest's layout.
func doEpollWait(t *kernel.Task, epfd int, events mem.GuestAddr, maxEvents int, ts *unix.Timespec) (uint64, error) {
	if maxEvents <= 0 || maxEvents > epollMaxEvents {
		return 0, unix.EINVAL
	}
	if err := t.CheckFD(epfd); err != nil {
		return 0, err
	}
	n := min(maxEvents, epollBatch)
	size := uint64(unsafe.Sizeof(epollEvent{}))
	// Check the buffer before waiting: events handed out are gone from an
	// edge-triggered or one-shot descriptor.
	if err := t.P.Mem.Check(events, uint64(n)*size, mem.ProtWrite); err != nil {
		return 0, err
	}
	host := make([]hostEpollEvent, n)
	var deadline time.Time
	if ts != nil {
		deadline = time.Now().Add(time.Duration(ts.Nano()))
	}
	var r uintptr
	for {
		var e unix.Errno
		r, _, e = unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(epfd), uintptr(slicePtr(host)), uintptr(n), uintptr(unsafe.Pointer(ts)), 0, 0)
		if e == unix.EINTR {
			if t.SignalPending() {
				return 0, unix.EINTR
			}
			if ts != nil {
				*ts = unix.NsecToTimespec(max(int64(time.Until(deadline)), 0))
			}
			continue
		}
		if e != 0 {
			return 0, e
		}
		break
	}
	out := make([]byte, 0, int(r)*int(size))
	for _, h := range host[:r] {
		g := h.guest()
		out = append(out, kernel.AsBytes(&g)...)
	}
	return uint64(r), t.CopyOut(events, out)
}

func eventfd(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, err := unix.Eventfd(uint(a.Uint(0)), 0)
	return uint64(fd), err
}

func eventfd2(t *kernel.Task, a kernel.Args) (uint64, error) {
	// EFD_CLOEXEC and EFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK, EFD_SEMAPHORE
	// is 1: the same on ARM, AArch64 and x86-64.
	fd, err := unix.Eventfd(uint(a.Uint(0)), a.Int(1))
	return uint64(fd), err
}

func timerfdCreate(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, err := unix.TimerfdCreate(a.Int(0), a.Int(1))
	return uint64(fd), err
}

// struct itimerspec is two struct timespecs: it_interval, then it_value.
func readItimerspec(t *kernel.Task, a mem.GuestAddr) (unix.ItimerSpec, error) {
	var ts [2]unix.Timespec
	if err := t.ReadTimespecs(a, ts[:]); err != nil {
		return unix.ItimerSpec{}, err
	}
	return unix.ItimerSpec{Interval: ts[0], Value: ts[1]}, nil
}

func writeItimerspec(t *kernel.Task, a mem.GuestAddr, v unix.ItimerSpec) error {
	if err := t.WriteTimespec(a, v.Interval); err != nil {
		return err
	}
	return t.WriteTimespec(a+mem.GuestAddr(t.TimespecSize()), v.Value)
}

func timerfdSettime(t *kernel.Task, a kernel.Args) (uint64, error) {
	nv, err := readItimerspec(t, a.Addr(2))
	if err != nil {
		return 0, err
	}
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	var old unix.ItimerSpec
	if err := unix.TimerfdSettime(a.FD(0), a.Int(1), &nv, &old); err != nil {
		return 0, err
	}
	if a.Addr(3) != 0 {
		return 0, writeItimerspec(t, a.Addr(3), old)
	}
	return 0, nil
}

func timerfdGettime(t *kernel.Task, a kernel.Args) (uint64, error) {
	var cur unix.ItimerSpec
	if err := unix.TimerfdGettime(a.FD(0), &cur); err != nil {
		return 0, err
	}
	return 0, writeItimerspec(t, a.Addr(1), cur)
}
