package linux

import (
	"golang.org/x/sys/unix"

	"xemu/syscall/abi"
	"xemu/syscall/kernel"
)

// Terminal job control. The host kernel decides whether a process outside
// the terminal's foreground group may change it (tcsetpgrp, tcsetattr,
// tcflush: drivers/tty/tty_jobctrl.c __tty_check_change): if SIGTTOU is
// blocked or ignored the change is made, otherwise the process group gets
// SIGTTOU and the call returns ERESTARTSYS. The host sees xemu's SIGTTOU,
// which xemu catches and never blocks, so a guest that blocks SIGTTOU, as
// bash does around tcsetpgrp, would get SIGTTOU and the call restarted
// forever. The host's decision must rest on the guest's state: while such a
// call runs, the host thread blocks SIGTTOU if the guest blocks or ignores
// it. (A read or write of the terminal from the background is not covered:
// a guest that blocks SIGTTIN and reads would be sent SIGTTIN over and over
// instead of getting EIO.)

// ttyGroupIoctl: the 'T' (0x54) requests, the terminal's.
func ttyGroupIoctl(req uint32) bool { return req>>8 == 0x54 }

// withGuestTTOU runs call with the host's SIGTTOU blocked if the guest
// blocks or ignores it.
func withGuestTTOU(t *kernel.Task, call func() (uint64, error)) (uint64, error) {
	if !t.Mask().Has(abi.SIGTTOU) && t.P.Action(abi.SIGTTOU).Handler != abi.SIG_IGN {
		return call()
	}
	var set, old unix.Sigset_t
	set.Val[0] = 1 << (abi.SIGTTOU - 1)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		return call()
	}
	defer unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	return call()
}
