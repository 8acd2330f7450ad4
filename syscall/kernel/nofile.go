package kernel

import (
	"golang.org/x/sys/unix"

	"xemu/cpu"
)

// RlimitNofile is RLIMIT_NOFILE (include/uapi/asm-generic/resource.h, the
// same on ARM and AArch64).
const RlimitNofile = 7

// The guest's RLIMIT_NOFILE is kept by xemu, in Limits with the others it
// keeps, so that fork and execve hand it over with them. The host's soft
// limit stays raised to its hard limit (cpu/nofile.c): xemu's own
// descriptors sit at 900 and above, where a guest that lowered its limit
// below them could not have any. The host gives every new descriptor the
// lowest free number, so the guest has no room left exactly when that
// number reaches its limit: EMFILE then, as Linux's alloc_fd gives it.

// initFileLimit gives the process its RLIMIT_NOFILE: the one an execve or
// fork handed over, else the one xemu was started with.
func (p *Process) initFileLimit() {
	if p.Limits[RlimitNofile] == nil {
		cur, max, ok := cpu.StartFileLimit()
		if !ok {
			var l unix.Rlimit
			if unix.Getrlimit(unix.RLIMIT_NOFILE, &l) != nil {
				return
			}
			cur, max = l.Cur, l.Max
		}
		if p.Limits == nil {
			p.Limits = map[int]*Rlimit{}
		}
		p.Limits[RlimitNofile] = &Rlimit{Cur: cur, Max: max}
	}
	p.SyncFileLimit()
}

// SyncFileLimit makes the descriptor checks follow Limits[RlimitNofile]
// after a change.
func (p *Process) SyncFileLimit() {
	l := p.Limits[RlimitNofile]
	if l == nil {
		p.fileLimit.Store(0)
		return
	}
	var host unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &host) == nil && l.Cur >= host.Cur {
		// The host refuses what the guest would be refused.
		p.fileLimit.Store(0)
		return
	}
	p.fileLimit.Store(l.Cur)
}

// FileLimit is the guest's soft RLIMIT_NOFILE where xemu enforces it
// itself; 0 where the host does.
func (p *Process) FileLimit() uint64 { return p.fileLimit.Load() }

// FDRoom is EMFILE unless n more descriptors fit below the guest's limit:
// for calls whose effects a descriptor given back afterwards would not undo
// (a file created or truncated by open, a connection taken by accept).
func (p *Process) FDRoom(n int) error {
	lim := p.FileLimit()
	if lim == 0 {
		return nil
	}
	var probes []int
	defer func() {
		for _, fd := range probes {
			unix.Close(fd)
		}
	}()
	for range n {
		fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
		if err != nil {
			return err
		}
		probes = append(probes, fd)
		if uint64(fd) >= lim {
			return unix.EMFILE
		}
	}
	return nil
}

// NewFD checks a descriptor a call just made for the guest: one at or past
// the guest's limit is closed again, and the call fails with EMFILE.
func (p *Process) NewFD(fd int) (uint64, error) {
	if lim := p.FileLimit(); lim != 0 && uint64(fd) >= lim {
		p.dropFD(fd)
		return 0, unix.EMFILE
	}
	return uint64(fd), nil
}

// NewFDs is NewFD for calls that make several (pipe, socketpair).
func (p *Process) NewFDs(fds ...int) error {
	lim := p.FileLimit()
	if lim == 0 {
		return nil
	}
	for _, fd := range fds {
		if uint64(fd) >= lim {
			for _, fd := range fds {
				p.dropFD(fd)
			}
			return unix.EMFILE
		}
	}
	return nil
}

// FDBelowLimit: fd is a number the guest may have (dup2, dup3: EBADF past
// it; F_DUPFD: EINVAL).
func (p *Process) FDBelowLimit(fd int) bool {
	lim := p.FileLimit()
	return lim == 0 || uint64(fd) < lim
}

// dropFD closes a descriptor the guest never saw, with what xemu knew of it.
func (p *Process) dropFD(fd int) {
	p.Dirs.Close(fd)
	_, special := p.Special(fd)
	unix.Close(fd)
	if special {
		p.SpecialClosed()
	}
}

// HostFileLimit is what a program xemu executes for the guest starts with:
// the guest's limit, its hard limit no higher than the host's (raising it
// takes a privilege the exec would not have had either). undo puts xemu's
// own back for an exec that failed, as far as a lowered hard limit lets it.
func (p *Process) HostFileLimit() (undo func()) {
	l := p.Limits[RlimitNofile]
	var old unix.Rlimit
	if l == nil || unix.Getrlimit(unix.RLIMIT_NOFILE, &old) != nil {
		return func() {}
	}
	next := unix.Rlimit{Cur: l.Cur, Max: min(l.Max, old.Max)}
	next.Cur = min(next.Cur, next.Max)
	if unix.Setrlimit(unix.RLIMIT_NOFILE, &next) != nil {
		return func() {}
	}
	return func() {
		back := unix.Rlimit{Cur: min(old.Cur, next.Max), Max: next.Max}
		unix.Setrlimit(unix.RLIMIT_NOFILE, &back)
	}
}
