package kernel

import (
	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// An open /proc/PID/mem is a memfd with no contents (a special file): it
// keeps the file offset, while reads and writes go to guest memory through
// the checked door (cpu/mem), never to an xemu's own memory as the host's
// /proc/PID/mem would: this process's own, or another xemu's through its
// guest view socket (othermem.go). Unlike Linux's mem_rw, which passes
// FOLL_FORCE (a debugger writes a read-only private page, reads a
// PROT_NONE one), the guest's permissions hold, as for process_vm_*.

// OpenGuestMem opens the guest's view of /proc/self/mem.
func (p *Process) OpenGuestMem(cloexec bool) (int, error) {
	return p.openSpecial("xemu-guest-mem", SpecialFile{GuestMem: true}, cloexec)
}

// OpenPagemap opens the guest's view of /proc/self/pagemap: the entries
// of its own pages, by guest address (PagemapRead).
func (p *Process) OpenPagemap(cloexec bool) (int, error) {
	return p.openSpecial("xemu-guest-pagemap", SpecialFile{Pagemap: true}, cloexec)
}

// OpenOtherMem opens /proc/PID/mem (or pagemap) of the xemu running as
// pid: EACCES, as proc_mem_open's mm_access, unless that xemu answers and
// would let this process ptrace it (PTRACE_MODE_ATTACH for mem, READ for
// pagemap).
func (p *Process) OpenOtherMem(pid int, pagemap, cloexec bool) (int, error) {
	m, err := DialOtherMem(pid, pagemap)
	if err != nil {
		return 0, err
	}
	m.Close()
	if pagemap {
		return p.openSpecial("xemu-guest-pagemap", SpecialFile{Pagemap: true, OtherPID: pid}, cloexec)
	}
	return p.openSpecial("xemu-guest-mem", SpecialFile{GuestMem: true, OtherPID: pid}, cloexec)
}

// pagemapEntry is the size of an entry of /proc/PID/pagemap, one per page.
const pagemapEntry = 8

// maxPagemapRead bounds the entries one read gives, as Linux's own walk
// goes in PAGEMAP_WALK_SIZE steps.
const maxPagemapRead = 1 << 17

// PagemapRead reads up to n bytes of the guest's /proc/PID/pagemap (sf's)
// at offset off (off < 0: the descriptor's own, which then advances), as
// fs/proc/task_mmu.c pagemap_read does: offset and length multiples of 8
// (EINVAL otherwise), nothing past the end of user space, nothing at all of
// memory an execve replaced (sf.Gone).
func (t *Task) PagemapRead(fd int, sf SpecialFile, n uint64, off int64) ([]byte, error) {
	advance := off < 0
	if advance {
		cur, err := unix.Seek(fd, 0, unix.SEEK_CUR)
		if err != nil {
			return nil, err
		}
		off = cur
	}
	if sf.Gone {
		return nil, nil
	}
	if off%pagemapEntry != 0 || n%pagemapEntry != 0 {
		return nil, unix.EINVAL
	}
	n = min(n, maxPagemapRead*pagemapEntry)
	var out []byte
	var err error
	if sf.OtherPID != 0 {
		err = unix.EIO
		if m, ok := newOtherMem(sf.OtherPID); ok {
			out, err = m.Pagemap(uint64(off), n)
			m.Close()
		}
		if err != nil && !alive(sf.OtherPID) {
			// The process is gone: its pagemap reads as empty
			// (pagemap_read without an mm).
			out, err = nil, nil
		}
	} else {
		out, err = t.P.pagemapAt(uint64(off), n)
	}
	if err != nil {
		return nil, err
	}
	if advance {
		unix.Seek(fd, off+int64(len(out)), unix.SEEK_SET)
	}
	return out, nil
}

// pagemapAt is up to n bytes of the guest's pagemap at offset off (both
// multiples of 8): entry i is guest page i's. A mapped page's entry is the
// host's entry for the host page behind it (present, swapped, exclusive,
// soft-dirty, and the frame number where the host shows it); a page the
// guest has not mapped reads 0.
func (p *Process) pagemapAt(off, n uint64) ([]byte, error) {
	if off%pagemapEntry != 0 || n%pagemapEntry != 0 {
		return nil, unix.EINVAL
	}
	pages := uint64(p.ABI.Limit) / mem.PageSize
	first := off / pagemapEntry
	if first >= pages || n == 0 {
		return nil, nil
	}
	count := min(n/pagemapEntry, pages-first, maxPagemapRead)
	out := make([]byte, count*pagemapEntry)
	start := mem.GuestAddr(first * mem.PageSize)
	ranges, _ := p.Mem.MappedRanges(start, count*mem.PageSize)
	if len(ranges) > 0 {
		host, err := unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		defer unix.Close(host)
		for _, r := range ranges {
			at := uint64(r.Guest-start) / mem.PageSize * pagemapEntry
			span := out[at : at+r.Len/mem.PageSize*pagemapEntry]
			if _, err := unix.Pread(host, span, int64(r.Host/mem.PageSize*pagemapEntry)); err != nil {
				return nil, err
			}
			if r.Map != nil && r.Map.SnapFD > 0 {
				// A fork child's inherited anonymous memory is its fork
				// snapshot mapped privately on the host (cpu/mem/fork.go):
				// for the guest its pages are anonymous, not a file's.
				for i := 0; i+pagemapEntry <= len(span); i += pagemapEntry {
					span[i+7] &^= 1 << (61 - 56) // PM_FILE
				}
			}
		}
	}
	return out, nil
}

// GuestMemIO reads or writes guest memory at address off for an open
// /proc/PID/mem (sf), page by page, stopping at the first page it may not
// touch; nothing done at all is EIO, as Linux's mem_rw reports it. off < 0
// means the descriptor's own offset, which then advances. The memory of
// a program an execve replaced moves nothing (sf.Gone).
func (t *Task) GuestMemIO(fd int, sf SpecialFile, buf []byte, off int64, write bool) (int, error) {
	if sf.Gone {
		return 0, nil
	}
	advance := off < 0
	if advance {
		cur, err := unix.Seek(fd, 0, unix.SEEK_CUR)
		if err != nil {
			return 0, err
		}
		off = cur
	}
	var n int
	if sf.OtherPID != 0 {
		m, ok := newOtherMem(sf.OtherPID)
		if ok {
			n, _ = m.MemIO(buf, uint64(off), write)
			m.Close()
		} else if !alive(sf.OtherPID) {
			// Gone: mem_rw without an mm reads and writes nothing.
			return 0, nil
		}
	} else {
		n = t.P.memIO(uint64(off), buf, write)
	}
	if n == 0 && len(buf) > 0 {
		return 0, unix.EIO
	}
	if advance {
		unix.Seek(fd, off+int64(n), unix.SEEK_SET)
	}
	return n, nil
}

// alive: host process pid exists and has not exited.
func alive(pid int) bool {
	switch hostState(pid) {
	case 0, 'Z', 'X':
		return false
	}
	return true
}
