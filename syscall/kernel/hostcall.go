package kernel

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// ErrOf turns a raw host errno into an error (nil for 0).
func ErrOf(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// PtrOf is a NUL-terminated copy of s for a raw host call.
func PtrOf(s string) *byte {
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		// A guest string never holds a NUL (it was read up to one).
		return &[]byte{0}[0]
	}
	return p
}

func UnsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

func PutLE32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }

// TimespecSize is the size of the guest's struct timespec in the call being
// handled: two longs, or two 64-bit fields in the *_time64 calls.
func (t *Task) TimespecSize() uint64 {
	if t.Time64 {
		return 16
	}
	return 2 * t.WordSize()
}

// ReadTimespecs reads guest struct timespec values (two longs each, or
// __kernel_timespec in the *_time64 calls).
func (t *Task) ReadTimespecs(a mem.GuestAddr, ts []unix.Timespec) error {
	if t.Time64 {
		var b [16]byte
		for i := range ts {
			if err := t.CopyIn(a+mem.GuestAddr(16*i), b[:]); err != nil {
				return err
			}
			nsec := int64(binary.LittleEndian.Uint64(b[8:]))
			if t.P.ABI.Class == 32 {
				// get_timespec64: a 32-bit task's tv_nsec is its low half
				// (the rest is padding its C library may leave unset).
				nsec = int64(int32(nsec))
			}
			ts[i] = unix.Timespec{Sec: int64(binary.LittleEndian.Uint64(b[:])), Nsec: nsec}
		}
		return nil
	}
	w := mem.GuestAddr(t.WordSize())
	for i := range ts {
		sec, err := t.GetWord(a + mem.GuestAddr(i)*2*w)
		if err != nil {
			return err
		}
		nsec, err := t.GetWord(a + mem.GuestAddr(i)*2*w + w)
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

// WriteTimespec writes a guest struct timespec.
func (t *Task) WriteTimespec(a mem.GuestAddr, ts unix.Timespec) error {
	if t.Time64 {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(ts.Sec))
		binary.LittleEndian.PutUint64(b[8:], uint64(ts.Nsec))
		return t.CopyOut(a, b[:])
	}
	w := mem.GuestAddr(t.WordSize())
	if err := t.PutWord(a, uint64(ts.Sec)); err != nil {
		return err
	}
	return t.PutWord(a+w, uint64(ts.Nsec))
}
