package kernel

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"
	"xemu/syscall/abi"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
	"xemu/loader"
)

func init() {
	register(&ABI{
		Name:    "aarch64",
		CPU:     cpu.AArch64,
		Machine: loader.EMAArch64,
		Class:   64,
		Uname:   "aarch64",
		// MINSIGSTKSZ (arch/arm64/include/uapi/asm/signal.h): the smallest sigaltstack.
		MinAltStack:     5120,
		Platform:        "aarch64",
		Numbers:         abi.AArch64Numbers,
		Limit:           1 << 48,
		StartThread:     aarch64StartThread,
		ExceptionSignal: aarch64ExceptionSignal,
		EmulateUndef:    aarch64EmulateUndef,
		FaultDetail:     aarch64FaultDetail,
		SigFrame:        abi.SigFrameAArch64,
		SyscallInsnLen:  func(*cpu.Engine) uint64 { return 4 },
		Stat:            aarch64Stat,
		Statfs:          aarch64Statfs,
		// struct rusage (144 bytes) and struct sysinfo (112 bytes) have the
		// same 64-bit layout on arm64 and x86-64 (include/uapi/linux).
		Rusage:  func(ru *unix.Rusage) []byte { return AsBytes(ru) },
		Sysinfo: func(si *unix.Sysinfo_t) []byte { return AsBytes(si) },
		// struct flock: 32 bytes, the same on arm64 and x86-64.
		FlockIn: func(t *Task, a mem.GuestAddr) (*unix.Flock_t, error) {
			var fl unix.Flock_t
			return &fl, CopyInStruct(t, a, &fl)
		},
		FlockOut: func(t *Task, a mem.GuestAddr, fl *unix.Flock_t) error { return CopyOutStruct(t, a, fl) },
		SetTLS:   func(e *cpu.Engine, v uint64) error { return e.SetReg(cpu.A64TPIDR, v) },
		Target:   aarch64Target,
		CPUInfo:  aarch64CPUInfo,
		IPC:      &abi.IPC64,
	})
}

func aarch64Target(e *cpu.Engine) *loader.Target {
	hw, hw2 := aarch64HWCaps(e)
	midr, _ := e.SysReg(3, 0, 0, 0, 0)
	return &loader.Target{
		CPUID:   midr,
		Machine: loader.EMAArch64,
		Class:   64,
		// arch/arm64/include/asm/elf.h: ELF_ET_DYN_BASE is 2/3 of the 48-bit space.
		DynBase:   (2 * (1 << 48) / 3) &^ 0xfff,
		StackTop:  1 << 48,
		StackSize: 8 << 20,
		// arm64's mmap_rnd_bits minimum (18) for a PIE, 14 bits of stack
		// pages, 16 of mmap base, 32 MiB of heap.
		RandPages: loader.RandPages{Dyn: 1 << 18, Stack: 1 << 14, Mmap: 1 << 16, Brk: 1 << 13},
		Platform:  "aarch64",
		HWCap:     hw,
		HWCap2:    hw2,
		// The size of xemu's AArch64 signal frame (rt_sigframe with the
		// fpsimd record and the frame record), which is what Linux reports.
		MinSigStkSz: aarch64MinSigStkSz,
	}
}

// aarch64MinSigStkSz is what arch/arm64's minsigstksz_setup computes without
// SVE/SME: the signal frame xemu builds, the frame record and 16 bytes of
// alignment padding.
const aarch64MinSigStkSz = abi.MinSigStkSzAArch64

func aarch64StartThread(e *cpu.Engine, entry, sp uint64) error {
	if err := e.SetReg(cpu.A64SP, sp); err != nil {
		return err
	}
	// Linux starts a program with every general register zero (the dynamic
	// loader and static start code read x0 as the exit hook: must be 0).
	for i := 0; i < 31; i++ {
		if err := e.SetReg(cpu.A64X(i), 0); err != nil {
			return err
		}
	}
	return e.SetReg(cpu.A64PC, entry)
}

// Unicorn's AArch64 exception numbers (QEMU's EXCP_*).
const (
	excpUDef      = 1
	excpSWI       = 2
	excpPrefetch  = 3
	excpDataAbort = 4
	excpBKPT      = 7
)

// aarch64ExceptionSignal: arch/arm64/kernel/traps.c. An undefined
// instruction is SIGILL/ILL_ILLOPC and BRK is SIGTRAP/TRAP_BRKPT, both at the
// pc; QEMU reports an unaligned exclusive or a misaligned pc as an abort,
// which Linux answers with SIGBUS/BUS_ADRALN.
func aarch64ExceptionSignal(t *Task, intno uint32, pc uint64) (abi.SigInfo, faultInfo, string) {
	switch intno {
	case excpUDef:
		return abi.SigInfo{Signo: abi.SIGILL, Code: abi.ILL_ILLOPC, Addr: pc}, faultInfo{}, "illegal instruction"
	case excpBKPT:
		return abi.SigInfo{Signo: abi.SIGTRAP, Code: abi.TRAP_BRKPT, Addr: pc}, faultInfo{}, "breakpoint"
	case excpDataAbort, excpPrefetch:
		return abi.SigInfo{Signo: abi.SIGBUS, Code: abi.BUS_ADRALN, Addr: pc}, faultInfo{}, "alignment fault"
	}
	return abi.SigInfo{Signo: abi.SIGILL, Code: abi.ILL_ILLOPC, Addr: pc}, faultInfo{}, "CPU exception"
}

// aarch64FaultDetail is the ESR a user data or instruction abort leaves in
// esr_context (arch/arm64/include/asm/esr.h): EC 0x24 (data abort from EL0)
// or 0x20 (instruction abort), IL, WnR for a write, and the fault status:
// 0x07 translation fault (level 3) where nothing is mapped, 0x0f permission
// fault where the mapping forbids the access.
func aarch64FaultDetail(f cpu.Fault) faultInfo {
	esr := uint64(0x24)<<26 | 1<<25
	if f.Access == mem.ProtExec {
		esr = uint64(0x20)<<26 | 1<<25
	}
	if f.Access == mem.ProtWrite {
		esr |= 1 << 6
	}
	if f.Mapped {
		esr |= 0x0f
	} else {
		esr |= 0x07
	}
	return faultInfo{esr: esr}
}

// aarch64StatT is struct stat from include/uapi/asm-generic/stat.h (arm64
// uses the generic layout: 128 bytes).
type aarch64StatT struct {
	Dev       uint64
	Ino       uint64
	Mode      uint32
	Nlink     uint32
	UID       uint32
	GID       uint32
	Rdev      uint64
	_         uint64
	Size      int64
	Blksize   int32
	_         int32
	Blocks    int64
	Atime     int64
	AtimeNsec uint64
	Mtime     int64
	MtimeNsec uint64
	Ctime     int64
	CtimeNsec uint64
	_         [2]uint32
}

func aarch64Stat(st *unix.Stat_t) ([]byte, error) {
	g := aarch64StatT{
		Dev: st.Dev, Ino: st.Ino, Mode: st.Mode, Nlink: uint32(st.Nlink), UID: st.Uid, GID: st.Gid,
		Rdev: st.Rdev, Size: st.Size, Blksize: int32(st.Blksize), Blocks: st.Blocks,
		Atime: st.Atim.Sec, AtimeNsec: uint64(st.Atim.Nsec), Mtime: st.Mtim.Sec, MtimeNsec: uint64(st.Mtim.Nsec),
		Ctime: st.Ctim.Sec, CtimeNsec: uint64(st.Ctim.Nsec),
	}
	return AsBytes(&g), nil
}

// AsBytes views a layout struct as its bytes (guest and host are both
// little-endian; layouts have explicit padding).
func AsBytes[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}

// AArch64 hwcaps (arch/arm64/include/uapi/asm/hwcap.h).
const (
	hwcapFP       = 1 << 0
	hwcapASIMD    = 1 << 1
	hwcapAES      = 1 << 3
	hwcapPMULL    = 1 << 4
	hwcapSHA1     = 1 << 5
	hwcapSHA2     = 1 << 6
	hwcapCRC32    = 1 << 7
	hwcapATOMICS  = 1 << 8
	hwcapFPHP     = 1 << 9
	hwcapASIMDHP  = 1 << 10
	hwcapCPUID    = 1 << 11
	hwcapASIMDRDM = 1 << 12
	hwcapJSCVT    = 1 << 13
	hwcapFCMA     = 1 << 14
	hwcapLRCPC    = 1 << 15
	hwcapDCPOP    = 1 << 16
	hwcapSHA3     = 1 << 17
	hwcapSM3      = 1 << 18
	hwcapSM4      = 1 << 19
	hwcapASIMDDP  = 1 << 20
	hwcapSHA512   = 1 << 21
	hwcapASIMDFHM = 1 << 23
	hwcapDIT      = 1 << 24
	hwcapUSCAT    = 1 << 25
	hwcapILRCPC   = 1 << 26
	hwcapFLAGM    = 1 << 27
	hwcapSSBS     = 1 << 28
	hwcapSB       = 1 << 29

	hwcap2DCPODP = 1 << 0
	hwcap2FLAGM2 = 1 << 7
	hwcap2FRINT  = 1 << 8
	hwcap2I8MM   = 1 << 13
	hwcap2BF16   = 1 << 14
	hwcap2DGH    = 1 << 15
	hwcap2RNG    = 1 << 16
)

// aarch64HWCaps derives AT_HWCAP and AT_HWCAP2 from the emulated CPU's ID
// registers, the way arch/arm64/kernel/cpufeature.c does, so they name exactly
// what the CPU executes. SVE, SME, pointer authentication, BTI and MTE are
// never named: Unicorn cannot run SVE, and the others need kernel support
// (keys, guarded pages, tags) that xemu does not give.
func aarch64HWCaps(e *cpu.Engine) (hw, hw2 uint64) {
	id := func(crm, op2 int) uint64 {
		v, _ := e.SysReg(3, 0, 0, crm, op2)
		return v
	}
	isar0, isar1 := id(6, 0), id(6, 1)
	pfr0, pfr1 := id(4, 0), id(4, 1)
	mmfr2 := id(7, 2)
	field := func(r uint64, shift uint) uint64 { return (r >> shift) & 0xf }
	signed := func(r uint64, shift uint) int { return int(int8(uint8(field(r, shift)<<4)) >> 4) }

	hw |= hwcapCPUID
	if fp := signed(pfr0, 16); fp >= 0 {
		hw |= hwcapFP
		if fp >= 1 {
			hw |= hwcapFPHP
		}
	}
	if simd := signed(pfr0, 20); simd >= 0 {
		hw |= hwcapASIMD
		if simd >= 1 {
			hw |= hwcapASIMDHP
		}
	}
	if field(pfr0, 48) >= 1 {
		hw |= hwcapDIT
	}
	switch a := field(isar0, 4); {
	case a >= 2:
		hw |= hwcapAES | hwcapPMULL
	case a == 1:
		hw |= hwcapAES
	}
	if field(isar0, 8) >= 1 {
		hw |= hwcapSHA1
	}
	switch s := field(isar0, 12); {
	case s >= 2:
		hw |= hwcapSHA2 | hwcapSHA512
	case s == 1:
		hw |= hwcapSHA2
	}
	if field(isar0, 16) >= 1 {
		hw |= hwcapCRC32
	}
	if field(isar0, 20) >= 2 {
		hw |= hwcapATOMICS
	}
	if field(isar0, 28) >= 1 {
		hw |= hwcapASIMDRDM
	}
	if field(isar0, 32) >= 1 {
		hw |= hwcapSHA3
	}
	if field(isar0, 36) >= 1 {
		hw |= hwcapSM3
	}
	if field(isar0, 40) >= 1 {
		hw |= hwcapSM4
	}
	if field(isar0, 44) >= 1 {
		hw |= hwcapASIMDDP
	}
	if field(isar0, 48) >= 1 {
		hw |= hwcapASIMDFHM
	}
	switch ts := field(isar0, 52); {
	case ts >= 2:
		hw |= hwcapFLAGM
		hw2 |= hwcap2FLAGM2
	case ts == 1:
		hw |= hwcapFLAGM
	}
	if field(isar0, 60) >= 1 {
		hw2 |= hwcap2RNG
	}
	switch d := field(isar1, 0); {
	case d >= 2:
		hw |= hwcapDCPOP
		hw2 |= hwcap2DCPODP
	case d == 1:
		hw |= hwcapDCPOP
	}
	if field(isar1, 12) >= 1 {
		hw |= hwcapJSCVT
	}
	if field(isar1, 16) >= 1 {
		hw |= hwcapFCMA
	}
	switch l := field(isar1, 20); {
	case l >= 2:
		hw |= hwcapLRCPC | hwcapILRCPC
	case l == 1:
		hw |= hwcapLRCPC
	}
	if field(isar1, 32) >= 1 {
		hw2 |= hwcap2FRINT
	}
	if field(isar1, 36) >= 1 {
		hw |= hwcapSB
	}
	if field(isar1, 44) >= 1 {
		hw2 |= hwcap2BF16
	}
	if field(isar1, 48) >= 1 {
		hw2 |= hwcap2DGH
	}
	if field(isar1, 52) >= 1 {
		hw2 |= hwcap2I8MM
	}
	if field(mmfr2, 32) >= 1 {
		hw |= hwcapUSCAT
	}
	if field(pfr1, 4) >= 2 {
		hw |= hwcapSSBS
	}
	return hw, hw2
}

// aarch64StatfsT is struct statfs from include/uapi/asm-generic/statfs.h with
// 64-bit words (120 bytes); x86-64 uses the same layout.
type aarch64StatfsT struct {
	Type, Bsize, Blocks, Bfree, Bavail, Files, Ffree int64
	Fsid                                             [2]int32
	Namelen, Frsize, Flags                           int64
	Spare                                            [4]int64
}

func aarch64Statfs(st *unix.Statfs_t) ([]byte, error) {
	g := aarch64StatfsT{Type: st.Type, Bsize: st.Bsize, Blocks: int64(st.Blocks), Bfree: int64(st.Bfree),
		Bavail: int64(st.Bavail), Files: int64(st.Files), Ffree: int64(st.Ffree), Fsid: st.Fsid.Val,
		Namelen: st.Namelen, Frsize: st.Frsize, Flags: st.Flags}
	return AsBytes(&g), nil
}

// aarch64HWCapNames are the /proc/cpuinfo feature names of AT_HWCAP's and
// AT_HWCAP2's bits, in order (arch/arm64/kernel/cpuinfo.c).
var aarch64HWCapNames = []string{
	"fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32", "atomics", "fphp", "asimdhp",
	"cpuid", "asimdrdm", "jscvt", "fcma", "lrcpc", "dcpop", "sha3", "sm3", "sm4", "asimddp", "sha512",
	"sve", "asimdfhm", "dit", "uscat", "ilrcpc", "flagm", "ssbs", "sb", "paca", "pacg",
}

var aarch64HWCap2Names = []string{
	"dcpodp", "sve2", "sveaes", "svepmull", "svebitperm", "svesha3", "svesm4", "flagm2", "frint",
	"svei8mm", "svef32mm", "svef64mm", "svebf16", "i8mm", "bf16", "dgh", "rng", "bti", "mte",
}

// aarch64CPUInfo renders /proc/cpuinfo as arm64's c_show does, one block per
// host CPU, for the emulated CPU model.
func aarch64CPUInfo(p *Process) string {
	var feats []string
	for i, n := range aarch64HWCapNames {
		if p.HWCap&(1<<i) != 0 {
			feats = append(feats, n)
		}
	}
	for i, n := range aarch64HWCap2Names {
		if p.HWCap2&(1<<i) != 0 {
			feats = append(feats, n)
		}
	}
	midr := p.CPUID
	var b strings.Builder
	for cpu := 0; cpu < runtime.NumCPU(); cpu++ {
		fmt.Fprintf(&b, "processor\t: %d\n", cpu)
		fmt.Fprintf(&b, "BogoMIPS\t: %d.%02d\n", 125, 0)
		fmt.Fprintf(&b, "Features\t: %s\n", strings.Join(feats, " "))
		fmt.Fprintf(&b, "CPU implementer\t: 0x%02x\n", (midr>>24)&0xff)
		fmt.Fprintf(&b, "CPU architecture: 8\n")
		fmt.Fprintf(&b, "CPU variant\t: 0x%x\n", (midr>>20)&0xf)
		fmt.Fprintf(&b, "CPU part\t: 0x%03x\n", (midr>>4)&0xfff)
		fmt.Fprintf(&b, "CPU revision\t: %d\n\n", midr&0xf)
	}
	return b.String()
}
