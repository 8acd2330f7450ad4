package linux

import (
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

func rtSigaction(t *kernel.Task, a kernel.Args) (uint64, error) {
	sig := a.Int(0)
	if sig < 1 || sig > kernel.Nsig || a.U64(3) != 8 {
		return 0, unix.EINVAL
	}
	w := mem.GuestAddr(t.WordSize())
	d := t.P.Disposition(sig)
	old := *d
	if a.Addr(1) != 0 {
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
			return 0, unix.EINVAL
		}
		var nd kernel.SigDisposition
		var err error
		if nd.Handler, err = t.GetWord(a.Addr(1)); err != nil {
			return 0, err
		}
		if nd.Flags, err = t.GetWord(a.Addr(1) + w); err != nil {
			return 0, err
		}
		if nd.Restorer, err = t.GetWord(a.Addr(1) + 2*w); err != nil {
			return 0, err
		}
		if nd.Mask, err = t.GetU64(a.Addr(1) + 3*w); err != nil {
			return 0, err
		}
		// kernel/signal.c do_sigaction: SIGKILL and SIGSTOP never enter a
		// handler's mask, and a query shows them gone.
		nd.Mask &^= 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)
		*d = nd
		t.P.MirrorDisposition(sig, nd.Handler)
	}
	if a.Addr(2) != 0 {
		for i, v := range []uint64{old.Handler, old.Flags, old.Restorer} {
			if err := t.PutWord(a.Addr(2)+mem.GuestAddr(i)*w, v); err != nil {
				return 0, err
			}
		}
		return 0, t.PutU64(a.Addr(2)+3*w, old.Mask)
	}
	return 0, nil
}

// mirrorDisposition makes the host's handling of SIGPIPE follow the guest's:
// a write to a closed pipe then kills the emulator exactly when it would kill
// the guest, and returns EPIPE otherwise. The timer signals follow too, so
// that an alarm kills or is ignored as the guest asked; for a guest handler
// the Go runtime's handler is put back (the guest's blocking call then sees
// EINTR, as it would around a handler).
func rtSigprocmask(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.U64(3) != 8 {
		return 0, unix.EINVAL
	}
	old := t.SigMask
	if a.Addr(1) != 0 {
		set, err := t.GetU64(a.Addr(1))
		if err != nil {
			return 0, err
		}
		set &^= 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)
		switch a.Int(0) {
		case kernel.SigBlock:
			t.SigMask |= set
		case kernel.SigUnblock:
			t.SigMask &^= set
		case kernel.SigSetmask:
			t.SigMask = set
		default:
			return 0, unix.EINVAL
		}
	}
	if a.Addr(2) != 0 {
		return 0, t.PutU64(a.Addr(2), old)
	}
	return 0, nil
}

func rtSigpending(t *kernel.Task, a kernel.Args) (uint64, error) {
	// Linux takes a set up to its own size and writes only what was asked.
	if a.U64(1) > 8 {
		return 0, unix.EINVAL
	}
	return 0, t.CopyOut(a.Addr(0), make([]byte, a.U64(1)))
}

// stack_t flags (include/uapi/linux/signal.h).
func sigaltstack(t *kernel.Task, a kernel.Args) (uint64, error) {
	// stack_t: ss_sp (pointer), ss_flags (int), ss_size (size_t).
	w := mem.GuestAddr(t.WordSize())
	sizeOff := 2 * w
	old := t.AltStack
	// Linux reads and applies the new stack before writing the old one: the
	// two may share a buffer, and a bad old pointer still changes the stack.
	if a.Addr(0) != 0 {
		sp, err := t.GetWord(a.Addr(0))
		if err != nil {
			return 0, err
		}
		flags, err := t.GetU32(a.Addr(0) + w)
		if err != nil {
			return 0, err
		}
		size, err := t.GetWord(a.Addr(0) + sizeOff)
		if err != nil {
			return 0, err
		}
		// kernel/signal.c do_sigaltstack: SS_AUTODISARM may be added to any
		// mode, and SS_ONSTACK is accepted as a request to enable.
		switch flags &^ kernel.SsAutodisarm {
		case kernel.SsDisable:
			t.AltStack = kernel.AltStack{Flags: flags}
		case 0, kernel.SsOnstack:
			if size < t.P.ABI.MinAltStack {
				return 0, unix.ENOMEM
			}
			t.AltStack = kernel.AltStack{SP: mem.GuestAddr(sp), Size: size, Flags: flags}
		default:
			return 0, unix.EINVAL
		}
	}
	if a.Addr(1) != 0 {
		if err := t.PutWord(a.Addr(1), uint64(old.SP)); err != nil {
			return 0, err
		}
		flags := uint32(kernel.SsDisable)
		if old.Size != 0 {
			flags = 0
		}
		flags |= old.Flags & kernel.SsAutodisarm
		if err := t.PutU32(a.Addr(1)+w, flags); err != nil {
			return 0, err
		}
		if err := t.PutWord(a.Addr(1)+sizeOff, old.Size); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func kill(t *kernel.Task, a kernel.Args) (uint64, error) {
	pid := a.Int(0)
	if pid == unix.Getpid() {
		return 0, t.KillSelf(a.Int(1))
	}
	return 0, unix.Kill(pid, unix.Signal(a.Int(1)))
}

func tgkill(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.Int(0) == unix.Getpid() && a.Int(1) == t.TID {
		return 0, t.KillSelf(a.Int(2))
	}
	return 0, unix.Tgkill(a.Int(0), a.Int(1), unix.Signal(a.Int(2)))
}

func tkill(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a.Int(0) == t.TID {
		return 0, t.KillSelf(a.Int(1))
	}
	_, _, e := unix.Syscall(unix.SYS_TKILL, uintptr(a.Int(0)), uintptr(a.Int(1)), 0)
	return 0, kernel.ErrOf(e)
}
