package kernel

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"xemu/syscall/abi"
)

// The parent-death signal (prctl PR_SET_PDEATHSIG) is emulated, not left
// to the host. The host sends it when the parent *thread* exits and its
// children move to another thread of the same process, and again at every
// such move: a parent xemu has several host threads, so its guest children
// would get the signal once per thread as it exits. Here a goroutine
// watches the parent process through a pidfd and sends the signal once
// when the process has gone, then watches the new parent (a subreaper
// dying sends it again, as on Linux). Across execve the setting goes to
// the host for the moment of the exec (it survives exec there, and a
// native program needs it there), and the next xemu takes it back.

var parentDeath struct {
	mu       sync.Mutex
	sig      int
	watching bool
}

// ParentDeathSignal is the guest's PR_GET_PDEATHSIG.
func ParentDeathSignal() int {
	parentDeath.mu.Lock()
	defer parentDeath.mu.Unlock()
	return parentDeath.sig
}

// SetParentDeathSignal is the guest's PR_SET_PDEATHSIG (0 clears it).
func (p *Process) SetParentDeathSignal(sig int) error {
	if sig < 0 || sig > abi.NSIG {
		return unix.EINVAL
	}
	parentDeath.mu.Lock()
	defer parentDeath.mu.Unlock()
	parentDeath.sig = sig
	if sig != 0 && !parentDeath.watching {
		parentDeath.watching = true
		go p.watchParent(unix.Getppid())
	}
	return nil
}

func (p *Process) watchParent(ppid int) {
	for {
		watched := p.waitForExit(ppid)
		// The pidfd can wake while threads of the parent are still going
		// away, before we move to our new parent (forget_original_parent,
		// at the exit of the thread we are the child of): wait for the
		// move. Init (1, or 0 outside our pid namespace) does not die
		// before us.
		next := unix.Getppid()
		for wait := time.Millisecond; watched && next == ppid; wait = min(2*wait, 100*time.Millisecond) {
			time.Sleep(wait)
			next = unix.Getppid()
		}
		parentDeath.mu.Lock()
		sig := parentDeath.sig
		done := sig == 0 || next == ppid || next <= 1
		if done {
			parentDeath.watching = false
		}
		parentDeath.mu.Unlock()
		if sig != 0 && watched && next != ppid {
			p.Send(nil, abi.SigInfo{Signo: int32(sig), Code: abi.SI_USER, Pid: uint32(ppid), Uid: uint32(unix.Getuid())})
		}
		if done {
			return
		}
		ppid = next
	}
}

// waitForExit waits until process pid has exited; false if it could not
// be watched. A pid that is gone already counts as exited: the watch starts
// with the parent getppid named during the prctl, alive then, so it died
// since, as Linux would have signalled.
func (p *Process) waitForExit(pid int) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err == unix.ESRCH {
		return true
	}
	if err != nil {
		return false
	}
	// xemu's own, out of the guest's low descriptors (and safe from an
	// execve's close-on-exec pass).
	fd = highFD(fd)
	p.Reserve(fd)
	defer func() {
		p.Unreserve(fd)
		unix.Close(fd)
	}()
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != unix.EINTR {
			return true
		}
	}
}

// takeParentDeathSignal: a setting the host holds (handed over by an
// execve, or set before xemu started) becomes the guest's.
func (p *Process) takeParentDeathSignal() {
	var sig int32
	if _, _, e := unix.RawSyscall(unix.SYS_PRCTL, unix.PR_GET_PDEATHSIG, uintptr(UnsafePointer(&sig)), 0); e != 0 || sig == 0 {
		return
	}
	unix.RawSyscall(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, 0, 0)
	p.SetParentDeathSignal(int(sig))
}

// handOverParentDeathSignal gives the guest's setting to the host for an
// execve, and returns what undoes it if the execve fails.
func handOverParentDeathSignal() func() {
	sig := ParentDeathSignal()
	if sig == 0 {
		return func() {}
	}
	unix.RawSyscall(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(sig), 0)
	return func() { unix.RawSyscall(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, 0, 0) }
}
