package kernel

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Special files are descriptors xemu gives a meaning of its own: a signalfd
// (a host pipe), an open /proc/self/mem (an empty memfd). Each has a host
// object of its own whose inode identifies it whatever descriptor names it
// (dup, and later fork), so read and write find it with one fstat, and not
// at all while there is none (the common case costs an atomic load).
type SpecialFile struct {
	SignalFD *SignalFD // a signalfd
	GuestMem bool      // /proc/PID/mem: reads and writes reach guest memory
	Pagemap  bool      // /proc/PID/pagemap: reads give the guest's pages' entries
	// OtherPID: the mem or pagemap is of the xemu running as OtherPID
	// (othermem.go); 0 for this process's own.
	OtherPID int
	// Gone: the mem or pagemap is of this process's memory as it was
	// before an execve replaced it. Linux's file holds that mm, whose
	// users are gone: mem_rw and pagemap_read move nothing and return 0.
	Gone bool
	// CommTID: /proc/PID/comm (or task/TID/comm) open for writing: a
	// write names thread CommTID.
	CommTID int
	// SyscallTID: /proc/PID/syscall (or task/TID/syscall) of that thread.
	SyscallTID int
}

type fileKey struct{ dev, ino uint64 }

type specialFiles struct {
	n     atomic.Int32
	mu    sync.Mutex
	byKey map[fileKey]SpecialFile
}

func keyOf(fd int) (fileKey, bool) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return fileKey{}, false
	}
	return fileKey{st.Dev, st.Ino}, true
}

// addSpecial records what host descriptor fd stands for.
func (p *Process) addSpecial(fd int, f SpecialFile) {
	key, ok := keyOf(fd)
	if !ok {
		return
	}
	p.special.mu.Lock()
	if p.special.byKey == nil {
		p.special.byKey = map[fileKey]SpecialFile{}
	}
	p.special.byKey[key] = f
	p.special.n.Store(int32(len(p.special.byKey)))
	p.special.mu.Unlock()
}

// Special says what guest descriptor fd stands for, if xemu gives it a
// meaning of its own.
func (p *Process) Special(fd int) (SpecialFile, bool) {
	if p.special.n.Load() == 0 {
		return SpecialFile{}, false
	}
	key, ok := keyOf(fd)
	if !ok {
		return SpecialFile{}, false
	}
	p.special.mu.Lock()
	defer p.special.mu.Unlock()
	f, ok := p.special.byKey[key]
	return f, ok
}

// SpecialClosed forgets the special files whose last guest descriptor is
// gone (close, close_range, dup2 over one), and closes a signalfd's own
// pipe ends with it. Only files known before the guest's descriptors are
// listed are forgotten: one another thread is making meanwhile has its
// descriptor before it is known.
func (p *Process) SpecialClosed() {
	if p.special.n.Load() == 0 {
		return
	}
	p.special.mu.Lock()
	known := make(map[fileKey]bool, len(p.special.byKey))
	for key := range p.special.byKey {
		known[key] = true
	}
	p.special.mu.Unlock()
	live := liveKeys(p.guestFDs())
	p.special.mu.Lock()
	gone := p.forgetSpecialLocked(live, known)
	p.special.mu.Unlock()
	p.closeSignalFDs(gone)
}

// liveKeys are the files the descriptors name.
func liveKeys(fds []int) map[fileKey]bool {
	live := map[fileKey]bool{}
	for _, fd := range fds {
		if key, ok := keyOf(fd); ok {
			live[key] = true
		}
	}
	return live
}

// forgetSpecialLocked forgets the special files (of known, if not nil) that
// are not live, and returns their signalfds.
func (p *Process) forgetSpecialLocked(live, known map[fileKey]bool) []*SignalFD {
	var gone []*SignalFD
	for key, f := range p.special.byKey {
		if live[key] || known != nil && !known[key] {
			continue
		}
		delete(p.special.byKey, key)
		if f.SignalFD != nil {
			gone = append(gone, f.SignalFD)
		}
	}
	p.special.n.Store(int32(len(p.special.byKey)))
	return gone
}

// closeSignalFDs ends signalfds no descriptor names: they are no longer
// armed, and xemu's ends of their pipes are closed.
func (p *Process) closeSignalFDs(gone []*SignalFD) {
	if len(gone) == 0 {
		return
	}
	p.sigMu.Lock()
	p.signalFDs = slices.DeleteFunc(p.signalFDs, func(s *SignalFD) bool { return slices.Contains(gone, s) })
	p.sigMu.Unlock()
	for _, s := range gone {
		for _, fd := range []int{s.r, s.w} {
			p.Unreserve(fd)
			unix.Close(fd)
		}
	}
}

// OpenCommWriter makes the descriptor a write to /proc/PID/comm (task/TID/
// comm) of guest thread tid goes through (fs/proc/base.c comm_write): an
// empty memfd whose writes set the thread's name.
func (p *Process) OpenCommWriter(tid int, cloexec bool) (int, error) {
	return p.openSpecial("xemu-comm", SpecialFile{CommTID: tid}, cloexec)
}

// OpenSyscallFile opens /proc/PID/syscall of thread tid: each read from
// its start describes the call the thread is in then (SyscallLine).
func (p *Process) OpenSyscallFile(tid int, cloexec bool) (int, error) {
	return p.openSpecial("xemu-syscall", SpecialFile{SyscallTID: tid}, cloexec)
}

// openSpecial is a descriptor that stands for f: an empty memfd, which
// keeps a file offset and answers fstat, while xemu gives reads and writes
// their meaning.
func (p *Process) openSpecial(name string, f SpecialFile, cloexec bool) (int, error) {
	flags := 0
	if cloexec {
		flags = unix.MFD_CLOEXEC
	}
	fd, err := unix.MemfdCreate(name, flags)
	if err != nil {
		return 0, err
	}
	p.addSpecial(fd, f)
	return fd, nil
}

// SetComm names thread tid as a write to its comm file does: at most 15
// bytes of b, taken as they are.
func (p *Process) SetComm(tid int, b []byte) {
	o := p.TaskByTID(tid)
	if o == nil {
		return
	}
	var name [16]byte
	copy(name[:15], b)
	if i := bytes.IndexByte(name[:], 0); i >= 0 {
		clear(name[i:])
	}
	o.SetName(name)
}
