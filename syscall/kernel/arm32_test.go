package kernel

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
	"xemu/internal/testenv"

	"golang.org/x/sys/unix"
)

// armLayout is one size or offset of an ARM EABI structure: what the Go
// layout has, and what the kernel's uapi header gives (the C expression is
// what arm-linux-gnueabihf-gcc evaluates to check the number).
type armLayout struct {
	c    string
	goV  uintptr
	want uintptr
}

func armLayouts() []armLayout {
	var st ArmStatT
	var st64 ArmStat64T
	var sfs ArmStatfsT
	var sfs64 ArmStatfs64T
	var fl ArmFlockT
	var fl64 ArmFlock64T
	var si ArmSysinfoT
	var ru ArmRusageT
	return []armLayout{
		// arch/arm/include/uapi/asm/stat.h
		{"sizeof(struct stat)", unsafe.Sizeof(st), 64},
		{"offsetof(struct stat, st_ino)", unsafe.Offsetof(st.Ino), 4},
		{"offsetof(struct stat, st_mode)", unsafe.Offsetof(st.Mode), 8},
		{"offsetof(struct stat, st_uid)", unsafe.Offsetof(st.UID), 12},
		{"offsetof(struct stat, st_rdev)", unsafe.Offsetof(st.Rdev), 16},
		{"offsetof(struct stat, st_size)", unsafe.Offsetof(st.Size), 20},
		{"offsetof(struct stat, st_blocks)", unsafe.Offsetof(st.Blocks), 28},
		{"offsetof(struct stat, st_atime)", unsafe.Offsetof(st.Atime), 32},
		{"offsetof(struct stat, st_ctime_nsec)", unsafe.Offsetof(st.CtimeNsec), 52},
		{"sizeof(struct stat64)", unsafe.Sizeof(st64), 104},
		{"offsetof(struct stat64, __st_ino)", unsafe.Offsetof(st64.Ino32), 12},
		{"offsetof(struct stat64, st_mode)", unsafe.Offsetof(st64.Mode), 16},
		{"offsetof(struct stat64, st_nlink)", unsafe.Offsetof(st64.Nlink), 20},
		{"offsetof(struct stat64, st_uid)", unsafe.Offsetof(st64.UID), 24},
		{"offsetof(struct stat64, st_gid)", unsafe.Offsetof(st64.GID), 28},
		{"offsetof(struct stat64, st_rdev)", unsafe.Offsetof(st64.Rdev), 32},
		{"offsetof(struct stat64, st_size)", unsafe.Offsetof(st64.Size), 48},
		{"offsetof(struct stat64, st_blksize)", unsafe.Offsetof(st64.Blksize), 56},
		{"offsetof(struct stat64, st_blocks)", unsafe.Offsetof(st64.Blocks), 64},
		{"offsetof(struct stat64, st_atime)", unsafe.Offsetof(st64.Atime), 72},
		{"offsetof(struct stat64, st_mtime)", unsafe.Offsetof(st64.Mtime), 80},
		{"offsetof(struct stat64, st_ctime_nsec)", unsafe.Offsetof(st64.CtimeNsec), 92},
		{"offsetof(struct stat64, st_ino)", unsafe.Offsetof(st64.Ino), 96},
		// include/uapi/asm-generic/statfs.h, packed by asm/statfs.h
		{"sizeof(struct statfs)", unsafe.Sizeof(sfs), 64},
		{"offsetof(struct statfs, f_fsid)", unsafe.Offsetof(sfs.Fsid), 28},
		{"offsetof(struct statfs, f_namelen)", unsafe.Offsetof(sfs.Namelen), 36},
		{"offsetof(struct statfs, f_spare)", unsafe.Offsetof(sfs.Spare), 48},
		{"sizeof(struct statfs64)", ArmStatfs64Size, 84},
		{"offsetof(struct statfs64, f_blocks)", unsafe.Offsetof(sfs64.Blocks), 8},
		{"offsetof(struct statfs64, f_ffree)", unsafe.Offsetof(sfs64.Ffree), 40},
		{"offsetof(struct statfs64, f_fsid)", unsafe.Offsetof(sfs64.Fsid), 48},
		{"offsetof(struct statfs64, f_namelen)", unsafe.Offsetof(sfs64.Namelen), 56},
		{"offsetof(struct statfs64, f_flags)", unsafe.Offsetof(sfs64.Flags), 64},
		{"offsetof(struct statfs64, f_spare) + sizeof(((struct statfs64 *)0)->f_spare)", unsafe.Offsetof(sfs64.Spare) + unsafe.Sizeof(sfs64.Spare), 84},
		// include/uapi/asm-generic/fcntl.h
		{"sizeof(struct flock)", unsafe.Sizeof(fl), 16},
		{"offsetof(struct flock, l_start)", unsafe.Offsetof(fl.Start), 4},
		{"offsetof(struct flock, l_len)", unsafe.Offsetof(fl.Len), 8},
		{"offsetof(struct flock, l_pid)", unsafe.Offsetof(fl.Pid), 12},
		{"sizeof(struct flock64)", unsafe.Sizeof(fl64), 32},
		{"offsetof(struct flock64, l_start)", unsafe.Offsetof(fl64.Start), 8},
		{"offsetof(struct flock64, l_len)", unsafe.Offsetof(fl64.Len), 16},
		{"offsetof(struct flock64, l_pid)", unsafe.Offsetof(fl64.Pid), 24},
		// include/uapi/linux/sysinfo.h
		{"sizeof(struct sysinfo)", unsafe.Sizeof(si), 64},
		{"offsetof(struct sysinfo, totalram)", unsafe.Offsetof(si.Totalram), 16},
		{"offsetof(struct sysinfo, procs)", unsafe.Offsetof(si.Procs), 40},
		{"offsetof(struct sysinfo, totalhigh)", unsafe.Offsetof(si.Totalhigh), 44},
		{"offsetof(struct sysinfo, mem_unit)", unsafe.Offsetof(si.MemUnit), 52},
		// include/uapi/linux/resource.h
		{"sizeof(struct rusage)", unsafe.Sizeof(ru), 72},
		{"offsetof(struct rusage, ru_stime)", unsafe.Offsetof(ru.Stime), 8},
		{"offsetof(struct rusage, ru_maxrss)", unsafe.Offsetof(ru.Counts), 16},
	}
}

// TestARMLayouts pins the ARM structures to the kernel's numbers.
func TestARMLayouts(t *testing.T) {
	for _, l := range armLayouts() {
		if l.goV != l.want {
			t.Errorf("%s: Go layout has %d, the kernel %d", l.c, l.goV, l.want)
		}
	}
}

// TestARMLayoutsFromHeaders checks the pinned numbers against the uapi
// headers the cross compiler installs: each expression is compiled for ARM
// EABI and read back from the assembly.
func TestARMLayoutsFromHeaders(t *testing.T) {
	cc, err := exec.LookPath("arm-linux-gnueabihf-gcc")
	if err != nil {
		testenv.Missing(t, "no arm-linux-gnueabihf-gcc")
	}
	ls := armLayouts()
	var src strings.Builder
	src.WriteString("#include <stddef.h>\n#include <asm/stat.h>\n#include <asm/statfs.h>\n#include <asm/fcntl.h>\n#include <linux/sysinfo.h>\n#include <linux/resource.h>\nunsigned int v[] = {\n")
	for _, l := range ls {
		src.WriteString("\t" + l.c + ",\n")
	}
	src.WriteString("};\n")
	dir := t.TempDir()
	c := filepath.Join(dir, "l.c")
	if err := os.WriteFile(c, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cc, "-S", "-o", "-", c).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cc, err, out)
	}
	var vals []uintptr
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == ".word" {
			v, err := strconv.ParseUint(f[1], 0, 32)
			if err != nil {
				t.Fatalf("assembly line %q", sc.Text())
			}
			vals = append(vals, uintptr(v))
		}
	}
	if len(vals) != len(ls) {
		t.Fatalf("read %d values from the assembly, want %d", len(vals), len(ls))
	}
	for i, l := range ls {
		if vals[i] != l.want {
			t.Errorf("%s: the headers say %d, the test %d", l.c, vals[i], l.want)
		}
	}
}

// TestARMHWCaps derives the hwcaps from a Cortex-A15's ID registers (QEMU's
// cortex_a15_initfn values) and from variations of them.
func TestARMHWCaps(t *testing.T) {
	a15 := ArmIDRegs{MIDR: 0x412fc0f1, MMFR0: 0x10201105, ISAR0: 0x02101110, ISAR3: 0x11112131, ISAR4: 0x10011142,
		FPSID: 0x410430f0, MVFR0: 0x10110222, MVFR1: 0x11111111}
	hw, hw2 := a15.Hwcaps()
	// half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae
	if want := uint64(0x1fb0d6); hw != want || hw2 != 0 {
		t.Errorf("Cortex-A15: hwcap %#x hwcap2 %#x, want %#x 0", hw, hw2, want)
	}
	d16 := a15
	d16.MVFR0 = 0x10110221
	if hw, _ := d16.Hwcaps(); hw&ArmHWCapVFPv3D16 == 0 || hw&ArmHWCapVFPD32 != 0 {
		t.Errorf("16 D registers: hwcap %#x", hw)
	}
	v8 := a15
	v8.ISAR5 = 0x00011121 // AES+PMULL, SHA1, SHA2, CRC32
	if _, hw2 := v8.Hwcaps(); hw2 != ArmHWCap2AES|ArmHWCap2PMULL|ArmHWCap2SHA1|ArmHWCap2SHA2|ArmHWCap2CRC32 {
		t.Errorf("ARMv8 crypto: hwcap2 %#x", hw2)
	}
	noSync := a15
	noSync.ISAR3 = 0x11110131 // no LDREX/STREX: SWP stays
	if hw, _ := noSync.Hwcaps(); hw&ArmHWCapSWP == 0 {
		t.Errorf("without LDREX, SWP should be named: %#x", hw)
	}
}

// TestARMStatOverflow: the old struct stat refuses what it cannot hold.
func TestARMStatOverflow(t *testing.T) {
	ok := unix.Stat_t{Dev: unix.Mkdev(8, 1), Ino: 12, Size: 0x7fffffff, Nlink: 1, Uid: 70000}
	b, err := ArmStat(&ok)
	if err != nil || len(b) != 64 {
		t.Fatalf("armStat: %v", err)
	}
	if uid := uint16(b[12]) | uint16(b[13])<<8; uid != OverflowID {
		t.Errorf("uid 70000 reads %d, want the overflow id", uid)
	}
	if dev := uint32(b[0]) | uint32(b[1])<<8; dev != 8<<8|1 {
		t.Errorf("st_dev %#x, want the old encoding 0x801", dev)
	}
	for _, st := range []unix.Stat_t{
		{Size: 0x80000000}, {Ino: 1 << 32}, {Dev: unix.Mkdev(8, 256)}, {Rdev: unix.Mkdev(300, 1)},
	} {
		if _, err := ArmStat(&st); err != unix.EOVERFLOW {
			t.Errorf("%+v: %v, want EOVERFLOW", st, err)
		}
	}
	big := unix.Statfs_t{Blocks: 1 << 32, Files: ^uint64(0), Ffree: ^uint64(0)}
	if _, err := ArmStatfs(&big); err != unix.EOVERFLOW {
		t.Errorf("statfs with 2^32 blocks: %v", err)
	}
	unknown := unix.Statfs_t{Blocks: 10, Files: ^uint64(0), Ffree: ^uint64(0)}
	if _, err := ArmStatfs(&unknown); err != nil {
		t.Errorf("statfs with f_files -1: %v", err)
	}
	if _, err := ArmStatfs64(80, &unknown); err != unix.EINVAL {
		t.Errorf("statfs64 size 80: %v", err)
	}
	if b, err := ArmStatfs64(88, &unknown); err != nil || len(b) != 84 {
		t.Errorf("statfs64 size 88: %d bytes, %v", len(b), err)
	}
}

// TestARMSysinfoScaling: memory past 4 GiB is counted in pages.
func TestARMSysinfoScaling(t *testing.T) {
	si := unix.Sysinfo_t{Totalram: 16 << 30, Freeram: 8 << 30, Unit: 1}
	b := ArmSysinfo(&si)
	total := uint32(b[16]) | uint32(b[17])<<8 | uint32(b[18])<<16 | uint32(b[19])<<24
	unit := uint32(b[52]) | uint32(b[53])<<8 | uint32(b[54])<<16 | uint32(b[55])<<24
	if uint64(total)*uint64(unit) != 16<<30 || unit != 4096 {
		t.Errorf("16 GiB: totalram %d unit %d", total, unit)
	}
	small := unix.Sysinfo_t{Totalram: 1 << 30, Unit: 1}
	b = ArmSysinfo(&small)
	if unit := b[52]; unit != 1 {
		t.Errorf("1 GiB: unit %d, want 1", unit)
	}
}

// TestARMDecode: EABI register pairs and preadv's unaligned halves.
func TestARMDecode(t *testing.T) {
	abi, err := ForMachine(40)
	if err != nil {
		t.Fatal(err)
	}
	var a Args
	// pread64(fd, buf, count, [pad], lo, hi)
	abi.Decode(&[7]uint64{3, 0x1000, 8, 0xdead, 0x00000003, 0x1, 0}, Kinds(KFD, KPtr, KULong, KOff64), &a)
	if a[3] != 0x100000003 {
		t.Errorf("pread64 offset %#x", a[3])
	}
	// preadv(fd, iov, n, lo, hi): no alignment, two slots as on 64-bit.
	abi.Decode(&[7]uint64{3, 0x1000, 2, 0x5, 0x2, 0}, Kinds(KFD, KPtr, KInt, KOffLo, KOffHi), &a)
	if a[3] != 0x200000005 {
		t.Errorf("preadv offset %#x", a[3])
	}
	// arm_fadvise64_64(fd, advice, off, len): pairs from r2 and r4.
	abi.Decode(&[7]uint64{3, 4, 0x10, 0x1, 0x20, 0x2, 0}, Kinds(KFD, KInt, KOff64, KOff64), &a)
	if a[2] != 0x100000010 || a[3] != 0x200000020 {
		t.Errorf("fadvise offsets %#x %#x", a[2], a[3])
	}
	// A long is sign-extended from 32 bits.
	abi.Decode(&[7]uint64{3, 0xfffffffe, 1}, Kinds(KFD, KLong, KInt), &a)
	if a.I64(1) != -2 {
		t.Errorf("lseek offset %d", a.I64(1))
	}
}
