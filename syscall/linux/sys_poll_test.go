package linux

import (
	"testing"
	"unsafe"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/loader"
)

// TestEpollEventLayout pins struct epoll_event: 16 bytes with the data at 8
// on ARM and AArch64, 12 packed bytes with the data at 4 on x86-64
// (include/uapi/linux/eventpoll.h, EPOLL_PACKED).
func TestEpollEventLayout(t *testing.T) {
	var g epollEvent
	var h hostEpollEvent
	if unsafe.Sizeof(g) != 16 || unsafe.Offsetof(g.Data) != 8 {
		t.Errorf("guest epoll_event: %d bytes, data at %d", unsafe.Sizeof(g), unsafe.Offsetof(g.Data))
	}
	if unsafe.Sizeof(h) != 12 || unsafe.Offsetof(h.Data) != 4 || unsafe.Sizeof(h) != unsafe.Sizeof(unix.EpollEvent{}) {
		t.Errorf("host epoll_event: %d bytes, data at %d", unsafe.Sizeof(h), unsafe.Offsetof(h.Data))
	}
	g = epollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Data: 0x0123456789abcdef}
	h = g.host()
	// The x/sys/unix view of the same bytes: the data's low half is Fd.
	u := *(*unix.EpollEvent)(unsafe.Pointer(&h))
	if u.Events != g.Events || uint32(u.Fd) != 0x89abcdef || uint32(u.Pad) != 0x01234567 {
		t.Errorf("host event %+v", u)
	}
	if h.guest() != g {
		t.Errorf("round trip: %+v", h.guest())
	}
}

// TestEpollPwait2 runs epoll_pwait2, which qemu-user 7.2 lacks, so the guest
// programs cannot compare it. Its timeout is a __kernel_timespec on every
// ABI.
func TestEpollPwait2(t *testing.T) {
	for name, machine := range guestArches {
		t.Run(name, func(t *testing.T) {
			task, scratch := testTask(t, machine)
			task.Time64 = true
			ep, err := unix.EpollCreate1(0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(ep)
			var p [2]int
			if err := unix.Pipe(p[:]); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[0])
			defer unix.Close(p[1])
			ev := epollEvent{Events: unix.EPOLLIN, Data: 0xfedcba9876543210}
			kernel.CopyOutStruct(task, scratch, &ev)
			if _, err := epollCtl(task, kernel.Args{uint64(ep), unix.EPOLL_CTL_ADD, uint64(p[0]), uint64(scratch)}); err != nil {
				t.Fatal(err)
			}
			ts := scratch + 64
			events := scratch + 128
			task.CopyOut(ts, make([]byte, 16))
			if n, err := epollPwait2(task, kernel.Args{uint64(ep), uint64(events), 4, uint64(ts), 0, 0}); n != 0 || err != nil {
				t.Errorf("nothing ready: %d %v", n, err)
			}
			unix.Write(p[1], []byte("x"))
			if n, err := epollPwait2(task, kernel.Args{uint64(ep), uint64(events), 4, 0, 0, 0}); n != 1 || err != nil {
				t.Fatalf("ready, no timeout: %d %v", n, err)
			}
			var got epollEvent
			kernel.CopyInStruct(task, events, &got)
			if got != ev {
				t.Errorf("event %+v, want %+v", got, ev)
			}
			task.CopyOut(ts, append(make([]byte, 8), 0x00, 0xca, 0x9a, 0x3b, 0, 0, 0, 0)) // tv_nsec 1e9
			if _, err := epollPwait2(task, kernel.Args{uint64(ep), uint64(events), 4, uint64(ts), 0, 0}); err != unix.EINVAL {
				t.Errorf("tv_nsec 1e9: %v, want EINVAL", err)
			}
			if _, err := epollPwait2(task, kernel.Args{uint64(ep), uint64(events), 4, 8, 0, 0}); err != unix.EFAULT {
				t.Errorf("unmapped timeout: %v, want EFAULT", err)
			}
			if _, err := epollPwait2(task, kernel.Args{uint64(ep), uint64(events), 4, 0, uint64(scratch), 4}); err != unix.EINVAL {
				t.Errorf("4-byte sigset: %v, want EINVAL", err)
			}
		})
	}
}

// TestPollErrorsQemuGetsWrong covers what qemu-user 7.2 does differently
// from Linux, so the guest programs leave it out.
func TestPollErrorsQemuGetsWrong(t *testing.T) {
	task, scratch := testTask(t, loader.EMAArch64)
	if _, err := timerfdCreate(task, kernel.Args{unix.CLOCK_MONOTONIC, 0x10}); err != unix.EINVAL {
		t.Errorf("timerfd_create with a bad flag: %v, want EINVAL", err)
	}
	sv, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sv[0])
	defer unix.Close(sv[1])
	// recvmmsg with an invalid timeout is EINVAL before anything is read
	// (qemu-user waits forever).
	task.CopyOut(scratch, guestWords(8, 0, 2e9))
	if _, err := recvmmsg(task, kernel.Args{uint64(sv[1]), uint64(scratch + 64), 1, 0, uint64(scratch)}); err != unix.EINVAL {
		t.Errorf("recvmmsg with tv_nsec 2e9: %v, want EINVAL", err)
	}
}

// TestSelectWordSize: an fd_set is read and written in the guest's longs,
// no further.
func TestSelectWordSize(t *testing.T) {
	for name, machine := range guestArches {
		t.Run(name, func(t *testing.T) {
			task, scratch := testTask(t, machine)
			var p [2]int
			if err := unix.Pipe(p[:]); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[0])
			defer unix.Close(p[1])
			unix.Write(p[1], []byte("x"))
			// An fd_set at the very end of the mapping, as long as n needs.
			n := p[0] + 1
			w := int(task.WordSize())
			size := (n + 8*w - 1) / (8 * w) * w
			end := scratch + 16*mem.PageSize
			set := end - mem.GuestAddr(size)
			b := make([]byte, size)
			b[p[0]/8] |= 1 << (p[0] % 8)
			task.CopyOut(set, b)
			ts := scratch
			task.CopyOut(ts, guestWords(w, 0, 0))
			r, err := pselect6(task, kernel.Args{uint64(n), uint64(set), 0, 0, uint64(ts), 0})
			if r != 1 || err != nil {
				t.Fatalf("pselect6: %d %v", r, err)
			}
			task.CopyIn(set, b)
			if b[p[0]/8]&(1<<(p[0]%8)) == 0 {
				t.Errorf("descriptor %d not reported ready: %x", p[0], b)
			}
		})
	}
}

// TestOldWaits runs ARM's poll and _newselect, which glibc no longer calls
// (it uses ppoll_time64 and pselect6_time64).
func TestOldWaits(t *testing.T) {
	task, scratch := testTask(t, loader.EMARM)
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	fds := make([]byte, 16)
	kernel.PutLE32(fds, uint32(p[0]))
	fds[4] = unix.POLLIN
	kernel.PutLE32(fds[8:], uint32(p[1]))
	fds[12] = unix.POLLOUT
	task.CopyOut(scratch, fds)
	if n, err := poll(task, kernel.Args{uint64(scratch), 2, 0}); n != 1 || err != nil {
		t.Fatalf("poll: %d %v", n, err)
	}
	task.CopyIn(scratch, fds)
	if fds[6] != 0 || fds[14] != unix.POLLOUT {
		t.Errorf("revents %#x %#x", fds[6], fds[14])
	}

	unix.Write(p[1], []byte("x"))
	set := scratch + 64
	tv := scratch + 128
	task.CopyOut(set, guestWords(4, 1<<p[0]))
	task.CopyOut(tv, guestWords(4, 5, 0))
	if n, err := newselect(task, kernel.Args{uint64(p[0] + 1), uint64(set), 0, 0, uint64(tv)}); n != 1 || err != nil {
		t.Fatalf("_newselect: %d %v", n, err)
	}
	left := make([]byte, 8)
	task.CopyIn(tv, left)
	if sec, usec := int32(left[0])|int32(left[1])<<8, int32(left[4])|int32(left[5])<<8|int32(left[6])<<16; sec > 5 || usec < 0 || usec >= 1e6 {
		t.Errorf("time left %d.%06d", sec, usec)
	}
	task.CopyOut(tv, guestWords(4, 0, 0xffffffff))
	if _, err := newselect(task, kernel.Args{uint64(p[0] + 1), uint64(set), 0, 0, uint64(tv)}); err != unix.EINVAL {
		t.Errorf("negative tv_usec: %v, want EINVAL", err)
	}
}
