package abi

import (
	"encoding/binary"
	"testing"
)

// TestSigInfoLayoutOf follows kernel/signal.c siginfo_layout() case by case.
func TestSigInfoLayoutOf(t *testing.T) {
	for _, c := range []struct {
		signo, code int32
		want        SigInfoLayout
	}{
		{SIGUSR1, SI_USER, SigInfoKill},
		{SIGSEGV, SI_USER, SigInfoKill},
		{SIGSEGV, SI_KERNEL, SigInfoKill},
		{SIGUSR1, SI_TKILL, SigInfoRT},
		{SIGUSR1, SI_QUEUE, SigInfoRT},
		{SIGRTMIN + 3, SI_MESGQ, SigInfoRT},
		{SIGIO, SI_ASYNCIO, SigInfoRT},
		{SIGALRM, SI_TIMER, SigInfoTimer},
		{SIGIO, SI_SIGIO, SigInfoPoll},
		{SIGIO, POLL_HUP, SigInfoPoll},
		{SIGSEGV, SEGV_MAPERR, SigInfoFault},
		{SIGSEGV, SEGV_MTESERR, SigInfoFault},
		{SIGSEGV, SEGV_BNDERR, SigInfoFaultBndErr},
		{SIGSEGV, SEGV_PKUERR, SigInfoFaultPkuErr},
		{SIGSEGV, NSIGSEGV + 1, SigInfoKill}, // beyond the limit and beyond NSIGPOLL
		{SIGBUS, BUS_ADRALN, SigInfoFault},
		{SIGBUS, BUS_MCEERR_AO, SigInfoFaultMCEErr},
		{SIGBUS, NSIGBUS + 1, SigInfoPoll}, // beyond SIGBUS's limit but <= NSIGPOLL
		{SIGILL, ILL_ILLOPC, SigInfoFault},
		{SIGFPE, FPE_CONDTRAP, SigInfoFault},
		{SIGTRAP, TRAP_BRKPT, SigInfoFault},
		{SIGTRAP, TRAP_PERF, SigInfoFaultPerfEvent},
		{SIGCHLD, CLD_EXITED, SigInfoChld},
		{SIGCHLD, CLD_CONTINUED, SigInfoChld},
		{SIGCHLD, NSIGCHLD + 1, SigInfoKill},
		{SIGSYS, SYS_SECCOMP, SigInfoSys},
		{SIGUSR1, 3, SigInfoPoll}, // not signal-specific, <= NSIGPOLL
		{SIGUSR1, 7, SigInfoKill},
	} {
		if got := SigInfoLayoutOf(c.signo, c.code); got != c.want {
			t.Errorf("siginfo_layout(%s, %d) = %d, want %d", SignalName(int(c.signo)), c.code, got, c.want)
		}
	}
}

// TestSigInfoMarshal places each union member's fields at the offsets the
// kernel's static_asserts name (arch/arm/kernel/signal.c,
// arch/arm64/kernel/signal.c) and reads them back.
func TestSigInfoMarshal(t *testing.T) {
	type field struct {
		off, size int
		want      uint64
	}
	for _, c := range []struct {
		name   string
		si     SigInfo
		f32    []field
		f64    []field
		zeroed int // bytes after which everything must be zero (64-bit)
	}{
		{"kill", SigInfo{Signo: SIGTERM, Code: SI_USER, Pid: 42, Uid: 1000},
			[]field{{0x0c, 4, 42}, {0x10, 4, 1000}},
			[]field{{0x10, 4, 42}, {0x14, 4, 1000}}, 0x18},
		{"rt", SigInfo{Signo: SIGRTMIN + 2, Code: SI_QUEUE, Pid: 9, Uid: 8, Value: 0xcafe_f00d_1234},
			[]field{{0x0c, 4, 9}, {0x10, 4, 8}, {0x14, 4, 0xf00d_1234}},
			[]field{{0x10, 4, 9}, {0x14, 4, 8}, {0x18, 8, 0xcafe_f00d_1234}}, 0x20},
		{"timer", SigInfo{Signo: SIGALRM, Code: SI_TIMER, TimerID: 3, Overrun: 5, Value: 77},
			[]field{{0x0c, 4, 3}, {0x10, 4, 5}, {0x14, 4, 77}},
			[]field{{0x10, 4, 3}, {0x14, 4, 5}, {0x18, 8, 77}}, 0x20},
		{"chld", SigInfo{Signo: SIGCHLD, Code: CLD_EXITED, Pid: 100, Uid: 0, Status: 3, Utime: 11, Stime: -1},
			[]field{{0x0c, 4, 100}, {0x14, 4, 3}, {0x18, 4, 11}, {0x1c, 4, 0xffffffff}},
			[]field{{0x10, 4, 100}, {0x18, 4, 3}, {0x20, 8, 11}, {0x28, 8, 0xffffffffffffffff}}, 0x30},
		{"fault", SigInfo{Signo: SIGSEGV, Code: SEGV_MAPERR, Addr: 0xdeadbeef, Pid: 99},
			[]field{{0x0c, 4, 0xdeadbeef}},
			[]field{{0x10, 8, 0xdeadbeef}}, 0x18},
		{"mceerr", SigInfo{Signo: SIGBUS, Code: BUS_MCEERR_AR, Addr: 0x1000, AddrLSB: 12},
			[]field{{0x0c, 4, 0x1000}, {0x10, 2, 12}},
			[]field{{0x10, 8, 0x1000}, {0x18, 2, 12}}, 0x1a},
		{"bnderr", SigInfo{Signo: SIGSEGV, Code: SEGV_BNDERR, Addr: 1, Lower: 2, Upper: 3},
			[]field{{0x0c, 4, 1}, {0x14, 4, 2}, {0x18, 4, 3}},
			[]field{{0x10, 8, 1}, {0x20, 8, 2}, {0x28, 8, 3}}, 0x30},
		{"pkuerr", SigInfo{Signo: SIGSEGV, Code: SEGV_PKUERR, Addr: 1, Pkey: 6},
			[]field{{0x0c, 4, 1}, {0x14, 4, 6}},
			[]field{{0x10, 8, 1}, {0x20, 4, 6}}, 0x24},
		{"perf", SigInfo{Signo: SIGTRAP, Code: TRAP_PERF, Addr: 1, PerfData: 2, PerfType: 3, PerfFlags: 4},
			[]field{{0x0c, 4, 1}, {0x10, 4, 2}, {0x14, 4, 3}, {0x18, 4, 4}},
			[]field{{0x10, 8, 1}, {0x18, 8, 2}, {0x20, 4, 3}, {0x24, 4, 4}}, 0x28},
		{"poll", SigInfo{Signo: SIGIO, Code: POLL_IN, Band: 0x41, FD: 5},
			[]field{{0x0c, 4, 0x41}, {0x10, 4, 5}},
			[]field{{0x10, 8, 0x41}, {0x18, 4, 5}}, 0x1c},
		{"sys", SigInfo{Signo: SIGSYS, Code: SYS_SECCOMP, CallAddr: 0x400000, Syscall: 220, Arch: 0xc00000b7},
			[]field{{0x0c, 4, 0x400000}, {0x10, 4, 220}, {0x14, 4, 0xc00000b7}},
			[]field{{0x10, 8, 0x400000}, {0x18, 4, 220}, {0x1c, 4, 0xc00000b7}}, 0x20},
	} {
		for _, class := range []int{32, 64} {
			fields := c.f64
			if class == 32 {
				fields = c.f32
			}
			b := c.si.Marshal(class)
			if len(b) != 128 {
				t.Fatalf("%s/%d: %d bytes", c.name, class, len(b))
			}
			le := binary.LittleEndian
			if le.Uint32(b) != uint32(c.si.Signo) || le.Uint32(b[8:]) != uint32(c.si.Code) {
				t.Errorf("%s/%d: header % x", c.name, class, b[:12])
			}
			for _, f := range fields {
				var got uint64
				switch f.size {
				case 2:
					got = uint64(le.Uint16(b[f.off:]))
				case 4:
					got = uint64(le.Uint32(b[f.off:]))
				case 8:
					got = le.Uint64(b[f.off:])
				}
				if got != f.want {
					t.Errorf("%s/%d: offset %#x = %#x, want %#x", c.name, class, f.off, got, f.want)
				}
			}
			if class == 64 {
				for i := c.zeroed; i < 128; i++ {
					if b[i] != 0 {
						t.Errorf("%s/64: byte %#x = %#x, want 0 (other union members must not leak)", c.name, i, b[i])
						break
					}
				}
			}
			back := UnmarshalSigInfo(b, class)
			want := c.si
			if class == 32 {
				want.Value &= 0xffffffff
			}
			if c.name == "fault" {
				want.Pid = 0 // not part of _sigfault
			}
			if back != want {
				t.Errorf("%s/%d: unmarshal = %+v, want %+v", c.name, class, back, want)
			}
		}
	}
}

func TestSignalfdSigInfo(t *testing.T) {
	le := binary.LittleEndian
	si := SigInfo{Signo: SIGRTMIN + 1, Code: SI_QUEUE, Pid: 5, Uid: 6, Value: 0x8000_0001}
	b32, b64 := si.MarshalSignalfd(32), si.MarshalSignalfd(64)
	for _, c := range []struct {
		what      string
		got, want uint64
	}{
		{"size", uint64(len(b32)), 128},
		{"ssi_signo", uint64(le.Uint32(b32)), SIGRTMIN + 1},
		{"ssi_code", uint64(le.Uint32(b32[8:])), 0xffffffff},
		{"ssi_pid", uint64(le.Uint32(b32[12:])), 5},
		{"ssi_uid", uint64(le.Uint32(b32[16:])), 6},
		{"ssi_int", uint64(le.Uint32(b32[44:])), 0x8000_0001},
		// (long) si_ptr on a 32-bit kernel sign-extends.
		{"ssi_ptr/32", le.Uint64(b32[48:]), 0xffffffff_80000001},
		{"ssi_ptr/64", le.Uint64(b64[48:]), 0x8000_0001},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.what, c.got, c.want)
		}
	}
	chld := SigInfo{Signo: SIGCHLD, Code: CLD_KILLED, Pid: 3, Status: SIGKILL, Utime: 4, Stime: 5}
	b := chld.MarshalSignalfd(64)
	if le.Uint32(b[40:]) != SIGKILL || le.Uint64(b[56:]) != 4 || le.Uint64(b[64:]) != 5 || le.Uint32(b[12:]) != 3 {
		t.Errorf("chld signalfd_siginfo % x", b[:72])
	}
	fault := SigInfo{Signo: SIGBUS, Code: BUS_MCEERR_AO, Addr: 0x9000_0000, AddrLSB: 12}
	b = fault.MarshalSignalfd(32)
	if le.Uint64(b[72:]) != 0xffffffff_90000000 || le.Uint16(b[80:]) != 12 {
		t.Errorf("mceerr signalfd_siginfo % x", b[72:84])
	}
	poll := SigInfo{Signo: SIGIO, Code: POLL_OUT, Band: 4, FD: 9}
	b = poll.MarshalSignalfd(64)
	if le.Uint32(b[28:]) != 4 || le.Uint32(b[20:]) != 9 {
		t.Errorf("poll signalfd_siginfo % x", b[:32])
	}
}

func FuzzUnmarshalSigInfo(f *testing.F) {
	si := SigInfo{Signo: SIGCHLD, Code: CLD_EXITED, Pid: 1}
	f.Add(si.Marshal(64), true)
	f.Add([]byte{1, 2, 3}, false)
	f.Fuzz(func(t *testing.T, b []byte, wide bool) {
		class := 32
		if wide {
			class = 64
		}
		si := UnmarshalSigInfo(b, class)
		// What was read must encode back to the same fields.
		if again := UnmarshalSigInfo(si.Marshal(class), class); again != si {
			t.Errorf("re-encoding changed %+v into %+v", si, again)
		}
		si.MarshalSignalfd(class)
	})
}
