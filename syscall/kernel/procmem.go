package kernel

import (
	"sync"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// An open /proc/self/mem is a memfd with no contents: its inode identifies
// it and it keeps the file offset, while reads and writes go to guest
// memory through the checked door (cpu/mem), never to xemu's own memory as
// the host's /proc/self/mem would.
type guestMemFiles struct {
	mu    sync.Mutex
	files map[signalFDKey]bool
}

func inodeKey(fd int) (signalFDKey, bool) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return signalFDKey{}, false
	}
	return signalFDKey{st.Dev, st.Ino}, true
}

// OpenGuestMem opens the guest's view of /proc/self/mem.
func (p *Process) OpenGuestMem(cloexec bool) (int, error) {
	flags := 0
	if cloexec {
		flags = unix.MFD_CLOEXEC
	}
	fd, err := unix.MemfdCreate("xemu-guest-mem", flags)
	if err != nil {
		return 0, err
	}
	key, _ := inodeKey(fd)
	p.memFiles.mu.Lock()
	if p.memFiles.files == nil {
		p.memFiles.files = map[signalFDKey]bool{}
	}
	p.memFiles.files[key] = true
	p.memFiles.mu.Unlock()
	return fd, nil
}

// IsGuestMem reports whether fd is an open /proc/self/mem of the guest.
func (p *Process) IsGuestMem(fd int) bool {
	p.memFiles.mu.Lock()
	n := len(p.memFiles.files)
	p.memFiles.mu.Unlock()
	if n == 0 {
		return false
	}
	key, ok := inodeKey(fd)
	if !ok {
		return false
	}
	p.memFiles.mu.Lock()
	defer p.memFiles.mu.Unlock()
	return p.memFiles.files[key]
}

// GuestMemIO reads or writes guest memory at address off for an open
// /proc/self/mem, page by page, stopping at the first page it may not
// touch; nothing done at all is EIO, as Linux's mem_rw reports it. off < 0
// means the descriptor's own offset, which then advances.
func (t *Task) GuestMemIO(fd int, buf []byte, off int64, write bool) (int, error) {
	advance := off < 0
	if advance {
		cur, err := unix.Seek(fd, 0, unix.SEEK_CUR)
		if err != nil {
			return 0, err
		}
		off = cur
	}
	n := 0
	for n < len(buf) {
		a := uint64(off) + uint64(n)
		chunk := min(len(buf)-n, int(mem.PageSize-a%mem.PageSize))
		var err error
		if write {
			err = t.P.Mem.Write(mem.GuestAddr(a), buf[n:n+chunk])
		} else {
			err = t.P.Mem.Read(mem.GuestAddr(a), buf[n:n+chunk])
		}
		if err != nil {
			break
		}
		n += chunk
	}
	if n == 0 && len(buf) > 0 {
		return 0, unix.EIO
	}
	if advance {
		unix.Seek(fd, off+int64(n), unix.SEEK_SET)
	}
	return n, nil
}
