package kernel

import (
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// The guest view of another xemu process. A guest's child is another xemu
// (fork re-executes /proc/self/exe), so the host's /proc/CHILD/exe is
// xemu's binary and /proc/CHILD/cmdline xemu's command line. Each xemu
// answers questions about its guest on an abstract unix datagram socket
// named after its pid, "\x00xemu-guest-PID"; a guest opening /proc/PID/maps
// (cmdline, exe, auxv, status, stat, comm) of a process running the same
// xemu binary asks it, and reads the host's file if no answer comes.
//
// Datagrams, not a stream: a thread blocked in accept holds the lowest free
// descriptor from the start of the call (the kernel reserves the new
// descriptor before it waits), which the guest would then find taken; a
// datagram server creates no descriptors. The answer comes in datagrams of
// at most guestViewChunk bytes after a one-byte header: more, last, or
// refused.
//
// Trust: every datagram carries its sender's credentials as the host
// kernel knows them (SO_PASSCRED). The server answers only its own user (or
// root), as the host's /proc answers a process that may ptrace it, and
// reaches guest memory (othermem.go) only for a requester Linux would let
// ptrace it (mayAccess); the client takes an answer only from the pid it
// asked, so nothing else can take the name and answer for it.

// GuestViewFile makes the contents of one of the guest's /proc files
// ("maps", "cmdline", "exe", ...) for another process; the linux package
// sets it.
var GuestViewFile func(p *Process, file string) ([]byte, error)

const (
	// The largest request: a write of guest memory (othermem.go).
	maxGuestViewRequest = memRequestHead + guestViewChunk
	guestViewChunk      = 16 << 10

	guestViewMore    = 0
	guestViewLast    = 1
	guestViewRefused = 2
)

func guestViewAddr(pid int) *unix.SockaddrUnix {
	return &unix.SockaddrUnix{Name: "@xemu-guest-" + strconv.Itoa(pid)}
}

// serveGuestView starts answering for p. A failure (the name taken by a
// process that is gone from a pid reused) only means other processes see
// the host's files.
func (p *Process) serveGuestView() {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	fd = highFD(fd)
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1) != nil || unix.Bind(fd, guestViewAddr(unix.Getpid())) != nil {
		unix.Close(fd)
		return
	}
	p.Reserve(fd)
	go func() {
		buf := make([]byte, maxGuestViewRequest)
		// Room for the credentials and nothing else: descriptors a client
		// sent along (SCM_RIGHTS) are not installed here.
		oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
		for {
			n, oobn, flags, from, err := unix.Recvmsg(fd, buf, oob, 0)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return
			}
			to, ok := from.(*unix.SockaddrUnix)
			cred := sender(oob[:oobn])
			if !ok || cred == nil || flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
				continue
			}
			if n > 0 && buf[0] < ' ' {
				p.answerMem(fd, to, cred, buf[:n])
				continue
			}
			p.answerGuestView(fd, to, cred, buf[:n])
		}
	}()
}

// sender is the credentials a datagram came with.
func sender(oob []byte) *unix.Ucred {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return nil
	}
	cred, err := unix.ParseUnixCredentials(&msgs[0])
	if err != nil {
		return nil
	}
	return cred
}

func (p *Process) answerGuestView(fd int, to *unix.SockaddrUnix, cred *unix.Ucred, req []byte) {
	var body []byte
	var err error = unix.EACCES
	file, ok := strings.CutSuffix(string(req), "\n")
	if ok && GuestViewFile != nil && (cred.Uid == 0 || int(cred.Uid) == unix.Geteuid() || int(cred.Uid) == unix.Getuid()) {
		p.execMu.RLock()
		body, err = GuestViewFile(p, file)
		p.execMu.RUnlock()
	}
	if err != nil || len(body) == 0 {
		sendDatagram(fd, to, []byte{guestViewRefused})
		return
	}
	for {
		n := min(len(body), guestViewChunk)
		head := byte(guestViewMore)
		if n == len(body) {
			head = guestViewLast
		}
		if sendDatagram(fd, to, append([]byte{head}, body[:n]...)) != nil || head == guestViewLast {
			return
		}
		body = body[n:]
	}
}

func sendDatagram(fd int, to *unix.SockaddrUnix, b []byte) error {
	for {
		err := unix.Sendto(fd, b, 0, to)
		if err != unix.EINTR {
			return err
		}
	}
}

// QueryGuestView asks the xemu running as pid for one of its guest's /proc
// files; ok is false if pid is not an xemu process that answers.
func QueryGuestView(pid int, file string) (body []byte, ok bool) {
	c, ok := dialGuestView(pid)
	if !ok {
		return nil, false
	}
	defer c.close()
	if c.send([]byte(file+"\n")) != nil {
		return nil, false
	}
	for {
		part, head, ok := c.receive()
		if !ok {
			return nil, false
		}
		switch head {
		case guestViewMore:
			body = append(body, part...)
		case guestViewLast:
			return append(body, part...), true
		default:
			return nil, false
		}
	}
}

// guestViewConn is a client's socket for the questions of one call to
// the xemu running as pid.
type guestViewConn struct {
	fd, pid int
	buf     []byte
	oob     []byte
}

// dialGuestView readies questions to pid; ok is false if it is not an
// xemu process that can answer.
func dialGuestView(pid int) (*guestViewConn, bool) {
	if pid <= 0 || pid == unix.Getpid() || !IsXemu(pid) || !canAnswer(pid) {
		return nil, false
	}
	c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	// SO_PASSCRED also gives the socket an address of its own at the first
	// send (autobind), where the answer comes.
	if unix.SetsockoptInt(c, unix.SOL_SOCKET, unix.SO_PASSCRED, 1) != nil || unix.Connect(c, guestViewAddr(pid)) != nil {
		unix.Close(c)
		return nil, false
	}
	tv := unix.Timeval{Sec: 2}
	unix.SetsockoptTimeval(c, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return &guestViewConn{fd: c, pid: pid, buf: make([]byte, 1+guestViewChunk),
		oob: make([]byte, unix.CmsgSpace(unix.SizeofUcred))}, true
}

func (c *guestViewConn) close() { unix.Close(c.fd) }

func (c *guestViewConn) send(req []byte) error {
	for {
		err := unix.Send(c.fd, req, 0)
		if err != unix.EINTR {
			return err
		}
	}
}

// receive is the next datagram of the answer: its header and the bytes
// after it (valid until the next receive); ok is false on a timeout or a
// datagram from anyone but pid.
func (c *guestViewConn) receive() (body []byte, head byte, ok bool) {
	for {
		n, oobn, _, _, err := unix.Recvmsg(c.fd, c.buf, c.oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return nil, 0, false
		}
		if cred := sender(c.oob[:oobn]); cred == nil || int(cred.Pid) != c.pid {
			return nil, 0, false
		}
		return c.buf[1:n], c.buf[0], true
	}
}

// canAnswer: pid is not stopped (a stopped xemu answers nothing until it
// is continued) nor a zombie.
func canAnswer(pid int) bool {
	switch hostState(pid) {
	case 0, 'T', 't', 'Z', 'X':
		return false
	}
	return true
}

// hostState is the state letter of host process pid (the third field of
// /proc/PID/stat), 0 if there is no such process.
func hostState(pid int) byte {
	f := hostStatFields(strconv.Itoa(pid))
	if len(f) == 0 {
		return 0
	}
	return f[0][0]
}

var selfExe struct {
	once     sync.Once
	dev, ino uint64
	ok       bool
}

// IsXemu reports whether pid runs the same xemu binary as this process.
func IsXemu(pid int) bool {
	selfExe.once.Do(func() {
		var st unix.Stat_t
		if StatHostProc("self/exe", &st) == nil {
			selfExe.dev, selfExe.ino, selfExe.ok = st.Dev, st.Ino, true
		}
	})
	var st unix.Stat_t
	if !selfExe.ok || StatHostProc(strconv.Itoa(pid)+"/exe", &st) != nil {
		return false
	}
	return st.Dev == selfExe.dev && st.Ino == selfExe.ino
}
