package mem

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// vfork: the child is another xemu process with a copy of the address
// space, but the guest must see what Linux's shared memory gives (the
// child's writes before it executes or exits are the parent's, as glibc's
// posix_spawn relies on to report the exec's errno). The child finds the
// pages it wrote and hands them back through a memfd at their arena offset;
// the parent, which waits for the child meanwhile, copies them in. A page
// the child wrote is one its copy no longer shares with what it was restored
// from: restored with every saved page mapped (ForkState.MapSaved), not read
// in, each private page is a file's until written.

// pagemap bits (Documentation/admin-guide/mm/pagemap.rst).
const (
	pmPresent = 1 << 63
	pmSwap    = 1 << 62
	pmFile    = 1 << 61
)

// WrittenPrivate writes every page of the private mappings the process
// wrote since its restore (pagemap: its own /proc/self/pagemap) to out at
// its arena offset. A lazy child's pages are the parent's once installed,
// written or not: those that still hold what the parent's do are left out.
// It returns how many pages it wrote.
func (s *AddressSpace) WrittenPrivate(pagemap, out int) (int, error) {
	s.lock()
	defer s.unlock()
	var err error
	written := 0
	entries := make([]byte, 8*512)
	s.maps.each(func(m *Mapping) bool {
		if m.Shared || m.Shm || m.Start >= s.Limit {
			return true
		}
		n := uint64(m.EOF()-m.Start) / PageSize
		for i := uint64(0); i < n && err == nil; i += 512 {
			k := min(n-i, 512)
			at := int64((uint64(s.arena)+m.Phys)/PageSize+i) * 8
			if err = PreadFull(pagemap, entries[:k*8], at); err != nil {
				break
			}
			for j := uint64(0); j < k; j++ {
				e := binary.LittleEndian.Uint64(entries[j*8:])
				if e&pmSwap == 0 && (e&pmPresent == 0 || e&pmFile != 0) {
					continue
				}
				phys := m.Phys + (i+j)*PageSize
				if s.sameAsParent(phys) {
					continue // only read (a lazy child's page from its parent)
				}
				if _, err = unix.Pwrite(out, s.arenaMem[phys:phys+PageSize], int64(phys)); err != nil {
					break
				}
				written++
			}
		}
		return err == nil
	})
	return written, err
}

// TakeWritten copies the pages a vfork child handed back (in fd at their
// arena offsets) into the space, where a private mapping still holds them.
func (s *AddressSpace) TakeWritten(fd int) error {
	s.lock()
	defer s.unlock()
	var err error
	s.maps.each(func(m *Mapping) bool {
		if m.Shared || m.Shm || m.Start >= s.Limit {
			return true
		}
		err = s.readSaved(fd, 0, m.Phys, uint64(m.EOF()-m.Start))
		return err == nil
	})
	return err
}

// mapSaved maps the data file's extents for arena [phys, phys+n) privately
// over the arena, instead of reading them in.
func (s *AddressSpace) mapSaved(data int, dataBase, phys, n uint64) error {
	return eachExtent(data, int64(dataBase+phys), int64(dataBase+phys+n), func(start, stop int64) error {
		at := uint64(start) - dataBase
		_, _, e := unix.Syscall6(unix.SYS_MMAP, s.arena+uintptr(at), uintptr(stop-start), unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_FIXED|unix.MAP_NORESERVE, uintptr(data), uintptr(start))
		if e != 0 {
			return e
		}
		s.mappedSaved = append(s.mappedSaved, [2]uint64{at, uint64(stop - start)})
		return nil
	})
}
