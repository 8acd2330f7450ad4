package abi

import (
	"encoding/binary"
	"unsafe"
)

// SigInfo is the contents of a siginfo_t independent of its word size and
// of which union member holds them. Signo, Errno and Code are always
// meaningful; Marshal writes the other fields the union member that the
// kernel's siginfo_layout() picks for (Signo, Code) has, and leaves the
// rest of the 128 bytes zero (kernel/signal.c clear_siginfo).
type SigInfo struct {
	Signo, Errno, Code int32

	Pid, Uid uint32 // kill, rt (sigqueue), chld
	Value    uint64 // sigval: si_int is its low 32 bits, si_ptr all of it (32 on ARM)

	TimerID, Overrun int32 // POSIX timers (si_tid, si_overrun)

	Status       int32 // SIGCHLD: exit code or signal
	Utime, Stime int64 // SIGCHLD: clock_t ticks

	Addr      uint64 // faults: si_addr
	AddrLSB   int16  // BUS_MCEERR_*: si_addr_lsb
	Lower     uint64 // SEGV_BNDERR: si_lower
	Upper     uint64 // SEGV_BNDERR: si_upper
	Pkey      uint32 // SEGV_PKUERR: si_pkey
	PerfData  uint64 // TRAP_PERF: si_perf_data
	PerfType  uint32 // TRAP_PERF: si_perf_type
	PerfFlags uint32 // TRAP_PERF: si_perf_flags

	Band int64 // SIGPOLL: si_band (long)
	FD   int32 // SIGPOLL: si_fd

	CallAddr uint64 // SIGSYS: si_call_addr
	Syscall  int32  // SIGSYS: si_syscall
	Arch     uint32 // SIGSYS: si_arch (AUDIT_ARCH_*)
}

// SigInfoSize is sizeof(siginfo_t) on both word sizes (SI_MAX_SIZE).
const SigInfoSize = 128

// SigInfoLayout names the union member of siginfo_t in use
// (include/linux/signal.h enum siginfo_layout).
type SigInfoLayout int

const (
	SigInfoKill SigInfoLayout = iota
	SigInfoTimer
	SigInfoPoll
	SigInfoFault
	SigInfoFaultMCEErr
	SigInfoFaultBndErr
	SigInfoFaultPkuErr
	SigInfoFaultPerfEvent
	SigInfoChld
	SigInfoRT
	SigInfoSys
)

// sigCodeLimits is kernel/signal.c sig_sicodes: the signals whose positive
// si_codes are signal-specific, with the highest such code and its layout.
var sigCodeLimits = map[int32]struct {
	limit  int32
	layout SigInfoLayout
}{
	SIGILL:  {NSIGILL, SigInfoFault},
	SIGFPE:  {NSIGFPE, SigInfoFault},
	SIGSEGV: {NSIGSEGV, SigInfoFault},
	SIGBUS:  {NSIGBUS, SigInfoFault},
	SIGTRAP: {NSIGTRAP, SigInfoFault},
	SIGCHLD: {NSIGCHLD, SigInfoChld},
	SIGPOLL: {NSIGPOLL, SigInfoPoll},
	SIGSYS:  {NSIGSYS, SigInfoSys},
}

// SigInfoLayoutOf is kernel/signal.c siginfo_layout() for ARM and AArch64
// (no SIL_FAULT_TRAPNO: that is Alpha's and SPARC's).
func SigInfoLayoutOf(signo, code int32) SigInfoLayout {
	if code > SI_USER && code < SI_KERNEL {
		if l, ok := sigCodeLimits[signo]; ok && code <= l.limit {
			switch {
			case signo == SIGBUS && (code == BUS_MCEERR_AR || code == BUS_MCEERR_AO):
				return SigInfoFaultMCEErr
			case signo == SIGSEGV && code == SEGV_BNDERR:
				return SigInfoFaultBndErr
			case signo == SIGSEGV && code == SEGV_PKUERR:
				return SigInfoFaultPkuErr
			case signo == SIGTRAP && code == TRAP_PERF:
				return SigInfoFaultPerfEvent
			}
			return l.layout
		}
		if code <= NSIGPOLL {
			return SigInfoPoll
		}
		return SigInfoKill
	}
	switch {
	case code == SI_TIMER:
		return SigInfoTimer
	case code == SI_SIGIO:
		return SigInfoPoll
	case code < 0:
		return SigInfoRT
	}
	return SigInfoKill
}

// sigInfoOffsets places siginfo_t's fields for one word size
// (include/uapi/asm-generic/siginfo.h: the union _sifields follows three
// ints and is pointer-aligned, so it starts at 12 on ARM and 16 on AArch64).
type sigInfoOffsets struct {
	word                        int // sizeof(long) == sizeof(void *)
	pid, uid                    int // _kill, _rt, _sigchld
	tid, overrun                int // _timer
	value                       int // _rt._sigval, _timer._sigval
	status, utime, stime        int // _sigchld
	addr, addrLSB, lower, upper int // _sigfault
	pkey                        int
	perfData, perfType          int
	perfFlags                   int
	band, fd                    int // _sigpoll
	callAddr, syscall, arch     int // _sigsys
}

// The offsets are pinned against the cross compilers' headers by
// TestSigLayoutsMatchHeaders and agree with the static_asserts at the end
// of arch/arm/kernel/signal.c and arch/arm64/kernel/signal.c.
var (
	sigInfo32 = sigInfoOffsets{
		word: 4, pid: 0x0c, uid: 0x10, tid: 0x0c, overrun: 0x10, value: 0x14,
		status: 0x14, utime: 0x18, stime: 0x1c,
		addr: 0x0c, addrLSB: 0x10, lower: 0x14, upper: 0x18, pkey: 0x14,
		perfData: 0x10, perfType: 0x14, perfFlags: 0x18,
		band: 0x0c, fd: 0x10, callAddr: 0x0c, syscall: 0x10, arch: 0x14,
	}
	sigInfo64 = sigInfoOffsets{
		word: 8, pid: 0x10, uid: 0x14, tid: 0x10, overrun: 0x14, value: 0x18,
		status: 0x18, utime: 0x20, stime: 0x28,
		addr: 0x10, addrLSB: 0x18, lower: 0x20, upper: 0x28, pkey: 0x20,
		perfData: 0x18, perfType: 0x20, perfFlags: 0x24,
		band: 0x10, fd: 0x18, callAddr: 0x10, syscall: 0x18, arch: 0x1c,
	}
)

func sigInfoOffsetsFor(class int) *sigInfoOffsets {
	if class == 32 {
		return &sigInfo32
	}
	return &sigInfo64
}

// Marshal encodes si as the guest's siginfo_t: class is 32 (ARM) or 64
// (AArch64). Word-sized fields are truncated to 32 bits on ARM.
func (si *SigInfo) Marshal(class int) []byte {
	b := make([]byte, SigInfoSize)
	si.marshalInto(b, class)
	return b
}

func (si *SigInfo) marshalInto(b []byte, class int) {
	o := sigInfoOffsetsFor(class)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(si.Signo))
	le.PutUint32(b[4:], uint32(si.Errno))
	le.PutUint32(b[8:], uint32(si.Code))
	word := func(off int, v uint64) {
		if o.word == 4 {
			le.PutUint32(b[off:], uint32(v))
		} else {
			le.PutUint64(b[off:], v)
		}
	}
	switch SigInfoLayoutOf(si.Signo, si.Code) {
	case SigInfoKill:
		le.PutUint32(b[o.pid:], si.Pid)
		le.PutUint32(b[o.uid:], si.Uid)
	case SigInfoTimer:
		le.PutUint32(b[o.tid:], uint32(si.TimerID))
		le.PutUint32(b[o.overrun:], uint32(si.Overrun))
		word(o.value, si.Value)
	case SigInfoPoll:
		word(o.band, uint64(si.Band))
		le.PutUint32(b[o.fd:], uint32(si.FD))
	case SigInfoFault:
		word(o.addr, si.Addr)
	case SigInfoFaultMCEErr:
		word(o.addr, si.Addr)
		le.PutUint16(b[o.addrLSB:], uint16(si.AddrLSB))
	case SigInfoFaultBndErr:
		word(o.addr, si.Addr)
		word(o.lower, si.Lower)
		word(o.upper, si.Upper)
	case SigInfoFaultPkuErr:
		word(o.addr, si.Addr)
		le.PutUint32(b[o.pkey:], si.Pkey)
	case SigInfoFaultPerfEvent:
		word(o.addr, si.Addr)
		word(o.perfData, si.PerfData)
		le.PutUint32(b[o.perfType:], si.PerfType)
		le.PutUint32(b[o.perfFlags:], si.PerfFlags)
	case SigInfoChld:
		le.PutUint32(b[o.pid:], si.Pid)
		le.PutUint32(b[o.uid:], si.Uid)
		le.PutUint32(b[o.status:], uint32(si.Status))
		word(o.utime, uint64(si.Utime))
		word(o.stime, uint64(si.Stime))
	case SigInfoRT:
		le.PutUint32(b[o.pid:], si.Pid)
		le.PutUint32(b[o.uid:], si.Uid)
		word(o.value, si.Value)
	case SigInfoSys:
		word(o.callAddr, si.CallAddr)
		le.PutUint32(b[o.syscall:], uint32(si.Syscall))
		le.PutUint32(b[o.arch:], si.Arch)
	}
}

// UnmarshalSigInfo decodes a guest siginfo_t (class 32 or 64), reading the
// union member that siginfo_layout() picks for its si_signo and si_code, as
// rt_sigqueueinfo and rt_tgsigqueueinfo do. On ARM pointers and sigval are
// zero-extended and longs (si_band, clock_t) sign-extended. b shorter than
// 128 bytes reads as if zero-padded.
func UnmarshalSigInfo(b []byte, class int) SigInfo {
	if len(b) < SigInfoSize {
		p := make([]byte, SigInfoSize)
		copy(p, b)
		b = p
	}
	o := sigInfoOffsetsFor(class)
	le := binary.LittleEndian
	u32 := func(off int) uint32 { return le.Uint32(b[off:]) }
	ptr := func(off int) uint64 {
		if o.word == 4 {
			return uint64(le.Uint32(b[off:]))
		}
		return le.Uint64(b[off:])
	}
	long := func(off int) int64 {
		if o.word == 4 {
			return int64(int32(le.Uint32(b[off:])))
		}
		return int64(le.Uint64(b[off:]))
	}
	si := SigInfo{Signo: int32(u32(0)), Errno: int32(u32(4)), Code: int32(u32(8))}
	switch SigInfoLayoutOf(si.Signo, si.Code) {
	case SigInfoKill:
		si.Pid, si.Uid = u32(o.pid), u32(o.uid)
	case SigInfoTimer:
		si.TimerID, si.Overrun = int32(u32(o.tid)), int32(u32(o.overrun))
		si.Value = ptr(o.value)
	case SigInfoPoll:
		si.Band, si.FD = long(o.band), int32(u32(o.fd))
	case SigInfoFault:
		si.Addr = ptr(o.addr)
	case SigInfoFaultMCEErr:
		si.Addr, si.AddrLSB = ptr(o.addr), int16(le.Uint16(b[o.addrLSB:]))
	case SigInfoFaultBndErr:
		si.Addr, si.Lower, si.Upper = ptr(o.addr), ptr(o.lower), ptr(o.upper)
	case SigInfoFaultPkuErr:
		si.Addr, si.Pkey = ptr(o.addr), u32(o.pkey)
	case SigInfoFaultPerfEvent:
		si.Addr, si.PerfData = ptr(o.addr), ptr(o.perfData)
		si.PerfType, si.PerfFlags = u32(o.perfType), u32(o.perfFlags)
	case SigInfoChld:
		si.Pid, si.Uid, si.Status = u32(o.pid), u32(o.uid), int32(u32(o.status))
		si.Utime, si.Stime = long(o.utime), long(o.stime)
	case SigInfoRT:
		si.Pid, si.Uid, si.Value = u32(o.pid), u32(o.uid), ptr(o.value)
	case SigInfoSys:
		si.CallAddr, si.Syscall, si.Arch = ptr(o.callAddr), int32(u32(o.syscall)), u32(o.arch)
	}
	return si
}

// SignalfdSigInfo is struct signalfd_siginfo (include/uapi/linux/signalfd.h),
// the same 128 bytes on every architecture.
type SignalfdSigInfo struct {
	Signo    uint32
	Errno    int32
	Code     int32
	Pid      uint32
	Uid      uint32
	FD       int32
	Tid      uint32
	Band     uint32
	Overrun  uint32
	Trapno   uint32
	Status   int32
	Int      int32
	Ptr      uint64
	Utime    uint64
	Stime    uint64
	Addr     uint64
	AddrLSB  uint16
	_        uint16
	Syscall  int32
	CallAddr uint64
	Arch     uint32
	_        [28]uint8
}

// SignalfdSigInfoSize is sizeof(struct signalfd_siginfo).
const SignalfdSigInfoSize = 128

// MarshalSignalfd encodes si as read(2) on a signalfd returns it
// (fs/signalfd.c signalfd_copyinfo) for a guest of the given class (32 or
// 64). The kernel widens pointers and longs through (long), so on a 32-bit
// kernel ssi_ptr, ssi_addr, ssi_call_addr, ssi_utime and ssi_stime are
// sign-extended from 32 bits.
func (si *SigInfo) MarshalSignalfd(class int) []byte {
	long := func(v uint64) uint64 {
		if class == 32 {
			return uint64(int64(int32(uint32(v))))
		}
		return v
	}
	s := SignalfdSigInfo{Signo: uint32(si.Signo), Errno: si.Errno, Code: si.Code}
	switch SigInfoLayoutOf(si.Signo, si.Code) {
	case SigInfoKill:
		s.Pid, s.Uid = si.Pid, si.Uid
	case SigInfoTimer:
		s.Tid, s.Overrun = uint32(si.TimerID), uint32(si.Overrun)
		s.Ptr, s.Int = long(si.Value), int32(uint32(si.Value))
	case SigInfoPoll:
		s.Band, s.FD = uint32(si.Band), si.FD
	case SigInfoFault, SigInfoFaultBndErr, SigInfoFaultPkuErr, SigInfoFaultPerfEvent:
		s.Addr = long(si.Addr)
	case SigInfoFaultMCEErr:
		s.Addr, s.AddrLSB = long(si.Addr), uint16(si.AddrLSB)
	case SigInfoChld:
		s.Pid, s.Uid, s.Status = si.Pid, si.Uid, si.Status
		s.Utime, s.Stime = long(uint64(si.Utime)), long(uint64(si.Stime))
	case SigInfoRT:
		s.Pid, s.Uid = si.Pid, si.Uid
		s.Ptr, s.Int = long(si.Value), int32(uint32(si.Value))
	case SigInfoSys:
		s.CallAddr, s.Syscall, s.Arch = long(si.CallAddr), si.Syscall, si.Arch
	}
	return append([]byte(nil), sigLayoutBytes(&s)...)
}

// sigLayoutBytes is the memory of a layout struct: the host is little-endian
// like both guests, and the structs hold no pointers.
func sigLayoutBytes[T any](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}

// sigLayoutFrom fills a layout struct from guest bytes (len(b) >= its size).
func sigLayoutFrom[T any](p *T, b []byte) {
	copy(sigLayoutBytes(p), b)
}
