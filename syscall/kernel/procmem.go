package kernel

import (
	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// An open /proc/self/mem is a memfd with no contents (a special file): it
// keeps the file offset, while reads and writes go to guest
// memory through the checked door (cpu/mem), never to xemu's own memory as
// the host's /proc/self/mem would.
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
	p.addSpecial(fd, SpecialFile{GuestMem: true})
	return fd, nil
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
