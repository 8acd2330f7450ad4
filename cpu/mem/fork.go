package mem

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// A fork child is a new xemu process: it rebuilds this address space from a
// description of its mappings and the pages that exist nowhere else, which
// the parent's raw fork child saved into a data file (a memfd) at
// DataBase+Phys. Private anonymous memory is that file mapped privately
// (SnapFD): its pages are shared with the file copy-on-write and none is
// read in, so a fork costs the child the pages it touches, not the
// parent's size. Such memory keeps its snapshot when the child forks again:
// the next child maps the same file and reads in only the pages written
// since. Pages of private file mappings the guest never wrote come from
// their files again; shared memory is mapped again from the object both
// processes share.

// RestoreKind says how a fork child gets a mapping's memory back.
type RestoreKind int

const (
	RestoreAnon       RestoreKind = iota // the data file, privately (a hole is a page never written)
	RestoreFile                          // the file again, privately, then the saved pages
	RestoreCopy                          // the data file, privately: every page saved
	RestoreSnap                          // SnapFD again, privately, then the saved pages
	RestoreSharedFile                    // the file again, shared
	RestoreSharedFD                      // BackingFD, shared (anonymous shared memory)
	RestoreShm                           // the System V segment attached again
)

// ForkMapping is a mapping and how to restore it.
type ForkMapping struct {
	Mapping
	Restore RestoreKind
}

// ForkSave is host memory of the parent a fork child must save, and how
// (cpu.SnapMode's values: 0 pages written, 1 pages no longer the file's, 2
// all). Its bytes go to a data file at DataBase+Phys.
type ForkSave struct {
	Host uintptr
	Phys uint64
	Len  uint64
	Mode int32
}

// ForkState is what a fork child needs to rebuild the address space.
type ForkState struct {
	Mappings         []ForkMapping
	BrkStart, BrkEnd GuestAddr
	MmapTop          GuestAddr
	// DataEnd: the data file must reach DataBase+DataEnd, past every
	// mapping restored from it (a private mapping of a page past a file's
	// end faults).
	DataEnd uint64
	// MapSaved: the saved pages of private file mappings are mapped from
	// the data file, not read in, so that a page the child writes is told
	// from one it was given (a vfork child, vfork.go).
	MapSaved bool
	// Lazy: private anonymous memory and private copies (RestoreAnon,
	// RestoreCopy) were not saved; a vfork child reads them from its
	// stopped parent as it touches them (SetLazy).
	Lazy bool
}

// Snapshot describes the space for a fork child: its mappings, and the
// memory the child must save before it leaves this process's image. Gate
// pages above Limit are the kernel's and are not included. With lazy (a
// vfork child that reads its parent's memory), private anonymous memory
// and private copies are left out of the saves (ForkState.Lazy).
func (s *AddressSpace) snapshotLocked(lazy bool) (ForkState, []ForkSave) {
	st := ForkState{BrkStart: s.brkStart, BrkEnd: s.brkEnd, MmapTop: s.mmapTop, Lazy: lazy}
	var saves []ForkSave
	s.maps.each(func(m *Mapping) bool {
		if m.Start >= s.Limit {
			return true
		}
		fm := ForkMapping{Mapping: *m}
		save := ForkSave{Host: s.arena + uintptr(m.Phys), Phys: m.Phys, Len: uint64(m.EOF() - m.Start)}
		switch {
		case m.Shm:
			fm.Restore = RestoreShm
		case m.BackingFD > 0:
			fm.Restore = RestoreSharedFD
		case m.SnapFD > 0:
			// Pages no longer the snapshot's are the ones written since.
			fm.Restore, save.Mode = RestoreSnap, 1
		case m.Shared && sameFile(m):
			fm.Restore = RestoreSharedFile
		case m.Dev == 0 && m.Ino == 0:
			fm.Restore, save.Mode = RestoreAnon, 0
		case !m.Shared && sameFile(m):
			fm.Restore, save.Mode = RestoreFile, 1
		default:
			// The file is gone or replaced: the child gets a private copy.
			fm.Restore, save.Mode = RestoreCopy, 2
		}
		st.Mappings = append(st.Mappings, fm)
		if fm.Restore == RestoreAnon || fm.Restore == RestoreCopy {
			st.DataEnd = max(st.DataEnd, m.Phys+uint64(m.End-m.Start))
		}
		if lazy && fm.lazy() {
			save.Len = 0
		}
		if fm.Restore != RestoreSharedFD && fm.Restore != RestoreSharedFile && fm.Restore != RestoreShm && save.Len > 0 {
			saves = append(saves, save)
		}
		if fm.Restore == RestoreFile || fm.Restore == RestoreSnap {
			// Pages a vfork child was given by mapping its data file look
			// like the file's to pagemap, written or not: they go whole.
			for _, r := range s.mappedSaved {
				lo, hi := max(r[0], m.Phys), min(r[0]+r[1], m.Phys+save.Len)
				if lo < hi {
					saves = append(saves, ForkSave{Host: s.arena + uintptr(lo), Phys: lo, Len: hi - lo, Mode: 2})
				}
			}
		}
		return true
	})
	return st, saves
}

// lazy: m is restored from the data file alone, so a lazy vfork child can
// read all of it from its parent (a private file mapping keeps its file's
// pages: it cannot take missing-page faults, and only the pages the parent
// wrote are saved for it).
func (fm *ForkMapping) lazy() bool { return fm.Restore == RestoreAnon || fm.Restore == RestoreCopy }

// sameFile: m's file can be opened again by its name.
func sameFile(m *Mapping) bool {
	if m.Name == "" || strings.HasSuffix(m.Name, " (deleted)") {
		return false
	}
	var st unix.Stat_t
	return unix.Stat(m.Name, &st) == nil && st.Dev == m.Dev && st.Ino == m.Ino
}

// Restore rebuilds a space described by Snapshot in a new process: every
// mapping at the same guest address and arena offset, private anonymous
// memory mapped from data (at dataBase+Phys, where the fork child saved
// it), and the saved pages of the other private mappings read in. The space
// takes data over: it stays open as long as a mapping uses it.
func (s *AddressSpace) restoreLocked(st ForkState, data int, dataBase uint64) error {
	s.adoptBacking(data)
	defer s.sweepBackings()
	var readIn []Mapping
	for i := range st.Mappings {
		fm := &st.Mappings[i]
		m := fm.Mapping
		length := uint64(m.End - m.Start)
		if !s.phys.allocAt(m.Phys, length) {
			return fmt.Errorf("restoring %#x-%#x: arena slot taken", m.Start, m.End)
		}
		fd := -1
		switch fm.Restore {
		case RestoreFile, RestoreSharedFile:
			mode := unix.O_RDONLY
			if fm.Restore == RestoreSharedFile && m.Prot&ProtWrite != 0 {
				mode = unix.O_RDWR
			}
			f, err := unix.Open(m.Name, mode|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("restoring %#x-%#x: %s: %w", m.Start, m.End, m.Name, err)
			}
			defer unix.Close(f)
			fd = f
			if fm.Restore == RestoreFile {
				readIn = append(readIn, m)
			}
		case RestoreSharedFD:
			fd = m.BackingFD
			s.adoptBacking(fd)
		case RestoreCopy:
			m.Dev, m.Ino = 0, 0
			m.SnapFD, m.SnapOff = data, dataBase+m.Phys
		case RestoreAnon:
			m.SnapFD, m.SnapOff = data, dataBase+m.Phys
		case RestoreSnap:
			s.adoptBacking(m.SnapFD)
			readIn = append(readIn, m)
		}
		if err := s.backHost(&m, fd); err != nil {
			return fmt.Errorf("restoring %#x-%#x: %w", m.Start, m.End, err)
		}
		nm := m
		if err := s.install(&nm); err != nil {
			return err
		}
	}
	s.brkStart, s.brkEnd, s.mmapTop = st.BrkStart, st.BrkEnd, st.MmapTop
	for _, m := range readIn {
		restore := s.readSaved
		if st.MapSaved {
			restore = s.mapSaved
		}
		if err := restore(data, dataBase, m.Phys, uint64(m.EOF()-m.Start)); err != nil {
			return err
		}
	}
	return nil
}

// adoptBacking makes fd one of the space's backing descriptors.
func (s *AddressSpace) adoptBacking(fd int) {
	if slices.Contains(s.backings, fd) {
		return
	}
	s.backings = append(s.backings, fd)
	if s.FDHook != nil {
		s.FDHook(fd, true)
	}
}

// readSaved copies the data file's extents for arena [phys, phys+n) into
// the arena: the file is sparse, holding only the pages the fork child
// saved.
func (s *AddressSpace) readSaved(data int, dataBase, phys, n uint64) error {
	if phys+n > s.arenaLen {
		return fmt.Errorf("saved memory at %#x beyond the arena", phys)
	}
	return eachExtent(data, int64(dataBase+phys), int64(dataBase+phys+n), func(start, stop int64) error {
		at := uint64(start) - dataBase
		return PreadFull(data, s.arenaMem[at:at+uint64(stop-start)], start)
	})
}

// eachExtent calls fn for each extent of data held in the sparse file
// between off and end (what SEEK_DATA and SEEK_HOLE find), clipped to end.
func eachExtent(data int, off, end int64, fn func(start, stop int64) error) error {
	for off < end {
		start, err := unix.Seek(data, off, unix.SEEK_DATA)
		if err == unix.ENXIO || err == nil && start >= end {
			return nil
		}
		if err != nil {
			return err
		}
		stop, err := unix.Seek(data, start, unix.SEEK_HOLE)
		if err != nil {
			return err
		}
		stop = min(stop, end)
		if err := fn(start, stop); err != nil {
			return err
		}
		off = stop
	}
	return nil
}

// PreadFull fills b from fd at off, as the fork hand-over reads it (the
// kernel package reads the state the same way).
func PreadFull(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		n, err := unix.Pread(fd, b, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("fork state ends early")
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}
