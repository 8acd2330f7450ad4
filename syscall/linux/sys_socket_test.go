package linux

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unsafe"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
	"xemu/loader"
)

// testTask is a task without a CPU: enough to call handlers directly, with
// one read-write page range of guest memory at scratch.
func testTask(t *testing.T, machine int) (*kernel.Task, mem.GuestAddr) {
	t.Helper()
	abi, err := kernel.ForMachine(machine)
	if err != nil {
		t.Fatal(err)
	}
	space, err := mem.New(mem.Layout{Limit: mem.GuestAddr(min(abi.Limit, 1<<32)), MinAddr: 0x10000, ArenaSize: 1 << 24})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(space.Close)
	scratch, err := space.Map(mem.MapRequest{Addr: 0x100000, Length: 16 * mem.PageSize, Prot: mem.ProtRead | mem.ProtWrite, Fixed: true, FD: -1})
	if err != nil {
		t.Fatal(err)
	}
	return &kernel.Task{P: &kernel.Process{ABI: abi, Mem: space}}, scratch
}

// guestArches are the ABIs the handlers serve, by name.
var guestArches = map[string]int{"aarch64": loader.EMAArch64, "arm": loader.EMARM}

// guestWords lays out values as a guest's longs.
func guestWords(w int, v ...uint64) []byte {
	b := make([]byte, len(v)*w)
	for i, x := range v {
		if w == 4 {
			binary.LittleEndian.PutUint32(b[i*4:], uint32(x))
		} else {
			binary.LittleEndian.PutUint64(b[i*8:], x)
		}
	}
	return b
}

// TestMsghdrLayout pins struct msghdr and struct mmsghdr: the 64-bit guest's
// are x86-64's (unix.Msghdr), the 32-bit one's compat_msghdr (28 bytes) and
// compat_mmsghdr (32 bytes) from include/net/compat.h.
func TestMsghdrLayout(t *testing.T) {
	var h unix.Msghdr
	var mm unix.Mmsghdr
	for _, c := range []struct {
		w                                   int
		namelen, controllen, flags, msgLen  int
		msghdrSize, mmsghdrSize, cmsgHeader int
	}{
		{8, int(unsafe.Offsetof(h.Namelen)), int(unsafe.Offsetof(h.Controllen)), int(unsafe.Offsetof(h.Flags)),
			int(unsafe.Offsetof(mm.Len)), unix.SizeofMsghdr, unix.SizeofMmsghdr, unix.SizeofCmsghdr},
		{4, 4, 20, 24, 28, 28, 32, 12},
	} {
		if got := msgNamelenWord * c.w; got != c.namelen {
			t.Errorf("word %d: msg_namelen at %d, want %d", c.w, got, c.namelen)
		}
		if got := msgControllenWord * c.w; got != c.controllen {
			t.Errorf("word %d: msg_controllen at %d, want %d", c.w, got, c.controllen)
		}
		if got := msgFlagsWord * c.w; got != c.flags {
			t.Errorf("word %d: msg_flags at %d, want %d", c.w, got, c.flags)
		}
		if got := msgLenWord * c.w; got != c.msgLen {
			t.Errorf("word %d: msg_len at %d, want %d", c.w, got, c.msgLen)
		}
		if got := msghdrWords * c.w; got != c.msghdrSize {
			t.Errorf("word %d: msghdr is %d bytes, want %d", c.w, got, c.msghdrSize)
		}
		if got := mmsghdrWords * c.w; got != c.mmsghdrSize {
			t.Errorf("word %d: mmsghdr is %d bytes, want %d", c.w, got, c.mmsghdrSize)
		}
		if got := (cmsgLayout{c.w}).hdr(); got != c.cmsgHeader {
			t.Errorf("word %d: cmsghdr is %d bytes, want %d", c.w, got, c.cmsgHeader)
		}
	}
	if hostCmsg.hdr() != unix.SizeofCmsghdr || hostCmsg.align(1) != 8 {
		t.Errorf("host cmsg layout %+v does not match x86-64", hostCmsg)
	}
}

// cmsgBytes encodes one control message by hand in layout l.
func cmsgBytes(l cmsgLayout, claimed int, level, typ int32, data []byte) []byte {
	b := guestWords(l.word, uint64(claimed))
	b = binary.LittleEndian.AppendUint32(b, uint32(level))
	b = binary.LittleEndian.AppendUint32(b, uint32(typ))
	b = append(b, make([]byte, l.hdr()-len(b))...)
	b = append(b, data...)
	return append(b, make([]byte, l.align(len(b))-len(b))...)
}

func fdBytes(fds ...int) []byte {
	var b []byte
	for _, fd := range fds {
		b = binary.LittleEndian.AppendUint32(b, uint32(fd))
	}
	return b
}

func TestParseControl(t *testing.T) {
	for _, l := range []cmsgLayout{{4}, {8}} {
		creds := []byte{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}
		buf := append(cmsgBytes(l, l.hdr()+8, solSocket, scmRights, fdBytes(5, 6)), cmsgBytes(l, l.hdr()+12, solSocket, 2, creds)...)
		msgs, err := parseControl(l, buf)
		if err != nil || len(msgs) != 2 {
			t.Fatalf("word %d: %v, %d messages", l.word, err, len(msgs))
		}
		if fds := msgs[0].fds(); len(fds) != 2 || fds[0] != 5 || fds[1] != 6 {
			t.Errorf("word %d: fds %v", l.word, fds)
		}
		if !bytes.Equal(msgs[1].data, creds) || msgs[1].typ != 2 {
			t.Errorf("word %d: credentials %+v", l.word, msgs[1])
		}
		// Bytes too few for another header are ignored, as Linux does.
		if msgs, err := parseControl(l, append(buf, 1, 2, 3)); err != nil || len(msgs) != 2 {
			t.Errorf("word %d: trailing bytes: %v, %d messages", l.word, err, len(msgs))
		}
		// CMSG_OK: a length inside the header or past the buffer is EINVAL.
		for _, claimed := range []int{l.hdr() - 1, 0, len(buf) + 1} {
			bad := cmsgBytes(l, claimed, solSocket, scmRights, fdBytes(5))
			if _, err := parseControl(l, bad); err != unix.EINVAL {
				t.Errorf("word %d: cmsg_len %d: %v, want EINVAL", l.word, claimed, err)
			}
		}
	}
}

func TestEncodeControl(t *testing.T) {
	creds := controlMsg{level: solSocket, typ: 2, data: make([]byte, 12)}
	rights := controlMsg{level: solSocket, typ: scmRights, data: fdBytes(7, 8, 9)}
	for _, l := range []cmsgLayout{{4}, {8}} {
		hdr := l.hdr()
		// Everything fits: the messages as parseControl reads them back.
		out, trunc, dropped := encodeControl(l, []controlMsg{creds, rights}, 1024)
		want := append(cmsgBytes(l, hdr+12, solSocket, 2, creds.data), cmsgBytes(l, hdr+12, solSocket, scmRights, rights.data)...)
		if !bytes.Equal(out, want) || trunc || dropped != nil {
			t.Errorf("word %d: fits: %x %v %v, want %x", l.word, out, trunc, dropped, want)
		}
		// Room for two of three descriptors (scm_detach_fds).
		out, trunc, dropped = encodeControl(l, []controlMsg{rights}, hdr+8+3)
		want = cmsgBytes(l, hdr+8, solSocket, scmRights, fdBytes(7, 8))[:min(l.align(hdr+8), hdr+8+3)]
		if !bytes.Equal(out, want) || !trunc || len(dropped) != 1 || dropped[0] != 9 {
			t.Errorf("word %d: two of three descriptors: %x %v %v, want %x", l.word, out, trunc, dropped, want)
		}
		// No room for a descriptor: nothing written, all dropped.
		out, trunc, dropped = encodeControl(l, []controlMsg{rights}, hdr+3)
		if len(out) != 0 || !trunc || len(dropped) != 3 {
			t.Errorf("word %d: no room: %x %v %v", l.word, out, trunc, dropped)
		}
		// Another message cut short: its header says what is there (put_cmsg).
		out, trunc, _ = encodeControl(l, []controlMsg{creds}, hdr+5)
		want = cmsgBytes(l, hdr+5, solSocket, 2, creds.data[:5])[:hdr+5]
		if !bytes.Equal(out, want) || !trunc {
			t.Errorf("word %d: cut short: %x %v, want %x", l.word, out, trunc, want)
		}
		// Messages after the room ran out are lost, their descriptors closed.
		_, trunc, dropped = encodeControl(l, []controlMsg{creds, rights}, hdr+12)
		if !trunc || len(dropped) != 3 {
			t.Errorf("word %d: after the room: %v %v", l.word, trunc, dropped)
		}
	}
}

// sendmsgGuest builds a guest struct msghdr at at with one iovec and a
// control buffer, all in scratch memory after it.
func sendmsgGuest(t *testing.T, task *kernel.Task, at mem.GuestAddr, data, control []byte) {
	t.Helper()
	w := int(task.WordSize())
	iov := at + 256
	buf := at + 512
	ctl := at + 1024
	var controlAddr uint64
	if control != nil {
		controlAddr = uint64(ctl)
	}
	hdr := guestWords(w, 0, 0, uint64(iov), 1, controlAddr, uint64(len(control)), 0)
	for _, c := range []struct {
		a mem.GuestAddr
		b []byte
	}{{at, hdr}, {iov, guestWords(w, uint64(buf), uint64(len(data)))}, {buf, data}, {ctl, control}} {
		if err := task.CopyOut(c.a, c.b); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSendRecvRights passes descriptors through sendmsg and recvmsg on every
// guest ABI, including into a buffer too small for them all: Linux sets
// MSG_CTRUNC and closes what did not fit (qemu-user does not set the flag,
// so the guest programs cannot check this against it).
func TestSendRecvRights(t *testing.T) {
	for name, machine := range guestArches {
		t.Run(name, func(t *testing.T) {
			task, scratch := testTask(t, machine)
			l := guestCmsgLayout(task)
			sv, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(sv[0])
			defer unix.Close(sv[1])
			var p [2]int
			if err := unix.Pipe(p[:]); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[0])
			defer unix.Close(p[1])

			sendmsgGuest(t, task, scratch, []byte("x"), cmsgBytes(l, l.hdr()+12, solSocket, scmRights, fdBytes(p[0], p[0], p[0])))
			if n, err := sendmsg(task, kernel.Args{uint64(sv[0]), uint64(scratch), 0}); n != 1 || err != nil {
				t.Fatalf("sendmsg: %d %v", n, err)
			}
			// Room for two descriptors.
			room := l.hdr() + 8
			recvAt := scratch + 2*mem.PageSize
			sendmsgGuest(t, task, recvAt, make([]byte, 4), make([]byte, room))
			n, err := recvmsg(task, kernel.Args{uint64(sv[1]), uint64(recvAt), 0})
			if n != 1 || err != nil {
				t.Fatalf("recvmsg: %d %v", n, err)
			}
			w := mem.GuestAddr(task.WordSize())
			flags, _ := task.GetU32(recvAt + msgFlagsWord*w)
			controllen, _ := task.GetWord(recvAt + msgControllenWord*w)
			if flags&msgCtrunc == 0 || controllen != uint64(room) {
				t.Errorf("flags %#x controllen %d, want MSG_CTRUNC and %d", flags, controllen, room)
			}
			ctl := make([]byte, room)
			task.CopyIn(recvAt+1024, ctl)
			msgs, err := parseControl(l, ctl)
			if err != nil || len(msgs) != 1 || len(msgs[0].fds()) != 2 {
				t.Fatalf("received %+v %v", msgs, err)
			}
			for _, fd := range msgs[0].fds() {
				var a, b unix.Stat_t
				unix.Fstat(fd, &a)
				unix.Fstat(p[0], &b)
				if a.Ino != b.Ino {
					t.Errorf("descriptor %d is not the pipe", fd)
				}
				unix.Close(fd)
			}
		})
	}
}

func TestSendmsgBadControl(t *testing.T) {
	for name, machine := range guestArches {
		t.Run(name, func(t *testing.T) {
			task, scratch := testTask(t, machine)
			l := guestCmsgLayout(task)
			sv, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(sv[0])
			defer unix.Close(sv[1])
			for _, claimed := range []int{4, l.hdr() + 64} {
				sendmsgGuest(t, task, scratch, []byte("x"), cmsgBytes(l, claimed, solSocket, scmRights, fdBytes(0)))
				if _, err := sendmsg(task, kernel.Args{uint64(sv[0]), uint64(scratch), 0}); err != unix.EINVAL {
					t.Errorf("cmsg_len %d: %v, want EINVAL", claimed, err)
				}
			}
			// The emulator's own descriptors cannot be passed.
			task.P.Reserve(sv[1])
			sendmsgGuest(t, task, scratch, []byte("x"), cmsgBytes(l, l.hdr()+4, solSocket, scmRights, fdBytes(sv[1])))
			if _, err := sendmsg(task, kernel.Args{uint64(sv[0]), uint64(scratch), 0}); err != unix.EBADF {
				t.Errorf("passing a reserved descriptor: %v, want EBADF", err)
			}
		})
	}
}

// TestSockoptLengths: Linux refuses a negative option length (qemu-user
// takes it as unsigned) and the bounce buffer refuses absurd ones.
func TestSockoptLengths(t *testing.T) {
	task, scratch := testTask(t, loader.EMAArch64)
	s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(s)
	for _, n := range []int64{-1, maxSockoptLen + 1} {
		if _, err := setsockopt(task, kernel.Args{uint64(s), solSocket, unix.SO_SNDBUF, uint64(scratch), uint64(n)}); err != unix.EINVAL {
			t.Errorf("setsockopt length %d: %v, want EINVAL", n, err)
		}
	}
	task.PutU32(scratch, 0xffffffff)
	if _, err := getsockopt(task, kernel.Args{uint64(s), solSocket, unix.SO_TYPE, uint64(scratch + 8), uint64(scratch)}); err != unix.EINVAL {
		t.Errorf("getsockopt length -1: %v, want EINVAL", err)
	}
	// A huge length is only room: the value and its true length come back.
	task.PutU32(scratch, 1<<30)
	if _, err := getsockopt(task, kernel.Args{uint64(s), solSocket, unix.SO_TYPE, uint64(scratch + 8), uint64(scratch)}); err != nil {
		t.Fatalf("getsockopt length 1<<30: %v", err)
	}
	n, _ := task.GetU32(scratch)
	v, _ := task.GetU32(scratch + 8)
	if n != 4 || v != unix.SOCK_STREAM {
		t.Errorf("SO_TYPE: %d bytes, %d", n, v)
	}
}

// TestTimevalOption: SO_RCVTIMEO is a struct timeval of the guest's longs
// (half a second is a whole number of jiffies at any HZ).
func TestTimevalOption(t *testing.T) {
	for name, machine := range guestArches {
		t.Run(name, func(t *testing.T) {
			task, scratch := testTask(t, machine)
			w := int(task.WordSize())
			s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(s)
			task.CopyOut(scratch, guestWords(w, 3, 500000))
			if _, err := setsockopt(task, kernel.Args{uint64(s), solSocket, soRcvtimeoOld, uint64(scratch), uint64(2 * w)}); err != nil {
				t.Fatal(err)
			}
			if _, err := setsockopt(task, kernel.Args{uint64(s), solSocket, soRcvtimeoOld, uint64(scratch), uint64(2*w - 1)}); err != unix.EINVAL {
				t.Errorf("short timeval: %v, want EINVAL", err)
			}
			tv, _ := unix.GetsockoptTimeval(s, unix.SOL_SOCKET, unix.SO_RCVTIMEO)
			if tv.Sec != 3 || tv.Usec != 500000 {
				t.Errorf("host sees %+v", tv)
			}
			task.PutU32(scratch+64, 64)
			if _, err := getsockopt(task, kernel.Args{uint64(s), solSocket, soRcvtimeoOld, uint64(scratch + 128), uint64(scratch + 64)}); err != nil {
				t.Fatal(err)
			}
			n, _ := task.GetU32(scratch + 64)
			got := make([]byte, 2*w)
			task.CopyIn(scratch+128, got)
			if n != uint32(2*w) || !bytes.Equal(got, guestWords(w, 3, 500000)) {
				t.Errorf("getsockopt: %d bytes %x", n, got)
			}
		})
	}
}

// TestTimestampControl: an SO_TIMESTAMP message's timeval becomes the
// guest's longs.
func TestTimestampControl(t *testing.T) {
	for name, machine := range guestArches {
		t.Run(name, func(t *testing.T) {
			task, _ := testTask(t, machine)
			host := controlMsg{level: solSocket, typ: soTimestampOld, data: binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1700000000), 123456)}
			g := guestControlData(task, host)
			if want := guestWords(int(task.WordSize()), 1700000000, 123456); !bytes.Equal(g.data, want) {
				t.Errorf("%x, want %x", g.data, want)
			}
			other := controlMsg{level: solSocket, typ: scmRights, data: fdBytes(1, 2, 3, 4)}
			if g := guestControlData(task, other); !bytes.Equal(g.data, other.data) {
				t.Errorf("SCM_RIGHTS changed: %x", g.data)
			}
		})
	}
}
