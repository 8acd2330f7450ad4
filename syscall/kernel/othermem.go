package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// Another xemu's guest memory, for /proc/PID/mem, /proc/PID/pagemap and
// process_vm_readv/writev of that process: its host memory is not its
// guest's, so the xemu that owns the guest memory answers requests for it
// on its guest view socket (guestview.go), through the checked door with
// its guest's permissions, a page at a time, stopping at the first page it
// may not touch as Linux's access_remote_vm does.
//
// A request is one datagram: an operation byte (below ' ', which no file
// name of the guest view begins with), the guest address (or pagemap
// offset) as 8 bytes and a count as 4, little-endian, then for a write its
// bytes. The answer is one datagram: guestViewLast and the bytes read (a
// write: the count written, 4 bytes), or guestViewRefused.

const (
	memRequestHead = 13

	memRead    = 1 // PTRACE_MODE_ATTACH
	memWrite   = 2 // PTRACE_MODE_ATTACH
	memPagemap = 3 // PTRACE_MODE_READ (fs/proc/task_mmu.c pagemap_open)
)

// answerMem serves a memory request from a requester with credentials
// cred.
func (p *Process) answerMem(fd int, to *unix.SockaddrUnix, cred *unix.Ucred, req []byte) {
	refuse := func() { sendDatagram(fd, to, []byte{guestViewRefused}) }
	if len(req) < memRequestHead {
		refuse()
		return
	}
	op := req[0]
	addr := binary.LittleEndian.Uint64(req[1:9])
	n := binary.LittleEndian.Uint32(req[9:13])
	payload := req[memRequestHead:]
	if n > guestViewChunk || op == memWrite && len(payload) != int(n) || op != memWrite && len(payload) != 0 {
		refuse()
		return
	}
	if !mayAccess(*cred, thisTarget(), op != memPagemap) {
		refuse()
		return
	}
	var body []byte
	switch op {
	case memRead:
		b := make([]byte, n)
		body = b[:p.memIO(addr, b, false)]
	case memWrite:
		body = binary.LittleEndian.AppendUint32(nil, uint32(p.memIO(addr, payload, true)))
	case memPagemap:
		b, err := p.pagemapAt(addr, uint64(n))
		if err != nil {
			refuse()
			return
		}
		if cred.Uid != 0 {
			// Frame numbers only for CAP_SYS_ADMIN (pagemap_read's
			// show_pfn), whatever this xemu may see itself: bits 0-54.
			for i := 0; i+pagemapEntry <= len(b); i += pagemapEntry {
				v := binary.LittleEndian.Uint64(b[i:])
				binary.LittleEndian.PutUint64(b[i:], v&^(1<<55-1))
			}
		}
		body = b
	default:
		refuse()
		return
	}
	sendDatagram(fd, to, append([]byte{guestViewLast}, body...))
}

// memIO reads or writes guest memory at addr page by page, stopping at the
// first page the guest may not touch so; it returns the bytes moved.
func (p *Process) memIO(addr uint64, b []byte, write bool) int {
	n := 0
	code := false
	for n < len(b) {
		a := addr + uint64(n)
		chunk := min(len(b)-n, int(mem.PageSize-a%mem.PageSize))
		var err error
		if write {
			err = p.Mem.Write(mem.GuestAddr(a), b[n:n+chunk])
			code = code || err == nil && p.Mem.Check(mem.GuestAddr(a), 1, mem.ProtExec) == nil
		} else {
			err = p.Mem.Read(mem.GuestAddr(a), b[n:n+chunk])
		}
		if err != nil {
			break
		}
		n += chunk
	}
	if code {
		// Written from outside the guest's threads: the write has
		// dropped the code translated from these bytes, and the guest's
		// engines must have seen that before the writer hears it is done.
		p.waitEngines(p.mmGen.Load())
	}
	return n
}

// OtherMem is a way to the guest memory of another xemu process, for the
// length of one system call.
type OtherMem struct{ c *guestViewConn }

// DialOtherMem readies access to the guest memory of the xemu running as
// pid: for reading and writing (/proc/PID/mem, process_vm_*), or for its
// pagemap. EACCES if pid is not an xemu that answers, or it refuses the
// access.
func DialOtherMem(pid int, pagemap bool) (*OtherMem, error) {
	m, ok := newOtherMem(pid)
	if !ok {
		return nil, unix.EACCES
	}
	op := byte(memRead)
	if pagemap {
		op = memPagemap
	}
	if _, err := m.request(op, 0, 0, nil); err != nil {
		m.Close()
		return nil, unix.EACCES
	}
	return m, nil
}

// newOtherMem is DialOtherMem without asking for access first: the
// requests that follow are refused if it is not given.
func newOtherMem(pid int) (*OtherMem, bool) {
	c, ok := dialGuestView(pid)
	if !ok {
		return nil, false
	}
	return &OtherMem{c}, true
}

func (m *OtherMem) Close() { m.c.close() }

// request sends one request and returns the answer's bytes: EACCES if
// refused, EIO if no answer came.
func (m *OtherMem) request(op byte, addr uint64, n int, payload []byte) ([]byte, error) {
	req := make([]byte, memRequestHead, memRequestHead+len(payload))
	req[0] = op
	binary.LittleEndian.PutUint64(req[1:9], addr)
	binary.LittleEndian.PutUint32(req[9:13], uint32(n))
	if m.c.send(append(req, payload...)) != nil {
		return nil, unix.EIO
	}
	body, head, ok := m.c.receive()
	switch {
	case !ok:
		return nil, unix.EIO
	case head == guestViewRefused:
		return nil, unix.EACCES
	case head != guestViewLast:
		return nil, unix.EIO
	}
	return body, nil
}

// MemIO reads guest memory at addr into b, or writes b there, in requests
// of at most guestViewChunk bytes, up to the first page the target may not
// touch so: fewer than len(b) bytes then. err is set only when the target
// refused or stopped answering, with what was moved before in n.
func (m *OtherMem) MemIO(b []byte, addr uint64, write bool) (n int, err error) {
	for n < len(b) {
		chunk := min(len(b)-n, guestViewChunk)
		a := addr + uint64(n)
		var got int
		if write {
			body, err := m.request(memWrite, a, chunk, b[n:n+chunk])
			if err != nil {
				return n, err
			}
			if len(body) != 4 {
				return n, unix.EIO
			}
			got = int(min(binary.LittleEndian.Uint32(body), uint32(chunk)))
		} else {
			body, err := m.request(memRead, a, chunk, nil)
			if err != nil {
				return n, err
			}
			got = copy(b[n:n+chunk], body)
		}
		n += got
		if got < chunk {
			break
		}
	}
	return n, nil
}

// Pagemap reads n bytes of the target's /proc/PID/pagemap at offset off
// (both multiples of pagemapEntry), fewer at its end.
func (m *OtherMem) Pagemap(off, n uint64) ([]byte, error) {
	var out []byte
	for uint64(len(out)) < n {
		chunk := min(n-uint64(len(out)), guestViewChunk)
		body, err := m.request(memPagemap, off+uint64(len(out)), int(chunk), nil)
		if err != nil {
			return nil, err
		}
		out = append(out, body...)
		if uint64(len(body)) < chunk {
			break
		}
	}
	return out, nil
}
