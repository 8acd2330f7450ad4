package kernel

import (
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// hostFDBase is where the emulator's own descriptors go: the Go runtime's
// poller (which timers open lazily) must not take 3 and 4, which guests and
// shell scripts expect to be theirs. The cpu package grows the descriptor
// table past it before the runtime starts its threads (cpu/fdtable.c).
const hostFDBase = 1000

// ReservedFDFloor: every descriptor xemu keeps for itself is at or above
// it (cmd/xemu puts its copies of stderr and the strace log at 900 and up,
// the kernel the rest at hostFDBase and up).
const ReservedFDFloor = 900

// runtimeFDs are the descriptors the Go runtime opened for itself.
var runtimeFDs []int

// PrepareHost readies the host process, first thing: one Go processor while
// the guest has one thread (procs.go), and the Go runtime's poller opened
// now, above hostFDBase, by filling every free descriptor below it for the
// moment of the opening.
func PrepareHost() {
	singleProc()
	base, scan := hostFDBase, hostFDBase+64
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil {
		if lim.Cur < uint64(base)+32 {
			base = max(int(lim.Cur)-32, 10)
		}
		// poll takes no more descriptors than the limit.
		scan = min(scan, int(lim.Cur))
	}
	placeholder, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	mine := []int{placeholder}
	// Where the runtime's descriptors are looked for: above the base once
	// every free descriptor below it is filled, anywhere otherwise.
	from := 0
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		mine = append(mine, pair[0], pair[1])
		var free int
		for _, open := range openFDs(3, base) {
			if !open {
				free++
			}
		}
		filled := duplicateInto(pair, placeholder, free)
		mine = append(mine, filled...)
		if len(filled) == free {
			from = base
		}
	}
	before := openFDs(from, scan)
	// Any timer makes the runtime create its epoll instance and eventfd.
	time.AfterFunc(time.Hour, func() {}).Stop()
	after := openFDs(from, scan)
	closeFDs(mine)
	for i := range after {
		if after[i] && !before[i] {
			runtimeFDs = append(runtimeFDs, from+i)
		}
	}
}

// maxRightsPerMessage is SCM_MAX_FD (include/net/scm.h): the most descriptors
// one SCM_RIGHTS message carries.
const maxRightsPerMessage = 253

// duplicateInto makes n copies of fd in the lowest free descriptors and
// returns them. Each copy a received SCM_RIGHTS message installs takes the
// lowest free descriptor, as dup does, but a message carries up to 253 of
// them: a handful of system calls instead of one per descriptor.
func duplicateInto(pair [2]int, fd, n int) []int {
	var got []int
	oob := make([]byte, unix.CmsgSpace(4*maxRightsPerMessage))
	for n > 0 {
		k := min(n, maxRightsPerMessage)
		if unix.Sendmsg(pair[0], []byte{0}, unix.UnixRights(slices.Repeat([]int{fd}, k)...), nil, 0) != nil {
			break
		}
		_, oobn, _, _, err := unix.Recvmsg(pair[1], make([]byte, 1), oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			break
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			break
		}
		received := 0
		for _, m := range msgs {
			fds, err := unix.ParseUnixRights(&m)
			if err == nil {
				got = append(got, fds...)
				received += len(fds)
			}
		}
		if received == 0 {
			break
		}
		n -= received
	}
	return got
}

// openFDs says which descriptors of [from, to) are open, with one poll: a
// closed descriptor answers POLLNVAL.
func openFDs(from, to int) []bool {
	open := make([]bool, to-from)
	pfds := make([]unix.PollFd, to-from)
	for i := range pfds {
		pfds[i].Fd = int32(from + i)
	}
	if _, err := unix.Poll(pfds, 0); err != nil {
		// Without the answer, count every descriptor as open.
		for i := range open {
			open[i] = true
		}
		return open
	}
	for i, p := range pfds {
		open[i] = p.Revents&unix.POLLNVAL == 0
	}
	return open
}

// closeFDs closes descriptors, each run of consecutive ones with one
// close_range.
func closeFDs(fds []int) {
	slices.Sort(fds)
	for i := 0; i < len(fds); {
		j := i + 1
		for j < len(fds) && fds[j] == fds[j-1]+1 {
			j++
		}
		if unix.CloseRange(uint(fds[i]), uint(fds[j-1]), 0) != nil {
			for _, fd := range fds[i:j] {
				unix.Close(fd)
			}
		}
		i = j
	}
}
