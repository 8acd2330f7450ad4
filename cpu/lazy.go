package cpu

// #include "lazy.h"
import "C"

import (
	"golang.org/x/sys/unix"
)

// A vfork child's private memory can be read from its parent as the child
// touches it instead of being copied at the fork: the parent waits, stopped,
// until the child executes or exits. The child's private ranges are
// registered with a userfaultfd whose faults a C thread serves (a Go thread
// could not: a fault taken by Go code during a stop of the world would wait
// for a handler that waits for the world), each page read from the parent's
// /proc/PID/mem at the same arena offset and installed with UFFDIO_COPY.
// Faults taken by the kernel on the child's behalf (a read(2) into guest
// memory) are served too, which needs a userfaultfd without
// UFFD_USER_MODE_ONLY: CAP_SYS_PTRACE, vm.unprivileged_userfaultfd, or
// access to /dev/userfaultfd.

// UserfaultfdUsable says whether this process may have the userfaultfd a
// lazy vfork child needs (the child has the same credentials).
func UserfaultfdUsable() bool { return C.xemu_uffd_usable() != 0 }

// Lazy serves a vfork child's missing pages from its parent.
type Lazy struct{ c *C.xemu_lazy }

// StartLazy starts serving faults from parentMem (the parent's
// /proc/PID/mem, which Lazy takes over) at the faulting host address plus
// delta. The descriptors it opens are at fdBase or above.
func StartLazy(parentMem int, delta uintptr, fdBase int) (*Lazy, error) {
	var errno C.int32_t
	c := C.xemu_lazy_start(C.int32_t(parentMem), C.uint64_t(delta), C.int32_t(fdBase), &errno)
	if c == nil {
		return nil, unix.Errno(errno)
	}
	return &Lazy{c: c}, nil
}

// Register makes [host, host+n) fault to the parent until its pages are
// installed; none of them may be there yet.
func (l *Lazy) Register(host uintptr, n uint64) error {
	if r := int64(C.xemu_lazy_register(l.c, C.uint64_t(host), C.uint64_t(n))); r < 0 {
		return unix.Errno(-r)
	}
	return nil
}

// Fetch installs the parent's pages of [host, host+n) that are not there
// yet, where they are registered.
func (l *Lazy) Fetch(host uintptr, n uint64) error {
	if r := int64(C.xemu_lazy_fetch(l.c, C.uint64_t(host), C.uint64_t(n))); r < 0 {
		return unix.Errno(-r)
	}
	return nil
}

// Same says whether the page at host (present) holds what the parent's does.
func (l *Lazy) Same(host uintptr) bool { return C.xemu_lazy_same(l.c, C.uint64_t(host)) != 0 }

// FDs are the descriptors l holds (its userfaultfd, the eventfd that stops
// its thread, the parent's memory), until Stop.
func (l *Lazy) FDs() []int {
	var fds [3]C.int32_t
	C.xemu_lazy_fds(l.c, &fds[0])
	return []int{int(fds[0]), int(fds[1]), int(fds[2])}
}

// Pages is how many pages were installed from the parent.
func (l *Lazy) Pages() uint64 { return uint64(C.xemu_lazy_pages(l.c)) }

// Stop ends the serving thread and closes the userfaultfd and the parent's
// memory: pages never installed read as the memory below them (holes of
// the fork's snapshot: zeros).
func (l *Lazy) Stop() {
	if l.c != nil {
		C.xemu_lazy_stop(l.c)
		l.c = nil
	}
}
