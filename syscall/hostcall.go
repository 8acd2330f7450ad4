package syscall

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// errOf turns a raw host errno into an error (nil for 0).
func errOf(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// ptrOf is a NUL-terminated copy of s for a raw host call.
func ptrOf(s string) *byte {
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		// A guest string never holds a NUL (it was read up to one).
		return &[]byte{0}[0]
	}
	return p
}

func unsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

func putLE32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }

// readTimespecs reads guest struct timespec values (two longs each).
func (t *Task) readTimespecs(a mem.GuestAddr, ts []unix.Timespec) error {
	w := mem.GuestAddr(t.wordSize())
	for i := range ts {
		sec, err := t.getWord(a + mem.GuestAddr(i)*2*w)
		if err != nil {
			return err
		}
		nsec, err := t.getWord(a + mem.GuestAddr(i)*2*w + w)
		if err != nil {
			return err
		}
		if t.P.ABI.Class == 32 {
			sec, nsec = uint64(int64(int32(sec))), uint64(int64(int32(nsec)))
		}
		ts[i] = unix.Timespec{Sec: int64(sec), Nsec: int64(nsec)}
	}
	return nil
}

// writeTimespec writes a guest struct timespec.
func (t *Task) writeTimespec(a mem.GuestAddr, ts unix.Timespec) error {
	w := mem.GuestAddr(t.wordSize())
	if err := t.putWord(a, uint64(ts.Sec)); err != nil {
		return err
	}
	return t.putWord(a+w, uint64(ts.Nsec))
}
