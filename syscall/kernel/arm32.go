package kernel

import (
	"fmt"
	"runtime"
	"strings"
	"xemu/syscall/abi"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
	"xemu/loader"
)

// The 32-bit ARM EABI: armhf and armel programs (the kernel ABI is the same;
// only the C calling convention for floating point differs). The system call
// number is in r7 and arguments in r0-r6, 64-bit arguments in an even/odd
// register pair (arch/arm/kernel/entry-common.S; PairedArgs).
func init() {
	register(&ABI{
		Name:    "arm",
		CPU:     cpu.ARM,
		Machine: loader.EMARM,
		Class:   32,
		Uname:   "armv7l",
		// MINSIGSTKSZ (arch/arm/include/uapi/asm/signal.h): the smallest sigaltstack.
		MinAltStack:     2048,
		Platform:        "v7l",
		Numbers:         abi.ARMNumbers,
		PairedArgs:      true,
		Limit:           armTaskSize,
		StartThread:     armStartThread,
		ExceptionSignal: armExceptionSignal,
		FaultDetail:     armFaultDetail,
		SigFrame:        abi.SigFrameARM,
		SyscallInsnLen:  armSyscallInsnLen,
		Stat:            ArmStat,
		Stat64:          armStat64,
		Statfs:          ArmStatfs,
		Statfs64:        ArmStatfs64,
		Rusage:          armRusage,
		Sysinfo:         ArmSysinfo,
		FlockIn:         armFlockIn,
		FlockOut:        armFlockOut,
		Flock64In: func(t *Task, a mem.GuestAddr) (*unix.Flock_t, error) {
			var g ArmFlock64T
			if err := CopyInStruct(t, a, &g); err != nil {
				return nil, err
			}
			return &unix.Flock_t{Type: g.Type, Whence: g.Whence, Start: g.Start, Len: g.Len, Pid: g.Pid}, nil
		},
		Flock64Out: func(t *Task, a mem.GuestAddr, fl *unix.Flock_t) error {
			g := ArmFlock64T{Type: fl.Type, Whence: fl.Whence, Start: fl.Start, Len: fl.Len, Pid: fl.Pid}
			return CopyOutStruct(t, a, &g)
		},
		CPUInfo:         armCPUInfo,
		SetTLS:          func(e *cpu.Engine, v uint64) error { return e.SetReg(cpu.ARMTLS, v) },
		Target:          armTarget,
		KernelPages:     loader.MapARMVectors,
		Impl:            armImpl,
		SmallDirCookies: true,
		IPC:             &abi.IPCArm,
	})
}

// armTaskSize is TASK_SIZE of a 32-bit ARM kernel with the usual 3G/1G split
// (PAGE_OFFSET 0xc0000000 less 16 MiB for modules): user space ends there,
// the stack starts there, and nothing user space maps reaches the vector
// page at 0xffff0000 or anything above 4 GiB.
const armTaskSize = 0xbf000000

// armImpl: calls ARM numbers under one name and implements with another
// (arch/arm/tools/syscall.tbl). The original uid/gid calls take 16-bit ids;
// the *32 calls are the ones every other architecture has.
var armImpl = map[string]string{
	"chown": "chown16", "lchown": "lchown16", "fchown": "fchown16",
	"getuid": "getuid16", "getgid": "getgid16", "geteuid": "geteuid16", "getegid": "getegid16",
	"setuid": "setuid16", "setgid": "setgid16", "setreuid": "setreuid16", "setregid": "setregid16",
	"setresuid": "setresuid16", "getresuid": "getresuid16", "setresgid": "setresgid16", "getresgid": "getresgid16",
	"getgroups": "getgroups16", "setgroups": "setgroups16", "setfsuid": "setfsuid16", "setfsgid": "setfsgid16",

	"chown32": "chown", "lchown32": "lchown", "fchown32": "fchown",
	"getuid32": "getuid", "getgid32": "getgid", "geteuid32": "geteuid", "getegid32": "getegid",
	"setuid32": "setuid", "setgid32": "setgid", "setreuid32": "setreuid", "setregid32": "setregid",
	"setresuid32": "setresuid", "getresuid32": "getresuid", "setresgid32": "setresgid", "getresgid32": "getresgid",
	"getgroups32": "getgroups", "setgroups32": "setgroups", "setfsuid32": "setfsuid", "setfsgid32": "setfsgid",

	"ugetrlimit": "getrlimit", // EABI has no old getrlimit: ugetrlimit is sys_getrlimit
	"_llseek":    "llseek",
	// sync_file_range2 is the generic name of ARM's reordered call; both
	// names are number 341.
	"sync_file_range2": "arm_sync_file_range",
}

func armTarget(e *cpu.Engine) *loader.Target {
	hw, hw2 := armHWCaps(e)
	midr, _ := e.CoprocReg(15, 0, 0, 0, 0)
	return &loader.Target{
		CPUID:   midr,
		Machine: loader.EMARM,
		Class:   32,
		// arch/arm/include/asm/elf.h: ELF_ET_DYN_BASE is TASK_SIZE / 3 * 2.
		DynBase:   armTaskSize / 3 * 2 &^ 0xfff,
		StackTop:  armTaskSize,
		StackSize: 8 << 20,
		// ARM's mmap_rnd_bits default (8) for a PIE and the mmap base,
		// STACK_RND_MASK 0x7ff for the stack, 32 MiB for the heap.
		RandPages: loader.RandPages{Dyn: 1 << 8, Stack: 1 << 11, Mmap: 1 << 8, Brk: 1 << 13},
		Platform:  "v7l",
		HWCap:     hw,
		HWCap2:    hw2,
	}
}

// armStartThread is ARM's start_thread with ELF_PLAT_INIT: every register
// zero (r0 is the exit hook the start code registers), sp and pc set. A pc
// with bit 0 set starts in Thumb state: Run selects it from that bit.
func armStartThread(e *cpu.Engine, entry, sp uint64) error {
	for i := 0; i < 13; i++ {
		if err := e.SetReg(cpu.ARMR0+cpu.Reg(i), 0); err != nil {
			return err
		}
	}
	if err := e.SetReg(cpu.ARMLR, 0); err != nil {
		return err
	}
	if err := e.SetReg(cpu.ARMSP, sp); err != nil {
		return err
	}
	return e.SetReg(cpu.ARMPC, entry&^1)
}

// armExceptionSignal: QEMU numbers ARM's exceptions as AArch64's
// (EXCP_UDEF 1, EXCP_PREFETCH_ABORT 3, EXCP_DATA_ABORT 4, EXCP_BKPT 7).
// Linux answers them as arch/arm/kernel/traps.c does: an undefined
// instruction is SIGILL/ILL_ILLOPC (trap 6), except the two breakpoint
// encodings ptrace registers as undef hooks (arch/arm/kernel/ptrace.c:
// 0xe7f001f0 in ARM, 0xde01 in Thumb) and BKPT, which are SIGTRAP/TRAP_BRKPT.
func armExceptionSignal(t *Task, intno uint32, pc uint64) (abi.SigInfo, faultInfo, string) {
	trap := abi.SigInfo{Signo: abi.SIGTRAP, Code: abi.TRAP_BRKPT, Addr: pc}
	switch intno {
	case excpUDef:
		thumb := t.CPU.Reg(cpu.ARMCPSR)&cpu.ARMCPSRThumb != 0
		var b [4]byte
		if t.P.Mem.Read(mem.GuestAddr(pc), b[:2]) == nil {
			if thumb && b[0] == 0x01 && b[1] == 0xde {
				return trap, faultInfo{trapNo: 6}, "breakpoint"
			}
			if !thumb && t.P.Mem.Read(mem.GuestAddr(pc), b[:]) == nil && b == [4]byte{0xf0, 0x01, 0xf0, 0xe7} {
				return trap, faultInfo{trapNo: 6}, "breakpoint"
			}
		}
		return abi.SigInfo{Signo: abi.SIGILL, Code: abi.ILL_ILLOPC, Addr: pc}, faultInfo{trapNo: 6}, "illegal instruction"
	case excpBKPT:
		return trap, faultInfo{trapNo: 6}, "breakpoint"
	case excpDataAbort, excpPrefetch:
		return abi.SigInfo{Signo: abi.SIGBUS, Code: abi.BUS_ADRALN, Addr: pc}, faultInfo{trapNo: 14, errorCode: 1}, "alignment fault"
	}
	return abi.SigInfo{Signo: abi.SIGILL, Code: abi.ILL_ILLOPC, Addr: pc}, faultInfo{trapNo: 6}, "CPU exception"
}

// armFaultDetail is what ARM's do_page_fault leaves in sigcontext: trap 14
// and the fault status register, short-descriptor format: 0x7 translation
// fault (page), 0xf permission fault (page), bit 11 set for a write.
func armFaultDetail(f cpu.Fault) faultInfo {
	fsr := uint64(0x7)
	if f.Mapped {
		fsr = 0xf
	}
	if f.Access == mem.ProtWrite {
		fsr |= 1 << 11
	}
	return faultInfo{trapNo: 14, errorCode: fsr}
}

// armSyscallInsnLen: svc is 4 bytes in ARM state and 2 in Thumb.
func armSyscallInsnLen(e *cpu.Engine) uint64 {
	if e.Reg(cpu.ARMCPSR)&cpu.ARMCPSRThumb != 0 {
		return 2
	}
	return 4
}

// ARM hwcaps (arch/arm/include/uapi/asm/hwcap.h).
const (
	ArmHWCapSWP       = 1 << 0
	armHWCapHalf      = 1 << 1
	armHWCapThumb     = 1 << 2
	armHWCapFastMult  = 1 << 4
	armHWCapVFP       = 1 << 6
	armHWCapEDSP      = 1 << 7
	armHWCapNEON      = 1 << 12
	armHWCapVFPv3     = 1 << 13
	ArmHWCapVFPv3D16  = 1 << 14
	armHWCapTLS       = 1 << 15
	armHWCapVFPv4     = 1 << 16
	armHWCapIDIVA     = 1 << 17
	armHWCapIDIVT     = 1 << 18
	ArmHWCapVFPD32    = 1 << 19
	armHWCapLPAE      = 1 << 20
	armHWCapFPHP      = 1 << 22
	armHWCapASIMDHP   = 1 << 23
	armHWCapASIMDDP   = 1 << 24
	armHWCapASIMDFHM  = 1 << 25
	armHWCapASIMDBF16 = 1 << 26
	armHWCapI8MM      = 1 << 27

	ArmHWCap2AES   = 1 << 0
	ArmHWCap2PMULL = 1 << 1
	ArmHWCap2SHA1  = 1 << 2
	ArmHWCap2SHA2  = 1 << 3
	ArmHWCap2CRC32 = 1 << 4
	armHWCap2SB    = 1 << 5
	armHWCap2SSBS  = 1 << 6
)

// ArmIDRegs are the identification registers the hwcaps come from.
type ArmIDRegs struct {
	MIDR, MMFR0, ISAR0, ISAR3, ISAR4, ISAR5, ISAR6, PFR2 uint32
	FPSID, MVFR0, MVFR1                                  uint32
}

// armHWCaps reads the emulated CPU's ID registers (cp15, and MVFR0/1 with
// vmrs) and derives AT_HWCAP and AT_HWCAP2 from them.
func armHWCaps(e *cpu.Engine) (hw, hw2 uint64) {
	cp15 := func(crm, op2 int) uint32 {
		v, _ := e.CoprocReg(15, 0, 0, crm, op2)
		return uint32(v)
	}
	id := ArmIDRegs{
		MIDR: cp15(0, 0), MMFR0: cp15(1, 4), ISAR0: cp15(2, 0), ISAR3: cp15(2, 3), ISAR4: cp15(2, 4),
		ISAR5: cp15(2, 5), ISAR6: cp15(2, 7), PFR2: cp15(3, 4), FPSID: uint32(e.Reg(cpu.ARMFPSID)),
	}
	id.MVFR0, id.MVFR1, _ = e.MediaFeatures()
	return id.Hwcaps()
}

// Hwcaps derives the hwcaps the way a 32-bit ARM kernel does for an ARMv7
// CPU: proc-v7.S's fixed set (swp half thumb fastmult edsp tls), SWP dropped
// when LDREX/STREX are complete (setup.c elf_hwcap_fixup), division, LPAE and
// the v8 extensions from the ID registers (cpuid_init_hwcaps), VFP and NEON
// from MVFR0/1 (arch/arm/vfp/vfpmodule.c vfp_init, CPUID scheme). ThumbEE is
// never named: QEMU has its registers but not its instructions. EVTSTRM is
// not named either: no timer event stream wakes WFE here.
func (id ArmIDRegs) Hwcaps() (hw, hw2 uint64) {
	field := func(r uint32, shift uint) uint32 { return (r >> shift) & 0xf }
	hw = ArmHWCapSWP | armHWCapHalf | armHWCapThumb | armHWCapFastMult | armHWCapEDSP | armHWCapTLS
	if id.MIDR&0x000f0000 == 0x000f0000 { // the CPUID scheme
		if sync := field(id.ISAR3, 12); sync > 1 || sync == 1 && field(id.ISAR4, 20) >= 3 {
			hw &^= ArmHWCapSWP
		}
	}
	switch d := field(id.ISAR0, 24); {
	case d >= 2:
		hw |= armHWCapIDIVA | armHWCapIDIVT
	case d == 1:
		hw |= armHWCapIDIVT
	}
	if field(id.MMFR0, 0) >= 5 {
		hw |= armHWCapLPAE
	}
	switch a := field(id.ISAR5, 4); {
	case a >= 2:
		hw2 |= ArmHWCap2AES | ArmHWCap2PMULL
	case a == 1:
		hw2 |= ArmHWCap2AES
	}
	if field(id.ISAR5, 8) >= 1 {
		hw2 |= ArmHWCap2SHA1
	}
	if field(id.ISAR5, 12) >= 1 {
		hw2 |= ArmHWCap2SHA2
	}
	if field(id.ISAR5, 16) >= 1 {
		hw2 |= ArmHWCap2CRC32
	}
	if field(id.ISAR6, 12) >= 1 {
		hw2 |= armHWCap2SB
	}
	if field(id.PFR2, 4) >= 1 {
		hw2 |= armHWCap2SSBS
	}
	if id.FPSID&(1<<23) != 0 { // FPSID.SW: no VFP hardware
		return hw, hw2
	}
	hw |= armHWCapVFP
	// VFPv3 (or later): double or single precision at version 2 in MVFR0.
	if field(id.MVFR0, 8) == 2 || field(id.MVFR0, 4) == 2 {
		hw |= armHWCapVFPv3
		if id.MVFR0&0xf == 1 {
			hw |= ArmHWCapVFPv3D16
		} else {
			hw |= ArmHWCapVFPD32
		}
	}
	if id.MVFR1&0xf0000000 == 0x10000000 {
		hw |= armHWCapVFPv4
	}
	if field(id.MVFR1, 20) == 2 {
		hw |= armHWCapASIMDHP
	}
	if field(id.MVFR1, 24) == 3 {
		hw |= armHWCapFPHP
	}
	if id.MVFR1&0x000fff00 == 0x00011100 {
		hw |= armHWCapNEON
		// The v8.2+ Advanced SIMD extensions are in ID_ISAR6.
		if field(id.ISAR6, 4) == 1 {
			hw |= armHWCapASIMDDP
		}
		if field(id.ISAR6, 8) == 1 {
			hw |= armHWCapASIMDFHM
		}
		if field(id.ISAR6, 20) == 1 {
			hw |= armHWCapASIMDBF16
		}
		if field(id.ISAR6, 24) == 1 {
			hw |= armHWCapI8MM
		}
	}
	return hw, hw2
}

// armHWCapNames and armHWCap2Names are /proc/cpuinfo's names for the bits
// (arch/arm/kernel/setup.c hwcap_str, hwcap2_str).
var armHWCapNames = []string{
	"swp", "half", "thumb", "26bit", "fastmult", "fpa", "vfp", "edsp", "java", "iwmmxt", "crunch",
	"thumbee", "neon", "vfpv3", "vfpv3d16", "tls", "vfpv4", "idiva", "idivt", "vfpd32", "lpae",
	"evtstrm", "fphp", "asimdhp", "asimddp", "asimdfhm", "asimdbf16", "i8mm",
}

var armHWCap2Names = []string{"aes", "pmull", "sha1", "sha2", "crc32", "sb", "ssbs"}

// armCPUInfo renders /proc/cpuinfo as arch/arm/kernel/setup.c's c_show does
// for an ARMv7 CPU, one block per host CPU.
func armCPUInfo(p *Process) string {
	var feats strings.Builder
	for i, n := range armHWCapNames {
		if p.HWCap&(1<<i) != 0 {
			feats.WriteString(n + " ")
		}
	}
	for i, n := range armHWCap2Names {
		if p.HWCap2&(1<<i) != 0 {
			feats.WriteString(n + " ")
		}
	}
	midr := uint32(p.CPUID)
	var b strings.Builder
	for cpu := 0; cpu < runtime.NumCPU(); cpu++ {
		fmt.Fprintf(&b, "processor\t: %d\n", cpu)
		fmt.Fprintf(&b, "model name\t: ARMv7 Processor rev %d (v7l)\n", midr&15)
		fmt.Fprintf(&b, "BogoMIPS\t: %d.%02d\n", 50, 0)
		fmt.Fprintf(&b, "Features\t: %s\n", feats.String())
		fmt.Fprintf(&b, "CPU implementer\t: 0x%02x\n", midr>>24)
		fmt.Fprintf(&b, "CPU architecture: 7\n")
		fmt.Fprintf(&b, "CPU variant\t: 0x%x\n", (midr>>20)&15)
		fmt.Fprintf(&b, "CPU part\t: 0x%03x\n", (midr>>4)&0xfff)
		fmt.Fprintf(&b, "CPU revision\t: %d\n\n", midr&15)
	}
	b.WriteString("Hardware\t: Generic DT based system\nRevision\t: 0000\nSerial\t\t: 0000000000000000\n")
	return b.String()
}

// Layouts from arch/arm/include/uapi/asm/*.h and include/uapi/linux/*.h as
// the EABI lays them out (little-endian; 64-bit members 8-byte aligned).
// arm32_test.go pins every size and offset.

// ArmStatT is struct stat (asm/stat.h): 64 bytes.
type ArmStatT struct {
	Dev       uint32
	Ino       uint32
	Mode      uint16
	Nlink     uint16
	UID       uint16
	GID       uint16
	Rdev      uint32
	Size      uint32
	Blksize   uint32
	Blocks    uint32
	Atime     uint32
	AtimeNsec uint32
	Mtime     uint32
	MtimeNsec uint32
	Ctime     uint32
	CtimeNsec uint32
	_         [2]uint32
}

// ArmStat encodes struct stat as cp_new_stat does on a 32-bit kernel: old
// 16-bit device numbers, 16-bit ids (65534 for larger ones), and EOVERFLOW
// for a device, inode, link count or size that does not fit.
func ArmStat(st *unix.Stat_t) ([]byte, error) {
	oldDev := func(d uint64) (uint32, bool) {
		major, minor := unix.Major(d), unix.Minor(d)
		return major<<8 | minor, major < 256 && minor < 256
	}
	dev, ok1 := oldDev(st.Dev)
	rdev, ok2 := oldDev(st.Rdev)
	if !ok1 || !ok2 || st.Ino > 0xffffffff || st.Nlink > 0xffff || st.Size > 0x7fffffff {
		return nil, unix.EOVERFLOW
	}
	g := ArmStatT{
		Dev: dev, Ino: uint32(st.Ino), Mode: uint16(st.Mode), Nlink: uint16(st.Nlink),
		UID: uint16(HighToLowID(st.Uid)), GID: uint16(HighToLowID(st.Gid)), Rdev: rdev,
		Size: uint32(st.Size), Blksize: uint32(st.Blksize), Blocks: uint32(st.Blocks),
		Atime: uint32(st.Atim.Sec), AtimeNsec: uint32(st.Atim.Nsec), Mtime: uint32(st.Mtim.Sec),
		MtimeNsec: uint32(st.Mtim.Nsec), Ctime: uint32(st.Ctim.Sec), CtimeNsec: uint32(st.Ctim.Nsec),
	}
	return AsBytes(&g), nil
}

// ArmStat64T is struct stat64 (asm/stat.h), 104 bytes with EABI alignment.
type ArmStat64T struct {
	Dev       uint64
	_         [4]byte
	Ino32     uint32 // __st_ino
	Mode      uint32
	Nlink     uint32
	UID       uint32
	GID       uint32
	Rdev      uint64
	_         [4]byte
	_         [4]byte // EABI aligns st_size to 8
	Size      int64
	Blksize   uint32
	_         uint32 // EABI aligns st_blocks to 8
	Blocks    uint64
	Atime     uint32
	AtimeNsec uint32
	Mtime     uint32
	MtimeNsec uint32
	Ctime     uint32
	CtimeNsec uint32
	Ino       uint64
}

// armStat64 is cp_new_stat64: the device numbers in the new encoding (what
// the host's struct stat holds too), __st_ino the inode's low half.
func armStat64(st *unix.Stat_t) []byte {
	g := ArmStat64T{
		Dev: st.Dev, Ino32: uint32(st.Ino), Mode: st.Mode, Nlink: uint32(st.Nlink), UID: st.Uid, GID: st.Gid,
		Rdev: st.Rdev, Size: st.Size, Blksize: uint32(st.Blksize), Blocks: uint64(st.Blocks),
		Atime: uint32(st.Atim.Sec), AtimeNsec: uint32(st.Atim.Nsec), Mtime: uint32(st.Mtim.Sec),
		MtimeNsec: uint32(st.Mtim.Nsec), Ctime: uint32(st.Ctim.Sec), CtimeNsec: uint32(st.Ctim.Nsec),
		Ino: st.Ino,
	}
	return AsBytes(&g)
}

// ArmStatfsT is struct statfs (asm-generic/statfs.h with 32-bit words): 64
// bytes.
type ArmStatfsT struct {
	Type, Bsize, Blocks, Bfree, Bavail, Files, Ffree uint32
	Fsid                                             [2]int32
	Namelen, Frsize, Flags                           uint32
	Spare                                            [4]uint32
}

// ArmStatfs is do_statfs_native on a 32-bit kernel: EOVERFLOW if a count
// does not fit (f_files and f_ffree may be -1).
func ArmStatfs(st *unix.Statfs_t) ([]byte, error) {
	const high = 0xffffffff00000000
	if (st.Blocks|st.Bfree|st.Bavail|uint64(st.Bsize)|uint64(st.Frsize))&high != 0 ||
		st.Files != ^uint64(0) && st.Files&high != 0 || st.Ffree != ^uint64(0) && st.Ffree&high != 0 {
		return nil, unix.EOVERFLOW
	}
	g := ArmStatfsT{Type: uint32(st.Type), Bsize: uint32(st.Bsize), Blocks: uint32(st.Blocks), Bfree: uint32(st.Bfree),
		Bavail: uint32(st.Bavail), Files: uint32(st.Files), Ffree: uint32(st.Ffree), Fsid: st.Fsid.Val,
		Namelen: uint32(st.Namelen), Frsize: uint32(st.Frsize), Flags: uint32(st.Flags)}
	return AsBytes(&g), nil
}

// ArmStatfs64T is struct statfs64, which asm/statfs.h packs to 4-byte
// alignment (ARCH_PACK_STATFS64): 84 bytes, where the Go struct (like an
// unpacked EABI one) has 4 more at the end.
type ArmStatfs64T struct {
	Type, Bsize                         uint32
	Blocks, Bfree, Bavail, Files, Ffree uint64
	Fsid                                [2]int32
	Namelen, Frsize, Flags              uint32
	Spare                               [4]uint32
}

const ArmStatfs64Size = 84

// ArmStatfs64 accepts the two sizes entry-common.S's sys_statfs64_wrapper
// does: 84, and 88 (the unpacked size EABI C libraries pass) taken as 84.
func ArmStatfs64(sz uint64, st *unix.Statfs_t) ([]byte, error) {
	if sz != ArmStatfs64Size && sz != 88 {
		return nil, unix.EINVAL
	}
	g := ArmStatfs64T{Type: uint32(st.Type), Bsize: uint32(st.Bsize), Blocks: st.Blocks, Bfree: st.Bfree,
		Bavail: st.Bavail, Files: st.Files, Ffree: st.Ffree, Fsid: st.Fsid.Val,
		Namelen: uint32(st.Namelen), Frsize: uint32(st.Frsize), Flags: uint32(st.Flags)}
	return AsBytes(&g)[:ArmStatfs64Size], nil
}

// ArmFlockT is struct flock (asm-generic/fcntl.h, off_t a long): 16 bytes.
type ArmFlockT struct {
	Type, Whence int16
	Start, Len   int32
	Pid          int32
}

// ArmFlock64T is struct flock64, 32 bytes with EABI alignment.
type ArmFlock64T struct {
	Type, Whence int16
	_            [4]byte
	Start, Len   int64
	Pid          int32
	_            [4]byte
}

func armFlockIn(t *Task, a mem.GuestAddr) (*unix.Flock_t, error) {
	var g ArmFlockT
	if err := CopyInStruct(t, a, &g); err != nil {
		return nil, err
	}
	return &unix.Flock_t{Type: g.Type, Whence: g.Whence, Start: int64(g.Start), Len: int64(g.Len), Pid: g.Pid}, nil
}

// armFlockOut is posix_lock_to_flock on a 32-bit kernel: a lock reaching
// past what off_t holds is EOVERFLOW.
func armFlockOut(t *Task, a mem.GuestAddr, fl *unix.Flock_t) error {
	const offMax = 0x7fffffff
	if fl.Start > offMax || fl.Len > 0 && fl.Start+fl.Len-1 > offMax {
		return unix.EOVERFLOW
	}
	g := ArmFlockT{Type: fl.Type, Whence: fl.Whence, Start: int32(fl.Start), Len: int32(fl.Len), Pid: fl.Pid}
	return CopyOutStruct(t, a, &g)
}

// ArmRusageT is struct rusage with 32-bit longs (include/uapi/linux/
// resource.h): two struct timevals and fourteen longs, 72 bytes.
type ArmRusageT struct {
	Utime, Stime [2]int32
	Counts       [14]int32
}

func armRusage(ru *unix.Rusage) []byte {
	g := ArmRusageT{
		Utime: [2]int32{int32(ru.Utime.Sec), int32(ru.Utime.Usec)},
		Stime: [2]int32{int32(ru.Stime.Sec), int32(ru.Stime.Usec)},
	}
	for i, v := range []int64{ru.Maxrss, ru.Ixrss, ru.Idrss, ru.Isrss, ru.Minflt, ru.Majflt, ru.Nswap,
		ru.Inblock, ru.Oublock, ru.Msgsnd, ru.Msgrcv, ru.Nsignals, ru.Nvcsw, ru.Nivcsw} {
		g.Counts[i] = int32(v)
	}
	return AsBytes(&g)
}

// ArmSysinfoT is struct sysinfo with 32-bit longs (include/uapi/linux/
// sysinfo.h): 64 bytes.
type ArmSysinfoT struct {
	Uptime                                 int32
	Loads                                  [3]uint32
	Totalram, Freeram, Sharedram, Bufferam uint32
	Totalswap, Freeswap                    uint32
	Procs, Pad                             uint16
	Totalhigh, Freehigh                    uint32
	MemUnit                                uint32
	_                                      [8]byte
}

// ArmSysinfo scales memory sizes as Linux does for a 32-bit task on a
// 64-bit kernel (kernel/sys.c compat_sysinfo): if the total RAM or swap
// does not fit 32 bits, counts go in larger units, up to pages.
func ArmSysinfo(si *unix.Sysinfo_t) []byte {
	unit := uint64(si.Unit)
	if unit == 0 {
		unit = 1
	}
	shift := uint(0)
	if si.Totalram>>32 != 0 || si.Totalswap>>32 != 0 {
		for unit<<shift < mem.PageSize {
			shift++
		}
	}
	sz := func(v uint64) uint32 { return uint32(v >> shift) }
	g := ArmSysinfoT{
		Uptime: int32(si.Uptime), Loads: [3]uint32{uint32(si.Loads[0]), uint32(si.Loads[1]), uint32(si.Loads[2])},
		Totalram: sz(si.Totalram), Freeram: sz(si.Freeram), Sharedram: sz(si.Sharedram), Bufferam: sz(si.Bufferram),
		Totalswap: sz(si.Totalswap), Freeswap: sz(si.Freeswap), Procs: si.Procs,
		Totalhigh: sz(si.Totalhigh), Freehigh: sz(si.Freehigh), MemUnit: uint32(unit << shift),
	}
	return AsBytes(&g)
}

// HighToLowID is high2lowuid: a 32-bit id as a 16-bit caller sees it.
func HighToLowID(id uint32) uint32 {
	if id&^0xffff != 0 {
		return OverflowID
	}
	return id
}

// OverflowID is /proc/sys/kernel/overflowuid and overflowgid's default.
const OverflowID = 65534
