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
	return p.openSpecial("xemu-guest-mem", SpecialFile{GuestMem: true}, cloexec)
}

// OpenPagemap opens the guest's view of /proc/self/pagemap: the entries
// of its own pages, by guest address (PagemapRead).
func (p *Process) OpenPagemap(cloexec bool) (int, error) {
	return p.openSpecial("xemu-guest-pagemap", SpecialFile{Pagemap: true}, cloexec)
}

// pagemapEntry is the size of an entry of /proc/PID/pagemap, one per page.
const pagemapEntry = 8

// PagemapRead reads up to n bytes of the guest's /proc/self/pagemap at
// offset off (off < 0: the descriptor's own, which then advances), as
// fs/proc/task_mmu.c pagemap_read does: entry i is guest page i's, offset
// and length multiples of 8 (EINVAL otherwise), nothing past the end of
// user space. A mapped page's entry is the host's entry for the host page
// behind it (present, swapped, exclusive, soft-dirty, and the frame number
// where the host shows it); a page the guest has not mapped reads 0.
func (t *Task) PagemapRead(fd int, n uint64, off int64) ([]byte, error) {
	advance := off < 0
	if advance {
		cur, err := unix.Seek(fd, 0, unix.SEEK_CUR)
		if err != nil {
			return nil, err
		}
		off = cur
	}
	if off%pagemapEntry != 0 || n%pagemapEntry != 0 {
		return nil, unix.EINVAL
	}
	pages := uint64(t.P.ABI.Limit) / mem.PageSize
	first := uint64(off) / pagemapEntry
	if first >= pages || n == 0 {
		return nil, nil
	}
	// A bounded buffer per call, as Linux's own walks in PAGEMAP_WALK_SIZE steps.
	count := min(n/pagemapEntry, pages-first, 1<<17)
	out := make([]byte, count*pagemapEntry)
	start := mem.GuestAddr(first * mem.PageSize)
	ranges, _ := t.P.Mem.MappedRanges(start, count*mem.PageSize)
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
	if advance {
		unix.Seek(fd, off+int64(len(out)), unix.SEEK_SET)
	}
	return out, nil
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
