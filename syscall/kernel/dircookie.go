package kernel

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"
)

// Directory offsets for 32-bit guests. A directory's offsets (d_off in each
// entry, lseek and telldir positions) are cookies the file system chooses:
// ext4 with hashed directories gives 64-bit hashes to 64-bit callers and
// 31-bit ones to 32-bit kernels and compat tasks. xemu is a 64-bit process, so
// the host gives it the wide ones, and a 32-bit C library refuses them (glibc's
// non-LFS readdir reports EOVERFLOW and the loop ends at once). For ABIs with
// SmallDirCookies, each open directory gets a table that numbers the host's
// cookies 1, 2, 3... in the order the guest first sees them; the guest sees
// only the numbers and hands them back to lseek, which looks the host cookie
// up again. 0 (the start of the directory) stands for itself.

// dirStream renumbers the offsets of one open directory description.
type dirStream struct {
	host  []int64         // guest offset n stands for host[n-1]
	guest map[int64]int64 // and back
}

func newDirStream() *dirStream { return &dirStream{guest: map[int64]int64{}} }

// ToGuest is the guest's number for a host offset, given on first sight.
func (d *dirStream) ToGuest(h int64) int64 {
	if h == 0 {
		return 0
	}
	if g, ok := d.guest[h]; ok {
		return g
	}
	d.host = append(d.host, h)
	g := int64(len(d.host))
	d.guest[h] = g
	return g
}

// ToHost is the host offset a guest number stands for. A number this stream
// never gave passes unchanged, as the file system would take it.
func (d *dirStream) ToHost(g int64) int64 {
	if g >= 1 && g <= int64(len(d.host)) {
		return d.host[g-1]
	}
	return g
}

// dirStreams are a process's renumbered directories by descriptor. A
// descriptor made by dup shares its original's stream, as it shares the open
// description and its position; a stream goes when its last descriptor closes.
type dirStreams struct {
	byFD map[int]*dirStream
}

func (s *dirStreams) Get(fd int) *dirStream { return s.byFD[fd] }

func (s *dirStreams) open(fd int) *dirStream {
	if d := s.byFD[fd]; d != nil {
		return d
	}
	if s.byFD == nil {
		s.byFD = map[int]*dirStream{}
	}
	d := newDirStream()
	s.byFD[fd] = d
	return d
}

// Dup records that to is now a copy of from (dup, dup2, dup3, F_DUPFD).
func (s *dirStreams) Dup(from, to int) {
	if from == to {
		return
	}
	delete(s.byFD, to)
	if d := s.byFD[from]; d != nil {
		s.byFD[to] = d
	}
}

func (s *dirStreams) Close(fd int) { delete(s.byFD, fd) }

func (s *dirStreams) CloseRange(first, last uint64) {
	for fd := range s.byFD {
		if uint64(fd) >= first && uint64(fd) <= last {
			delete(s.byFD, fd)
		}
	}
}

// RenumberDirents replaces the host offsets in a buffer of struct
// linux_dirent64 (d_ino u64, d_off s64, d_reclen u16, ...) that getdents64
// filled from fd.
func (t *Task) RenumberDirents(fd int, buf []byte) {
	if !t.P.ABI.SmallDirCookies || len(buf) == 0 {
		return
	}
	d := t.P.Dirs.open(fd)
	for off := 0; off+19 <= len(buf); {
		reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
		if reclen == 0 {
			break
		}
		h := int64(binary.LittleEndian.Uint64(buf[off+8:]))
		binary.LittleEndian.PutUint64(buf[off+8:], uint64(d.ToGuest(h)))
		off += reclen
	}
}

// Seek is lseek on a guest descriptor, in the guest's directory offsets.
func (t *Task) Seek(fd int, off int64, whence int) (int64, error) {
	if !t.P.ABI.SmallDirCookies {
		return unix.Seek(fd, off, whence)
	}
	d := t.P.Dirs.Get(fd)
	if d != nil && whence == unix.SEEK_SET {
		off = d.ToHost(off)
	}
	r, err := unix.Seek(fd, off, whence)
	if err != nil {
		return 0, err
	}
	if d == nil && r > math.MaxInt32 && isDir(fd) {
		// A position past what a 32-bit kernel gives, on a directory
		// not read yet (lseek to the end of a hashed directory).
		d = t.P.Dirs.open(fd)
	}
	if d != nil {
		r = d.ToGuest(r)
	}
	return r, nil
}

func isDir(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}
