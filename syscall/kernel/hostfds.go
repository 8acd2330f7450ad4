package kernel

import (
	"time"

	"golang.org/x/sys/unix"
)

// hostFDBase is where the emulator's own descriptors go: the Go runtime's
// poller (which timers open lazily) must not take 3 and 4, which guests and
// shell scripts expect to be theirs.
const hostFDBase = 1000

// ReservedFDFloor: every descriptor xemu keeps for itself is at or above
// it (cmd/xemu puts its copies of stderr and the strace log at 900 and up,
// the kernel the rest at hostFDBase and up).
const ReservedFDFloor = 900

// runtimeFDs are the descriptors the Go runtime opened for itself.
var runtimeFDs []int

// PrepareHost makes the Go runtime open its poller now, above hostFDBase, by
// filling every free descriptor below it for the moment of the opening.
func PrepareHost() {
	base := hostFDBase
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur < uint64(base)+32 {
		base = max(int(lim.Cur)-32, 10)
	}
	before := openFDs(base + 64)
	placeholder, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	var filled []int
	for fd := 3; fd < base; fd++ {
		if before[fd] || fd == placeholder {
			continue
		}
		if unix.Dup3(placeholder, fd, unix.O_CLOEXEC) == nil {
			filled = append(filled, fd)
		}
	}
	// Any timer makes the runtime create its epoll instance and eventfd.
	time.AfterFunc(time.Hour, func() {}).Stop()
	for _, fd := range filled {
		unix.Close(fd)
	}
	unix.Close(placeholder)
	for fd := range openFDs(base + 64) {
		if !before[fd] && fd >= base {
			runtimeFDs = append(runtimeFDs, fd)
		}
	}
}

// openFDs lists the open descriptors below n.
func openFDs(n int) map[int]bool {
	open := map[int]bool{}
	for fd := 0; fd < n; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			open[fd] = true
		}
	}
	return open
}
