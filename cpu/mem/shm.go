package mem

import (
	"golang.org/x/sys/unix"
)

// Host shmat flags (include/uapi/linux/shm.h).
const (
	hostShmRdonly = 0o10000
	hostShmRemap  = 0o40000
	hostShmExec   = 0o100000
)

// attachHost attaches m's System V segment in m's arena slot, replacing the
// reservation there, so the guest's pages are the segment's own pages and
// every process attaching it, native ones included, sees the same memory.
// The host maps it writable unless the guest may only read it (SHM_RDONLY:
// Linux refuses to make such an attach writable later, and so does the
// host), and checks the segment's permissions as Linux's shmat would. Releasing the slot (release) maps the reservation back over it,
// which detaches it on the host.
func (s *AddressSpace) attachHost(m *Mapping) error {
	if m.Offset != 0 {
		return unix.EINVAL // shmat attaches a segment from its start
	}
	flags := uintptr(hostShmRemap)
	if m.Prot&ProtWrite == 0 {
		flags |= hostShmRdonly
	}
	// SHM_EXEC asks for the segment's execute permission (ipcperms with
	// S_IXUGO): the host checks it.
	if m.Prot&ProtExec != 0 {
		flags |= hostShmExec
	}
	host := s.arena + uintptr(m.Phys)
	got, _, e := unix.Syscall(unix.SYS_SHMAT, uintptr(m.ShmID), host, flags)
	if e != 0 {
		return e
	}
	if got != host {
		// Not where it was asked to go: undo, leave the slot as it was.
		unix.Syscall(unix.SYS_SHMDT, got, 0, 0)
		return unix.EINVAL
	}
	return nil
}

// DetachShm is shmdt: it unmaps the segment attached at addr, with every
// piece of that attach that munmap or mprotect split off (ipc/shm.c ksys_shmdt:
// the shm mappings above addr whose segment offset is their distance from
// addr, of the segment the first of them maps). EINVAL if no segment is
// attached at addr.
func (s *AddressSpace) detachShmLocked(addr GuestAddr) error {
	if uint64(addr)%PageSize != 0 || uint64(addr) >= uint64(s.Limit) {
		return unix.EINVAL
	}
	var pieces []*Mapping
	for _, m := range s.maps.overlapping(addr, s.Limit) {
		if !m.Shm || m.Start < addr || uint64(m.Start-addr) != m.Offset {
			continue
		}
		if len(pieces) == 0 || m.ShmID == pieces[0].ShmID {
			pieces = append(pieces, m)
		}
	}
	if len(pieces) == 0 {
		return unix.EINVAL
	}
	for _, m := range pieces {
		s.unmapRange(m.Start, m.End)
	}
	s.staleTLB = true
	return nil
}
