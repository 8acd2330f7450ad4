package linux

import (
	"encoding/binary"
	"runtime"
	"unsafe"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// Sockets. Socket addresses (struct sockaddr and every family's variant),
// the SOCK_*, MSG_* and SOL_SOCKET numbers and the SOCK_NONBLOCK/SOCK_CLOEXEC
// flags (O_NONBLOCK/O_CLOEXEC) are the same on ARM, AArch64 and x86-64, so
// they pass through as bytes and numbers. What follows the guest's word size
// is struct msghdr, struct mmsghdr and struct cmsghdr (pointers and size_t),
// which are converted field by field.
//
// AF_UNIX paths are not mapped through the sysroot: a socket names a
// rendezvous point on the host, as with qemu-user.

func init() {
	kernel.AddEntries(map[string]*kernel.Entry{
		"socket":      {NewFD: true, Fn: socket, Args: kernel.Kinds(kernel.KInt, kernel.KHex, kernel.KInt)},
		"socketpair":  {Fn: socketpair, Args: kernel.Kinds(kernel.KInt, kernel.KHex, kernel.KInt, kernel.KPtr)},
		"bind":        {Fn: bind, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KInt)},
		"connect":     {SockTimeout: unix.SO_SNDTIMEO, Fn: connect, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KInt)},
		"listen":      {Fn: listen, Args: kernel.Kinds(kernel.KFD, kernel.KInt)},
		"accept":      {NewFD: true, SockTimeout: unix.SO_RCVTIMEO, Fn: accept, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KPtr)},
		"accept4":     {NewFD: true, SockTimeout: unix.SO_RCVTIMEO, Fn: accept4, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KPtr, kernel.KHex)},
		"getsockname": {Fn: getsockname, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KPtr)},
		"getpeername": {Fn: getpeername, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KPtr)},
		"sendto":      {SockTimeout: unix.SO_SNDTIMEO, Fn: sendto, Args: kernel.Kinds(kernel.KFD, kernel.KStrBuf, kernel.KULong, kernel.KHex, kernel.KPtr, kernel.KInt)},
		"recvfrom":    {SockTimeout: unix.SO_RCVTIMEO, Fn: recvfrom, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KULong, kernel.KHex, kernel.KPtr, kernel.KPtr)},
		"send":        {SockTimeout: unix.SO_SNDTIMEO, Fn: send, Args: kernel.Kinds(kernel.KFD, kernel.KStrBuf, kernel.KULong, kernel.KHex)},
		"recv":        {SockTimeout: unix.SO_RCVTIMEO, Fn: recv, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KULong, kernel.KHex)},
		"sendmsg":     {SockTimeout: unix.SO_SNDTIMEO, Fn: sendmsg, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KHex)},
		"recvmsg":     {SockTimeout: unix.SO_RCVTIMEO, Fn: recvmsg, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KHex)},
		"sendmmsg":    {SockTimeout: unix.SO_SNDTIMEO, Fn: sendmmsg, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KUint, kernel.KHex)},
		"recvmmsg":    {SockTimeout: unix.SO_RCVTIMEO, Fn: recvmmsg, Args: kernel.Kinds(kernel.KFD, kernel.KPtr, kernel.KUint, kernel.KHex, kernel.KPtr)},
		"getsockopt":  {Fn: getsockopt, Args: kernel.Kinds(kernel.KFD, kernel.KInt, kernel.KInt, kernel.KPtr, kernel.KPtr), Support: kernel.Partial, Note: "option values pass as bytes (up to 1 MiB); those holding pointers other than SO_ATTACH_FILTER are not converted"},
		"setsockopt":  {Fn: setsockopt, Args: kernel.Kinds(kernel.KFD, kernel.KInt, kernel.KInt, kernel.KPtr, kernel.KInt), Support: kernel.Partial, Note: "option values pass as bytes (up to 1 MiB); those holding pointers other than SO_ATTACH_FILTER are not converted"},
		"shutdown":    {Fn: shutdown, Args: kernel.Kinds(kernel.KFD, kernel.KInt)},
	})
}

const (
	// sockaddrMax is sizeof(struct sockaddr_storage).
	sockaddrMax = 128
	// uioMaxIOV is UIO_MAXIOV: the most iovecs in one message, and the most
	// messages in one sendmmsg/recvmmsg.
	uioMaxIOV = 1024
	// maxSockoptLen bounds the bounce buffer of an option value.
	maxSockoptLen = 1 << 20
	// maxSendControl bounds a control buffer sent; Linux refuses more than
	// net.core.optmem_max (ENOBUFS), which is far less by default.
	maxSendControl = 1 << 20
	// maxRecvControl bounds the control buffer of one host receive: more than
	// SCM_MAX_FD descriptors and every other message a socket can attach.
	maxRecvControl = 1 << 16

	solSocket             = 1
	scmRights             = 1
	soAttachFilter        = 26
	soAttachReuseportCBPF = 51
	// The pre-time64 options and messages holding a struct timeval or
	// timespec of the guest's longs (include/uapi/asm-generic/socket.h).
	soRcvtimeoOld     = 20
	soSndtimeoOld     = 21
	soTimestampOld    = 29
	soTimestampnsOld  = 35
	soTimestampingOld = 37
	msgCtrunc         = 0x8
	bpfMaxInsns       = 4096
)

// sockaddrIn reads a socket address the guest passes in, as
// move_addr_to_kernel does.
func sockaddrIn(t *kernel.Task, a mem.GuestAddr, n int) ([]byte, error) {
	if n < 0 || n > sockaddrMax {
		return nil, unix.EINVAL
	}
	// Room past the length: a zero-length address is still an address.
	b := make([]byte, n, sockaddrMax)
	return b, t.CopyIn(a, b)
}

// sockaddrOut is a guest (struct sockaddr *, socklen_t *) pair a call fills.
type sockaddrOut struct {
	addr, lenAddr mem.GuestAddr
	capacity      uint32
	buf           [sockaddrMax]byte
	n             uint32 // the length the host reported
}

// sockaddrOutArg reads the guest's buffer size; nil when addr is NULL.
func sockaddrOutArg(t *kernel.Task, addr, lenAddr mem.GuestAddr) (*sockaddrOut, error) {
	if addr == 0 {
		return nil, nil
	}
	n, err := t.GetU32(lenAddr)
	if err != nil {
		return nil, err
	}
	if int32(n) < 0 {
		return nil, unix.EINVAL
	}
	return &sockaddrOut{addr: addr, lenAddr: lenAddr, capacity: n, n: sockaddrMax}, nil
}

// host returns the buffer and length pointers for the host call (nil for none).
func (o *sockaddrOut) host() (unsafe.Pointer, unsafe.Pointer) {
	if o == nil {
		return nil, nil
	}
	return unsafe.Pointer(&o.buf[0]), unsafe.Pointer(&o.n)
}

// put writes the address back as move_addr_to_user does: as much as fits,
// and the full length.
func putSockaddr(t *kernel.Task, o *sockaddrOut) error {
	if o == nil {
		return nil
	}
	k := min(o.n, o.capacity, sockaddrMax)
	if err := t.CopyOut(o.addr, o.buf[:k]); err != nil {
		return err
	}
	return t.PutU32(o.lenAddr, o.n)
}

func socket(t *kernel.Task, a kernel.Args) (uint64, error) {
	fd, err := unix.Socket(a.Int(0), a.Int(1), a.Int(2))
	return uint64(fd), err
}

func socketpair(t *kernel.Task, a kernel.Args) (uint64, error) {
	fds, err := unix.Socketpair(a.Int(0), a.Int(1), a.Int(2))
	if err != nil {
		return 0, err
	}
	if err := t.P.NewFDs(fds[0], fds[1]); err != nil {
		return 0, err
	}
	b := make([]byte, 8)
	kernel.PutLE32(b, uint32(fds[0]))
	kernel.PutLE32(b[4:], uint32(fds[1]))
	if err := t.CopyOut(a.Addr(3), b); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return 0, err
	}
	return 0, nil
}

// sockaddrCall is bind or connect: a descriptor and an address passed in.
func sockaddrCall(t *kernel.Task, nr uintptr, fd int, addr mem.GuestAddr, n int) (uint64, error) {
	if err := t.CheckFD(fd); err != nil {
		return 0, err
	}
	sa, err := sockaddrIn(t, addr, n)
	if err != nil {
		return 0, err
	}
	_, _, e := unix.Syscall(nr, uintptr(fd), uintptr(slicePtr(sa)), uintptr(len(sa)))
	return 0, kernel.ErrOf(e)
}

func bind(t *kernel.Task, a kernel.Args) (uint64, error) {
	return sockaddrCall(t, unix.SYS_BIND, a.FD(0), a.Addr(1), a.Int(2))
}

func connect(t *kernel.Task, a kernel.Args) (uint64, error) {
	return sockaddrCall(t, unix.SYS_CONNECT, a.FD(0), a.Addr(1), a.Int(2))
}

func listen(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	return 0, unix.Listen(a.FD(0), a.Int(1))
}

func accept(t *kernel.Task, a kernel.Args) (uint64, error) {
	return accept4(t, kernel.Args{a[0], a[1], a[2], 0})
}

func accept4(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	// Read the address size first, as qemu-user does, so that a bad pointer
	// does not cost the guest the connection.
	out, err := sockaddrOutArg(t, a.Addr(1), a.Addr(2))
	if err != nil {
		return 0, err
	}
	// A connection taken for a descriptor the guest may not have would be
	// lost: no room, none taken.
	if err := t.P.FDRoom(1); err != nil {
		return 0, err
	}
	sa, salen := out.host()
	fd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(a.FD(0)), uintptr(sa), uintptr(salen), uintptr(a.Int(3)), 0, 0)
	if e != 0 {
		return 0, e
	}
	if err := putSockaddr(t, out); err != nil {
		unix.Close(int(fd))
		return 0, err
	}
	return uint64(fd), nil
}

// nameCall is getsockname or getpeername.
func nameCall(t *kernel.Task, nr uintptr, fd int, addr, lenAddr mem.GuestAddr) (uint64, error) {
	if err := t.CheckFD(fd); err != nil {
		return 0, err
	}
	n, err := t.GetU32(lenAddr)
	if err != nil {
		return 0, err
	}
	if int32(n) < 0 {
		return 0, unix.EINVAL
	}
	out := &sockaddrOut{addr: addr, lenAddr: lenAddr, capacity: n, n: sockaddrMax}
	sa, salen := out.host()
	if _, _, e := unix.Syscall(nr, uintptr(fd), uintptr(sa), uintptr(salen)); e != 0 {
		return 0, e
	}
	return 0, putSockaddr(t, out)
}

func getsockname(t *kernel.Task, a kernel.Args) (uint64, error) {
	return nameCall(t, unix.SYS_GETSOCKNAME, a.FD(0), a.Addr(1), a.Addr(2))
}

func getpeername(t *kernel.Task, a kernel.Args) (uint64, error) {
	return nameCall(t, unix.SYS_GETPEERNAME, a.FD(0), a.Addr(1), a.Addr(2))
}

func sendto(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	b, err := t.InBuf(a.Addr(1), a.U64(2))
	if err != nil {
		return 0, err
	}
	var sa []byte
	if a.Addr(4) != 0 {
		if sa, err = sockaddrIn(t, a.Addr(4), a.Int(5)); err != nil {
			return 0, err
		}
	}
	n, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(a.FD(0)), uintptr(slicePtr(b.B)), uintptr(len(b.B)), uintptr(a.Int(3)), uintptr(slicePtr(sa)), uintptr(len(sa)))
	return uint64(n), kernel.ErrOf(e)
}

func recvfrom(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	b, err := t.OutBuf(a.Addr(1), a.U64(2))
	if err != nil {
		return 0, err
	}
	out, err := sockaddrOutArg(t, a.Addr(4), a.Addr(5))
	if err != nil {
		return 0, err
	}
	sa, salen := out.host()
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(a.FD(0)), uintptr(slicePtr(b.B)), uintptr(len(b.B)), uintptr(a.Int(3)), uintptr(sa), uintptr(salen))
	if e != 0 {
		return 0, e
	}
	// With MSG_TRUNC a datagram's full length comes back, not what was copied.
	if err := b.Done(min(int(n), len(b.B))); err != nil {
		return 0, err
	}
	return uint64(n), putSockaddr(t, out)
}

func send(t *kernel.Task, a kernel.Args) (uint64, error) {
	return sendto(t, kernel.Args{a[0], a[1], a[2], a[3], 0, 0})
}

func recv(t *kernel.Task, a kernel.Args) (uint64, error) {
	return recvfrom(t, kernel.Args{a[0], a[1], a[2], a[3], 0, 0})
}

func shutdown(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	return 0, unix.Shutdown(a.FD(0), a.Int(1))
}

// msghdr is a guest struct msghdr, decoded. Every field takes one guest word:
// void *msg_name; int msg_namelen; struct iovec *msg_iov; size_t msg_iovlen;
// void *msg_control; size_t msg_controllen; unsigned msg_flags — with the
// ints padded to 8 bytes on 64-bit guests (include/linux/socket.h
// user_msghdr, compat_msghdr on 32-bit). struct mmsghdr appends an unsigned
// msg_len, again padded to a word.
type msghdr struct {
	name       mem.GuestAddr
	namelen    uint32
	iov        mem.GuestAddr
	iovlen     uint64
	control    mem.GuestAddr
	controllen uint64
	flags      uint32
}

// Field positions of struct msghdr and struct mmsghdr, in guest words.
const (
	msgNamelenWord    = 1
	msgControllenWord = 5
	msgFlagsWord      = 6
	msgLenWord        = 7 // struct mmsghdr's msg_len
	msghdrWords       = 7
	mmsghdrWords      = 8
)

func readMsghdr(t *kernel.Task, a mem.GuestAddr) (msghdr, error) {
	w := int(t.WordSize())
	b := make([]byte, msghdrWords*w)
	if err := t.CopyIn(a, b); err != nil {
		return msghdr{}, err
	}
	word := func(i int) uint64 {
		if w == 4 {
			return uint64(binary.LittleEndian.Uint32(b[i*4:]))
		}
		return binary.LittleEndian.Uint64(b[i*8:])
	}
	return msghdr{
		name: mem.GuestAddr(word(0)), namelen: uint32(word(1)),
		iov: mem.GuestAddr(word(2)), iovlen: word(3),
		control: mem.GuestAddr(word(4)), controllen: word(5),
		flags: uint32(word(6)),
	}, nil
}

// cmsgLayout is where struct cmsghdr's fields sit: size_t cmsg_len, int
// cmsg_level, int cmsg_type, then the data at the header's size rounded up
// to a long; every message is padded to a long too (CMSG_ALIGN in
// include/linux/socket.h). So the layout follows the word size: 16-byte
// headers on AArch64 and x86-64, 12 on 32-bit ARM.
type cmsgLayout struct{ word int }

var hostCmsg = cmsgLayout{word: 8}

func (l cmsgLayout) align(n int) int { return (n + l.word - 1) &^ (l.word - 1) }
func (l cmsgLayout) hdr() int        { return l.align(l.word + 8) }

func guestCmsgLayout(t *kernel.Task) cmsgLayout { return cmsgLayout{word: int(t.WordSize())} }

// controlMsg is one control message, independent of layout.
type controlMsg struct {
	level, typ int32
	data       []byte
}

func (m controlMsg) rights() bool { return m.level == solSocket && m.typ == scmRights }

// fds lists the descriptors of an SCM_RIGHTS message.
func (m controlMsg) fds() []int {
	if !m.rights() {
		return nil
	}
	fds := make([]int, len(m.data)/4)
	for i := range fds {
		fds[i] = int(int32(binary.LittleEndian.Uint32(m.data[4*i:])))
	}
	return fds
}

// parseControl splits a control buffer laid out as l. Like the kernel's
// for_each_cmsghdr it stops where no further header fits; like CMSG_OK in
// __scm_send it refuses (EINVAL) a length shorter than the header or
// running past the buffer.
func parseControl(l cmsgLayout, b []byte) ([]controlMsg, error) {
	var msgs []controlMsg
	hdr := l.hdr()
	for off := 0; off+hdr <= len(b); {
		var n uint64
		if l.word == 4 {
			n = uint64(binary.LittleEndian.Uint32(b[off:]))
		} else {
			n = binary.LittleEndian.Uint64(b[off:])
		}
		if n < uint64(hdr) || n > uint64(len(b)-off) {
			return nil, unix.EINVAL
		}
		msgs = append(msgs, controlMsg{
			level: int32(binary.LittleEndian.Uint32(b[off+l.word:])),
			typ:   int32(binary.LittleEndian.Uint32(b[off+l.word+4:])),
			data:  b[off+hdr : off+int(n)],
		})
		off += min(l.align(int(n)), len(b)-off)
	}
	return msgs, nil
}

// encodeControl lays messages out as l in at most capacity bytes, the way the
// kernel's put_cmsg and scm_detach_fds fill a receiver's buffer: a message
// that does not fit whole is cut short and flags MSG_CTRUNC, except that an
// SCM_RIGHTS message keeps only the descriptors that fit; the descriptors
// left out are returned for the caller to close.
func encodeControl(l cmsgLayout, msgs []controlMsg, capacity int) (out []byte, truncated bool, dropped []int) {
	hdr := l.hdr()
	for _, m := range msgs {
		room := capacity - len(out)
		data := m.data
		if m.rights() {
			fit := 0
			if room > hdr {
				fit = (room - hdr) / 4
			}
			if fds := m.fds(); fit < len(fds) {
				dropped = append(dropped, fds[fit:]...)
				data = data[:fit*4]
				truncated = true
			}
			if len(data) == 0 {
				continue
			}
		} else if room < hdr {
			truncated = true
			continue
		} else if hdr+len(data) > room {
			data = data[:room-hdr]
			truncated = true
		}
		n := hdr + len(data)
		h := make([]byte, hdr)
		if l.word == 4 {
			binary.LittleEndian.PutUint32(h, uint32(n))
		} else {
			binary.LittleEndian.PutUint64(h, uint64(n))
		}
		binary.LittleEndian.PutUint32(h[l.word:], uint32(m.level))
		binary.LittleEndian.PutUint32(h[l.word+4:], uint32(m.typ))
		out = append(append(out, h...), data...)
		out = append(out, make([]byte, min(l.align(n), room)-n)...)
	}
	return out, truncated, dropped
}

// guestControlData converts a received message's data to the guest's
// layout: the old timestamps are pairs of longs (struct timeval, timespec,
// or three timespecs for SO_TIMESTAMPING), 64-bit on the host. Everything
// else (descriptors, credentials, IP and IPv6 messages) is the same bytes.
func guestControlData(t *kernel.Task, c controlMsg) controlMsg {
	if c.level != solSocket || (c.typ != soTimestampOld && c.typ != soTimestampnsOld && c.typ != soTimestampingOld) {
		return c
	}
	v := make([]int64, len(c.data)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(c.data[8*i:]))
	}
	c.data = longs(t, v...)
	return c
}

// closeFDs closes host descriptors the guest will never see.
func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// sockMsg is one guest struct msghdr made ready for a host sendmsg or
// recvmsg: the host struct points into guest memory (through the memory
// door's buffers) and at converted names and control messages.
type sockMsg struct {
	at      mem.GuestAddr // the guest's struct msghdr
	g       msghdr
	bufs    []*kernel.HostBuf
	iov     []unix.Iovec
	name    []byte
	control []byte
}

// prepareMsg reads the guest's struct msghdr at `at` and fills h for the
// host, checking what __copy_msghdr and ____sys_sendmsg check, in order.
func prepareMsg(t *kernel.Task, at mem.GuestAddr, recv bool, h *unix.Msghdr) (*sockMsg, error) {
	g, err := readMsghdr(t, at)
	if err != nil {
		return nil, err
	}
	m := &sockMsg{at: at, g: g}
	if int32(g.namelen) < 0 && g.name != 0 {
		return nil, unix.EINVAL
	}
	switch {
	case g.name != 0 && recv:
		// The sender's length is reported whatever room the guest gave.
		m.name = make([]byte, sockaddrMax)
	case g.name != 0 && g.namelen != 0:
		// A longer name is cut to sockaddr_storage, not refused.
		m.name = make([]byte, min(g.namelen, sockaddrMax))
		if err := t.CopyIn(g.name, m.name); err != nil {
			return nil, err
		}
	}
	if m.name != nil {
		h.Name = &m.name[0]
		h.Namelen = uint32(len(m.name))
	}
	if g.iovlen > uioMaxIOV {
		return nil, unix.EMSGSIZE
	}
	iov, err := t.Iovecs(g.iov, int(g.iovlen))
	if err != nil {
		return nil, err
	}
	bufs, slices, err := t.HostIovecs(iov, recv)
	if err != nil {
		return nil, err
	}
	m.bufs = bufs
	for _, s := range slices {
		m.iov = append(m.iov, unix.Iovec{Base: &s[0], Len: uint64(len(s))})
	}
	if len(m.iov) > 0 {
		h.Iov = &m.iov[0]
		h.Iovlen = uint64(len(m.iov))
	}
	if err := prepareControl(t, m, recv); err != nil {
		return nil, err
	}
	if len(m.control) > 0 {
		h.Control = &m.control[0]
		h.Controllen = uint64(len(m.control))
	}
	return m, nil
}

// prepareControl converts a control buffer to send into the host's layout,
// or makes room for the host's to receive.
func prepareControl(t *kernel.Task, m *sockMsg, recv bool) error {
	l := guestCmsgLayout(t)
	n := m.g.controllen
	if recv {
		if m.g.control == 0 || n == 0 {
			return nil
		}
		if l != hostCmsg {
			// Each guest message grows by less than its own size on the host.
			n *= 2
		}
		m.control = make([]byte, min(n, maxRecvControl))
		return nil
	}
	if n == 0 {
		return nil
	}
	if n > maxSendControl {
		return unix.ENOBUFS
	}
	b := make([]byte, n)
	if err := t.CopyIn(m.g.control, b); err != nil {
		return err
	}
	msgs, err := parseControl(l, b)
	if err != nil {
		return err
	}
	for _, c := range msgs {
		for _, fd := range c.fds() {
			if err := t.CheckFD(fd); err != nil {
				return err
			}
		}
	}
	m.control, _, _ = encodeControl(hostCmsg, msgs, 4*maxSendControl)
	return nil
}

// finishRecv gives the guest what a host recvmsg of n bytes left in h:
// the data, the sender's address, the control messages, and the flags,
// in the order ___sys_recvmsg writes them.
func finishRecv(t *kernel.Task, m *sockMsg, h *unix.Msghdr, n int) error {
	var msgs []controlMsg
	if m.control != nil {
		// The host kernel wrote well-formed messages.
		msgs, _ = parseControl(hostCmsg, m.control[:min(h.Controllen, uint64(len(m.control)))])
	}
	fail := func(err error) error {
		for _, c := range msgs {
			closeFDs(c.fds())
		}
		return err
	}
	if err := kernel.FinishIovecs(m.bufs, n); err != nil {
		return fail(err)
	}
	w := mem.GuestAddr(t.WordSize())
	if m.g.name != 0 {
		klen := h.Namelen
		if m.name == nil {
			klen = 0
		}
		k := min(klen, m.g.namelen, sockaddrMax)
		if err := t.CopyOut(m.g.name, m.name[:k]); err != nil {
			return fail(err)
		}
		if err := t.PutU32(m.at+msgNamelenWord*w, klen); err != nil {
			return fail(err)
		}
	}
	flags := uint32(h.Flags)
	controlLen := 0
	if len(msgs) > 0 {
		var truncated bool
		controlLen, truncated = putControl(t, m.g.control, int(min(m.g.controllen, maxRecvControl)), msgs)
		if truncated {
			flags |= msgCtrunc
		}
	}
	if err := t.PutU32(m.at+msgFlagsWord*w, flags); err != nil {
		return err
	}
	return t.PutWord(m.at+msgControllenWord*w, uint64(controlLen))
}

// putControl writes received control messages (host layout, in the order
// the kernel delivers them) into the guest's buffer at control, capacity
// bytes, one after another as scm_recv does, and returns how many bytes it
// used and whether MSG_CTRUNC is due. A write that faults does not fail the
// call (the data has been received): as put_cmsg, a message that cannot be
// written is left out, its EFAULT ignored, and the next goes where it would
// have gone; as scm_detach_fds, descriptors are stored one by one before
// their header and a store that faults ends them: those not stored are
// closed and MSG_CTRUNC is set (net/core/scm.c).
func putControl(t *kernel.Task, control mem.GuestAddr, capacity int, msgs []controlMsg) (int, bool) {
	l := guestCmsgLayout(t)
	at, ctrunc := 0, false
	for _, c := range msgs {
		g := guestControlData(t, c)
		out, truncated, dropped := encodeControl(l, []controlMsg{g}, capacity-at)
		closeFDs(dropped)
		ctrunc = ctrunc || truncated
		if len(out) == 0 {
			continue
		}
		// What the kernel writes: the header and the data, not the
		// padding up to the next message, which it only steps over.
		n := int(binary.LittleEndian.Uint32(out))
		dst := control + mem.GuestAddr(at)
		if !g.rights() {
			if t.CopyOut(dst, out[:n]) == nil {
				at += len(out)
			}
			continue
		}
		hdr := l.hdr()
		fds := g.fds()[:(n-hdr)/4]
		stored := 0
		for stored < len(fds) && t.CopyOut(dst+mem.GuestAddr(hdr+4*stored), out[hdr+4*stored:hdr+4*stored+4]) == nil {
			stored++
		}
		if stored < len(fds) {
			closeFDs(fds[stored:])
			ctrunc = true
		}
		if stored == 0 {
			continue
		}
		if stored < len(fds) {
			g.data = g.data[:4*stored]
			out, _, _ = encodeControl(l, []controlMsg{g}, capacity-at)
		}
		// A header that cannot be written leaves the stored descriptors
		// with the guest, uncounted, as Linux does.
		if t.CopyOut(dst, out[:hdr]) == nil {
			at += len(out)
		}
	}
	return at, ctrunc
}

// discardRecv closes the descriptors a received message carried when the
// guest is not going to get it.
func (m *sockMsg) discardRecv(h *unix.Msghdr) {
	if m.control == nil {
		return
	}
	msgs, _ := parseControl(hostCmsg, m.control[:min(h.Controllen, uint64(len(m.control)))])
	for _, c := range msgs {
		closeFDs(c.fds())
	}
}

func sendmsg(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	var h unix.Msghdr
	m, err := prepareMsg(t, a.Addr(1), false, &h)
	if err != nil {
		return 0, err
	}
	n, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(a.FD(0)), uintptr(unsafe.Pointer(&h)), uintptr(a.Int(2)))
	runtime.KeepAlive(m)
	return uint64(n), kernel.ErrOf(e)
}

func recvmsg(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	var h unix.Msghdr
	m, err := prepareMsg(t, a.Addr(1), true, &h)
	if err != nil {
		return 0, err
	}
	n, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(a.FD(0)), uintptr(unsafe.Pointer(&h)), uintptr(a.Int(2)))
	if e != 0 {
		return 0, e
	}
	return uint64(n), finishRecv(t, m, &h, int(n))
}

// prepareMsgs prepares a guest struct mmsghdr array. Linux reads each message
// only when it comes to it, so a bad one after the first shortens the batch.
func prepareMsgs(t *kernel.Task, vec mem.GuestAddr, vlen uint32, recv bool) ([]unix.Mmsghdr, []*sockMsg, error) {
	vlen = min(vlen, uioMaxIOV)
	size := mem.GuestAddr(mmsghdrWords * t.WordSize())
	hs := make([]unix.Mmsghdr, vlen)
	var msgs []*sockMsg
	for i := range hs {
		m, err := prepareMsg(t, vec+mem.GuestAddr(i)*size, recv, &hs[i].Hdr)
		if err != nil {
			if i == 0 {
				return nil, nil, err
			}
			hs = hs[:i]
			break
		}
		msgs = append(msgs, m)
	}
	return hs, msgs, nil
}

func sendmmsg(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	hs, msgs, err := prepareMsgs(t, a.Addr(1), a.Uint(2), false)
	if err != nil {
		return 0, err
	}
	r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(a.FD(0)), uintptr(slicePtr(hs)), uintptr(len(hs)), uintptr(a.Int(3)), 0, 0)
	runtime.KeepAlive(msgs)
	if e != 0 {
		return 0, e
	}
	w := mem.GuestAddr(t.WordSize())
	for i := range int(r) {
		if err := t.PutU32(msgs[i].at+msgLenWord*w, hs[i].Len); err != nil {
			if i == 0 {
				return 0, err
			}
			return uint64(i), nil
		}
	}
	return uint64(r), nil
}

func recvmmsg(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	var ts *unix.Timespec
	if a.Addr(4) != 0 {
		var v [1]unix.Timespec
		if err := t.ReadTimespecs(a.Addr(4), v[:]); err != nil {
			return 0, err
		}
		if !validTimeout(v[0]) {
			return 0, unix.EINVAL
		}
		ts = &v[0]
	}
	hs, msgs, err := prepareMsgs(t, a.Addr(1), a.Uint(2), true)
	if err != nil {
		return 0, err
	}
	r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(a.FD(0)), uintptr(slicePtr(hs)), uintptr(len(hs)), uintptr(a.Int(3)), uintptr(unsafe.Pointer(ts)), 0)
	if e != 0 {
		return 0, e
	}
	w := mem.GuestAddr(t.WordSize())
	for i := range int(r) {
		err := finishRecv(t, msgs[i], &hs[i].Hdr, int(hs[i].Len))
		if err == nil {
			err = t.PutU32(msgs[i].at+msgLenWord*w, hs[i].Len)
		}
		if err != nil {
			for j := i + 1; j < int(r); j++ {
				msgs[j].discardRecv(&hs[j].Hdr)
			}
			if i == 0 {
				return 0, err
			}
			return uint64(i), nil
		}
	}
	if ts != nil && r > 0 {
		if err := t.WriteTimespec(a.Addr(4), *ts); err != nil {
			return 0, err
		}
	}
	return uint64(r), nil
}

func getsockopt(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	n, err := t.GetU32(a.Addr(4))
	if err != nil {
		return 0, err
	}
	if int32(n) < 0 {
		return 0, unix.EINVAL
	}
	if a.Int(1) == solSocket && (a.Int(2) == soRcvtimeoOld || a.Int(2) == soSndtimeoOld) {
		return getTimevalOpt(t, a.FD(0), a.Int(2), a.Addr(3), a.Addr(4), n)
	}
	// The guest's size is only room to write in: a bigger one than any
	// option needs changes nothing, so it is cut rather than refused.
	hostLen := min(n, maxSockoptLen)
	buf := make([]byte, hostLen+1)
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(a.FD(0)), uintptr(a.Int(1)), uintptr(a.Int(2)), uintptr(slicePtr(buf)), uintptr(unsafe.Pointer(&hostLen)), 0)
	if e != 0 {
		return 0, e
	}
	if err := t.CopyOut(a.Addr(3), buf[:min(hostLen, n, maxSockoptLen)]); err != nil {
		return 0, err
	}
	return 0, t.PutU32(a.Addr(4), hostLen)
}

func setsockopt(t *kernel.Task, a kernel.Args) (uint64, error) {
	if err := t.CheckFD(a.FD(0)); err != nil {
		return 0, err
	}
	n := a.Int(4)
	if n < 0 || n > maxSockoptLen {
		return 0, unix.EINVAL
	}
	level, name := a.Int(1), a.Int(2)
	if level == solSocket && (name == soAttachFilter || name == soAttachReuseportCBPF) {
		return attachFilter(t, a.FD(0), name, a.Addr(3), n)
	}
	if level == solSocket && (name == soRcvtimeoOld || name == soSndtimeoOld) {
		return setTimevalOpt(t, a.FD(0), name, a.Addr(3), n)
	}
	buf := make([]byte, n+1)
	if err := t.CopyIn(a.Addr(3), buf[:n]); err != nil {
		return 0, err
	}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(a.FD(0)), uintptr(level), uintptr(name), uintptr(slicePtr(buf)), uintptr(n), 0)
	return 0, kernel.ErrOf(e)
}

// longs lays out values as the guest's C longs.
func longs(t *kernel.Task, v ...int64) []byte {
	w := int(t.WordSize())
	b := make([]byte, len(v)*w)
	for i, x := range v {
		if w == 4 {
			binary.LittleEndian.PutUint32(b[i*4:], uint32(x))
		} else {
			binary.LittleEndian.PutUint64(b[i*8:], uint64(x))
		}
	}
	return b
}

// getTimevalOpt reads SO_RCVTIMEO or SO_SNDTIMEO as the guest's struct
// timeval; like sock_getsockopt it writes at most that much.
func getTimevalOpt(t *kernel.Task, fd, name int, val, lenAddr mem.GuestAddr, n uint32) (uint64, error) {
	var tv unix.Timeval
	hostLen := uint32(unsafe.Sizeof(tv))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), solSocket, uintptr(name), uintptr(unsafe.Pointer(&tv)), uintptr(unsafe.Pointer(&hostLen)), 0)
	if e != 0 {
		return 0, e
	}
	g := longs(t, tv.Sec, tv.Usec)
	k := min(n, uint32(len(g)))
	if err := t.CopyOut(val, g[:k]); err != nil {
		return 0, err
	}
	return 0, t.PutU32(lenAddr, k)
}

// setTimevalOpt sets SO_RCVTIMEO or SO_SNDTIMEO from the guest's struct
// timeval (sock_set_timeout: EINVAL if the value is shorter).
func setTimevalOpt(t *kernel.Task, fd, name int, val mem.GuestAddr, n int) (uint64, error) {
	if n < 2*int(t.WordSize()) {
		return 0, unix.EINVAL
	}
	var ts [1]unix.Timespec
	if err := t.ReadTimespecs(val, ts[:]); err != nil {
		return 0, err
	}
	tv := unix.Timeval{Sec: ts[0].Sec, Usec: ts[0].Nsec}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), solSocket, uintptr(name), uintptr(unsafe.Pointer(&tv)), unsafe.Sizeof(tv), 0)
	return 0, kernel.ErrOf(e)
}

// attachFilter converts struct sock_fprog { unsigned short len; struct
// sock_filter *filter; } (the pointer at the next word) and copies the
// classic BPF program it points to (8-byte instructions, the same
// everywhere), as copy_bpf_fprog_from_user and __get_filter check it.
func attachFilter(t *kernel.Task, fd, name int, a mem.GuestAddr, n int) (uint64, error) {
	w := int(t.WordSize())
	if n != 2*w {
		return 0, unix.EINVAL
	}
	b := make([]byte, n)
	if err := t.CopyIn(a, b); err != nil {
		return 0, err
	}
	count := int(binary.LittleEndian.Uint16(b))
	var ptr uint64
	if w == 4 {
		ptr = uint64(binary.LittleEndian.Uint32(b[4:]))
	} else {
		ptr = binary.LittleEndian.Uint64(b[8:])
	}
	if ptr == 0 || count == 0 || count > bpfMaxInsns {
		return 0, unix.EINVAL
	}
	raw := make([]byte, count*8)
	if err := t.CopyIn(mem.GuestAddr(ptr), raw); err != nil {
		return 0, err
	}
	prog := make([]unix.SockFilter, count)
	for i := range prog {
		r := raw[i*8:]
		prog[i] = unix.SockFilter{Code: binary.LittleEndian.Uint16(r), Jt: r[2], Jf: r[3], K: binary.LittleEndian.Uint32(r[4:])}
	}
	fprog := unix.SockFprog{Len: uint16(count), Filter: &prog[0]}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), solSocket, uintptr(name), uintptr(unsafe.Pointer(&fprog)), unsafe.Sizeof(fprog), 0)
	runtime.KeepAlive(prog)
	return 0, kernel.ErrOf(e)
}
