package cpu

// #include "hostsig.h"
import "C"

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// HostSignal is a signal the host delivered to xemu for the guest: the
// thread that received it and its siginfo, in the host's (x86-64) layout,
// which is the generic 64-bit one AArch64 also uses.
type HostSignal struct {
	TID  int
	Info [128]byte
}

// CatchSignal routes host signal sig to the ring NextHostSignal reads, with
// a handler installed without SA_RESTART (a blocking call is interrupted).
// Faults of xemu itself still reach the handler that was there before.
func CatchSignal(sig unix.Signal) error {
	if r, err := C.xemu_catch_signal(C.int(sig)); r != 0 {
		return err
	}
	return nil
}

// ReleaseSignal puts back the handler CatchSignal replaced.
func ReleaseSignal(sig unix.Signal) { C.xemu_release_signal(C.int(sig)) }

// ChildReaping says how ended children go: kept as zombies for wait
// (ChildrenWaited), or reaped by the host at once with SIGCHLD still caught
// (ChildrenNoWait, SA_NOCLDWAIT) or not sent (ChildrenIgnored, SIG_IGN), as
// the guest's SIGCHLD disposition asks of its kernel. ChildStopsUnreported
// may be added to any of them (SA_NOCLDSTOP).
type ChildReaping int

const (
	ChildrenWaited ChildReaping = iota
	ChildrenNoWait
	ChildrenIgnored

	ChildStopsUnreported ChildReaping = 4
)

func SetChildReaping(m ChildReaping) error {
	if C.xemu_child_reaping(C.int(m)) != 0 {
		return unix.EINVAL
	}
	return nil
}

// SetSignalWakeFD names the descriptor (a pipe's write end) that gets a byte
// for every caught signal.
func SetSignalWakeFD(fd int) { C.xemu_set_wake_fd(C.int(fd)) }

// NextHostSignal takes the oldest caught signal.
func NextHostSignal() (HostSignal, bool) {
	var c C.xemu_hostsig
	if C.xemu_next_hostsig(&c) == 0 {
		return HostSignal{}, false
	}
	s := HostSignal{TID: int(c.tid)}
	copy(s.Info[:], unsafe.Slice((*byte)(unsafe.Pointer(&c.info[0])), 128))
	return s, true
}

// HostSignalsDropped counts signals lost because the ring was full.
func HostSignalsDropped() uint64 { return uint64(C.xemu_hostsig_dropped()) }

// KickThread makes a blocking system call of host thread tid return EINTR.
func KickThread(tid int) error {
	if r, err := C.xemu_kick_thread(C.int(tid)); r != 0 {
		return err
	}
	return nil
}

// SetSignalTarget names the engine that every caught signal stops at its
// next safe point, straight from the signal handler (nil: none). The engine
// must stay open until the target is cleared; once this returns, no handler
// uses the previous target any more.
func SetSignalTarget(e *Engine) {
	if e == nil {
		C.xemu_set_signal_target(nil)
		return
	}
	C.xemu_set_signal_target(unsafe.Pointer(e.c))
}

// StartedBlocked reports whether xemu started with every catchable signal
// blocked, as a fork child and an xemu started by a guest's execve do: the
// signals pending then are in the ring, and the caller unblocks them once
// the guest's handlers are in place.
func StartedBlocked() bool { return C.xemu_started_blocked() != 0 }

// SetSignalMask sets the calling thread's host signal mask (bit n-1 for
// signal n, all 64) and returns the one it had.
func SetSignalMask(mask uint64) uint64 { return uint64(C.xemu_set_sigmask(C.uint64_t(mask))) }

// QueueSelf makes signal sig pending on the calling thread with siginfo
// info (the host's 128-byte layout): blocked, it stays pending across
// execve, as Linux keeps a process's pending signals.
func QueueSelf(sig int, info []byte) error {
	if len(info) < 128 {
		return unix.EINVAL
	}
	if r := C.xemu_queue_self(C.int(sig), unsafe.Pointer(&info[0])); r < 0 {
		return unix.Errno(-r)
	}
	return nil
}
