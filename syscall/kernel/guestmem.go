package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// MaxRW is Linux's MAX_RW_COUNT: one read or write moves at most this much.
const MaxRW = 0x7ffff000

// HostBuf is host memory standing for a guest buffer during a host call:
// the guest's own pages when they are contiguous, else a copy.
type HostBuf struct {
	t     *Task
	addr  mem.GuestAddr
	B     []byte
	copy  bool
	write bool
}

// InBuf is a guest buffer the host call reads (write(2) and friends). Like
// Linux, a buffer that becomes unreadable part-way is cut short there; one
// unreadable from its first byte is EFAULT.
func (t *Task) InBuf(a mem.GuestAddr, n uint64) (*HostBuf, error) {
	return t.buf(a, n, mem.ProtRead, false, maxCopy)
}

// OutBuf is a guest buffer the host call writes (read(2) and friends);
// call done with the number of bytes written.
func (t *Task) OutBuf(a mem.GuestAddr, n uint64) (*HostBuf, error) {
	return t.buf(a, n, mem.ProtWrite, true, maxCopy)
}

// maxCopy bounds the host memory one call copies a guest buffer into when
// the buffer's pages are not contiguous in the arena: a longer transfer is
// cut short there, as a read or write may be.
const maxCopy = 64 << 20

func (t *Task) buf(a mem.GuestAddr, n uint64, need mem.Prot, write bool, copyLimit uint64) (*HostBuf, error) {
	n = min(n, MaxRW)
	if n == 0 {
		return &HostBuf{t: t, addr: a, B: []byte{}, write: write}, nil
	}
	n = t.P.Mem.Accessible(a, n, need)
	if n == 0 {
		return nil, unix.EFAULT
	}
	b, err := t.P.Mem.Slice(a, n, need)
	if err == mem.ErrSplit {
		if n = min(n, copyLimit); n == 0 {
			return &HostBuf{t: t, addr: a, B: []byte{}, write: write}, nil
		}
		b = make([]byte, n)
		if !write {
			if err := t.P.Mem.Read(a, b); err != nil {
				return nil, err
			}
		}
		return &HostBuf{t: t, addr: a, B: b, copy: true, write: write}, nil
	}
	if err != nil {
		return nil, err
	}
	return &HostBuf{t: t, addr: a, B: b, write: write}, nil
}

// Done finishes a host call that wrote n bytes into an outBuf.
func (h *HostBuf) Done(n int) error {
	if !h.write || n <= 0 {
		return nil
	}
	if h.copy {
		return h.t.P.Mem.Write(h.addr, h.B[:n])
	}
	h.t.P.Mem.Wrote(h.addr, uint64(n))
	return nil
}

// CopyOut writes b to the guest or fails with EFAULT.
func (t *Task) CopyOut(a mem.GuestAddr, b []byte) error { return t.P.Mem.Write(a, b) }

// CopyIn reads len(b) guest bytes or fails with EFAULT.
func (t *Task) CopyIn(a mem.GuestAddr, b []byte) error { return t.P.Mem.Read(a, b) }

func (t *Task) PutU32(a mem.GuestAddr, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return t.CopyOut(a, b[:])
}

func (t *Task) PutU64(a mem.GuestAddr, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return t.CopyOut(a, b[:])
}

func (t *Task) GetU32(a mem.GuestAddr) (uint32, error) {
	var b [4]byte
	err := t.CopyIn(a, b[:])
	return binary.LittleEndian.Uint32(b[:]), err
}

func (t *Task) GetU64(a mem.GuestAddr) (uint64, error) {
	var b [8]byte
	err := t.CopyIn(a, b[:])
	return binary.LittleEndian.Uint64(b[:]), err
}

// word reads or writes a guest long / pointer (4 or 8 bytes).
func (t *Task) GetWord(a mem.GuestAddr) (uint64, error) {
	if t.P.ABI.Class == 32 {
		v, err := t.GetU32(a)
		return uint64(v), err
	}
	return t.GetU64(a)
}

func (t *Task) PutWord(a mem.GuestAddr, v uint64) error {
	if t.P.ABI.Class == 32 {
		return t.PutU32(a, uint32(v))
	}
	return t.PutU64(a, v)
}

func (t *Task) WordSize() uint64 { return uint64(t.P.ABI.Class / 8) }

// LongMax is the largest C long (and off_t) of the guest.
func (t *Task) LongMax() int64 { return 1<<(t.P.ABI.Class-1) - 1 }

// CopyInStruct reads a fixed-layout struct from the guest.
func CopyInStruct[T any](t *Task, a mem.GuestAddr, v *T) error { return t.CopyIn(a, AsBytes(v)) }

// CopyOutStruct writes a fixed-layout struct to the guest.
func CopyOutStruct[T any](t *Task, a mem.GuestAddr, v *T) error { return t.CopyOut(a, AsBytes(v)) }

// PathMax is Linux's PATH_MAX.
const PathMax = 4096

// Path reads a path argument and maps it to the host (sysroot).
func (t *Task) Path(a mem.GuestAddr) (string, error) {
	p, err := t.P.Mem.ReadString(a, PathMax)
	if err != nil {
		return "", err
	}
	return t.P.FS.Host(p), nil
}

// GuestPath reads a path argument without mapping it.
func (t *Task) GuestPath(a mem.GuestAddr) (string, error) {
	return t.P.Mem.ReadString(a, PathMax)
}

// Iovec is one guest struct iovec.
type Iovec struct {
	base mem.GuestAddr
	len  uint64
}

// Base is the segment's guest address.
func (v Iovec) Base() mem.GuestAddr { return v.base }

// Len is the segment's length.
func (v Iovec) Len() uint64 { return v.len }

// Iovecs reads a guest iovec array.
func (t *Task) Iovecs(a mem.GuestAddr, n int) ([]Iovec, error) {
	if n < 0 || n > 1024 {
		return nil, unix.EINVAL
	}
	w := t.WordSize()
	out := make([]Iovec, n)
	var total uint64
	for i := range out {
		base, err := t.GetWord(a + mem.GuestAddr(uint64(i)*2*w))
		if err != nil {
			return nil, err
		}
		l, err := t.GetWord(a + mem.GuestAddr(uint64(i)*2*w+w))
		if err != nil {
			return nil, err
		}
		if int64(l) < 0 || (t.P.ABI.Class == 32 && int32(l) < 0) {
			return nil, unix.EINVAL
		}
		total += l
		out[i] = Iovec{mem.GuestAddr(base), l}
	}
	// __import_iovec: each segment must lie in user space (EFAULT), once
	// every length has been found not negative (EINVAL).
	for _, v := range out {
		if !t.AccessOK(v.base, v.len) {
			return nil, unix.EFAULT
		}
	}
	if total > 1<<62 {
		return nil, unix.EINVAL
	}
	return out, nil
}

// AccessOK is the kernel's access_ok: [a, a+n) lies in user space. read
// and write check the whole count so (fs/read_write.c vfs_read,
// vfs_write), before they cut it to MAX_RW_COUNT.
func (t *Task) AccessOK(a mem.GuestAddr, n uint64) bool {
	limit := t.P.ABI.Limit
	return n <= limit && uint64(a) <= limit-n
}

// HostIovecs turns guest iovecs into host buffers for readv/writev-like calls;
// buffers stop at the first inaccessible byte, as Linux stops copying there.
//
// Like Linux, the whole transfer is at most MAX_RW_COUNT bytes (import_iovec
// shortens the segments), and xemu copies at most maxCopy bytes of
// scattered guest pages per call, however the segments overlap.
func (t *Task) HostIovecs(iov []Iovec, write bool) ([]*HostBuf, [][]byte, error) {
	var bufs []*HostBuf
	var slices [][]byte
	left, copyLeft := uint64(MaxRW), uint64(maxCopy)
	for i, v := range iov {
		if v.len == 0 {
			continue
		}
		if left == 0 {
			break
		}
		v.len = min(v.len, left)
		var h *HostBuf
		var err error
		if write {
			h, err = t.buf(v.base, v.len, mem.ProtWrite, true, copyLeft)
		} else {
			h, err = t.buf(v.base, v.len, mem.ProtRead, false, copyLeft)
		}
		if err != nil {
			if i == 0 || len(bufs) == 0 {
				return nil, nil, err
			}
			break
		}
		if len(h.B) == 0 {
			break
		}
		bufs = append(bufs, h)
		slices = append(slices, h.B)
		left -= uint64(len(h.B))
		if h.copy {
			copyLeft -= uint64(len(h.B))
		}
		if uint64(len(h.B)) < v.len {
			break
		}
	}
	return bufs, slices, nil
}

// FinishIovecs distributes n written bytes back over the buffers.
func FinishIovecs(bufs []*HostBuf, n int) error {
	for _, h := range bufs {
		if n <= 0 {
			break
		}
		k := min(n, len(h.B))
		if err := h.Done(k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}
