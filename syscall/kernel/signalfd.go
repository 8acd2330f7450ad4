package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"xemu/syscall/abi"
)

// SignalFD is a guest signalfd, a special file. The guest's descriptor is
// the read end of a host pipe that holds one byte exactly while a signal of the mask is
// pending, so poll, select and epoll see it as Linux would; reads take the
// signals from the guest's queues, never from the pipe.
type SignalFD struct {
	mask  SigSet
	r, w  int // xemu's own ends: a duplicate of the read end, the write end
	armed bool
}

// NewSignalFD creates a signalfd for mask; flags are O_NONBLOCK and
// O_CLOEXEC (SFD_NONBLOCK, SFD_CLOEXEC).
func (p *Process) NewSignalFD(mask SigSet, flags int) (int, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return 0, err
	}
	guest := fds[0]
	if flags&unix.O_CLOEXEC == 0 {
		unix.FcntlInt(uintptr(guest), unix.F_SETFD, 0)
	}
	if flags&unix.O_NONBLOCK != 0 {
		unix.SetNonblock(guest, true)
	}
	r, err := unix.FcntlInt(uintptr(guest), unix.F_DUPFD_CLOEXEC, hostFDBase)
	if err != nil {
		unix.Close(guest)
		unix.Close(fds[1])
		return 0, err
	}
	w := highFD(fds[1])
	p.Reserve(r)
	p.Reserve(w)
	s := &SignalFD{mask: mask &^ abi.SigUnblockable, r: r, w: w}
	p.sigMu.Lock()
	p.signalFDs = append(p.signalFDs, s)
	p.rearmSignalFDsLocked()
	p.sigMu.Unlock()
	p.addSpecial(guest, SpecialFile{SignalFD: s})
	return guest, nil
}

// SetSignalFDMask changes the mask of an existing signalfd.
func (p *Process) SetSignalFDMask(s *SignalFD, mask SigSet) {
	p.sigMu.Lock()
	s.mask = mask &^ abi.SigUnblockable
	p.rearmSignalFDsLocked()
	p.sigMu.Unlock()
}

// rearmSignalFDsLocked makes each signalfd's pipe readable exactly when a
// signal of its mask is pending for the process's threads.
func (p *Process) rearmSignalFDsLocked() {
	if len(p.signalFDs) == 0 {
		return
	}
	pending := p.shared.set
	for _, t := range p.tasks {
		pending |= t.pending.set
	}
	for _, s := range p.signalFDs {
		want := pending&s.mask != 0
		switch {
		case want && !s.armed:
			unix.Write(s.w, []byte{0})
			s.armed = true
		case !want && s.armed:
			// Exactly one byte is there, so this read cannot block.
			var b [1]byte
			unix.Read(s.r, b[:])
			s.armed = false
		}
	}
}

// ReadSignalFD reads pending signals of the signalfd's mask as struct
// signalfd_siginfo records into buf (fs/signalfd.c signalfd_read): at least
// one, waiting for it unless nonblock.
func (t *Task) ReadSignalFD(s *SignalFD, buf []byte, nonblock bool) (int, error) {
	if len(buf) < abi.SignalfdSigInfoSize {
		return 0, unix.EINVAL
	}
	p := t.P
	n := 0
	for n+abi.SignalfdSigInfoSize <= len(buf) {
		p.drainHostSignals()
		p.sigMu.Lock()
		si, ok := t.dequeueLocked(s.mask)
		p.rearmSignalFDsLocked()
		p.sigMu.Unlock()
		if !ok {
			if n > 0 {
				break
			}
			if nonblock {
				return 0, unix.EAGAIN
			}
			p.sigMu.Lock()
			mask := s.mask
			p.sigMu.Unlock()
			var err error
			si, err = t.WaitForSignal(mask, time.Time{})
			if err != nil {
				return 0, ERESTARTSYS
			}
			p.sigMu.Lock()
			p.rearmSignalFDsLocked()
			p.sigMu.Unlock()
		}
		copy(buf[n:], si.MarshalSignalfd(p.ABI.Class))
		n += abi.SignalfdSigInfoSize
	}
	return n, nil
}
