package loader

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// ARMABI is what a 32-bit ARM ELF says of the code in it: the EABI version
// and float ABI from e_flags, the architecture level and floating-point
// unit from its "aeabi" build attributes (.ARM.attributes; ARM IHI 0045,
// "Addenda to the ARM ABI", section 2).
type ARMABI struct {
	EABIVersion int    // EF_ARM_EABIMASK >> 24; 0: not an EABI program
	Float       string // "hard", "soft" or "" when the file does not say
	Arch        string // Tag_CPU_arch: "ARMv7", "ARMv5TE", ...; "" when absent
	Profile     byte   // Tag_CPU_arch_profile: 'A', 'R', 'M', 'S' or 0
	FPU         string // Tag_FP_arch: "VFPv3-D16", ...; "" when absent or none
}

// e_flags of ARM ELF files (linux include/uapi/linux/elf-em.h has none of
// them; binutils include/elf/arm.h).
const (
	efARMEABIMask  = 0xff000000
	efARMFloatSoft = 0x200 // EF_ARM_ABI_FLOAT_SOFT (EABI v5), EF_ARM_SOFT_FLOAT before
	efARMFloatHard = 0x400 // EF_ARM_ABI_FLOAT_HARD (EABI v5), EF_ARM_VFP_FLOAT before
)

// shtARMAttributes is SHT_ARM_ATTRIBUTES (ELF for the ARM Architecture, 5.3.3).
const shtARMAttributes = 0x70000003

// Build attribute tags (ARM IHI 0045, 2.5) that xemu reports.
const (
	tagFile          = 1
	tagCPURawName    = 4
	tagCPUName       = 5
	tagCPUArch       = 6
	tagCPUArchProf   = 7
	tagFPArch        = 10
	tagABIVFPArgs    = 28
	tagCompatibility = 32
	tagAlsoCompat    = 65
	tagConformance   = 67
)

// cpuArchNames are Tag_CPU_arch's values (binutils include/elf/arm.h
// TAG_CPU_ARCH_*).
var cpuArchNames = map[uint64]string{
	0: "pre-ARMv4", 1: "ARMv4", 2: "ARMv4T", 3: "ARMv5T", 4: "ARMv5TE", 5: "ARMv5TEJ",
	6: "ARMv6", 7: "ARMv6KZ", 8: "ARMv6T2", 9: "ARMv6K", 10: "ARMv7", 11: "ARMv6-M",
	12: "ARMv6S-M", 13: "ARMv7E-M", 14: "ARMv8", 15: "ARMv8-R", 16: "ARMv8-M.baseline",
	17: "ARMv8-M.mainline", 21: "ARMv8.1-M.mainline", 22: "ARMv9",
}

// fpArchNames are Tag_FP_arch's values.
var fpArchNames = map[uint64]string{
	1: "VFPv1", 2: "VFPv2", 3: "VFPv3", 4: "VFPv3-D16", 5: "VFPv4", 6: "VFPv4-D16",
	7: "FP-ARMv8", 8: "FP-ARMv8-D16",
}

// ReadARMABI reads an ARM ELF's ABI: e_flags from h, the attributes from
// the section headers of the file r. A file without attributes, or with
// ones it cannot parse, gives what e_flags say.
func ReadARMABI(r io.ReaderAt, h *Header) ARMABI {
	a := ARMABI{EABIVersion: int(h.Flags&efARMEABIMask) >> 24}
	switch {
	case h.Flags&efARMFloatHard != 0:
		a.Float = "hard"
	case h.Flags&efARMFloatSoft != 0:
		a.Float = "soft"
	}
	if b, ok := sectionOfType(r, h, shtARMAttributes, 1<<20); ok {
		a.parseAttributes(b)
	}
	return a
}

// sectionOfType reads the contents of the file's first section of type typ
// (from its section headers, elf.h Elf32_Shdr/Elf64_Shdr), if that section is
// at most max bytes. Not debug/elf: its package brings compress/zlib, zstd
// and DWARF's initialisation into every start of xemu, for this one lookup.
func sectionOfType(r io.ReaderAt, h *Header, typ uint32, max uint64) ([]byte, bool) {
	le := binary.LittleEndian
	var eh [64]byte
	if _, err := r.ReadAt(eh[:52], 0); err != nil {
		return nil, false
	}
	var shoff uint64
	var shentsize, shnum, shstrndx int
	want := 40
	if h.Class == 64 {
		if _, err := r.ReadAt(eh[52:], 52); err != nil {
			return nil, false
		}
		shoff = le.Uint64(eh[40:])
		shentsize, shnum, shstrndx = int(le.Uint16(eh[58:])), int(le.Uint16(eh[60:])), int(le.Uint16(eh[62:]))
		want = 64
	} else {
		shoff = uint64(le.Uint32(eh[32:]))
		shentsize, shnum, shstrndx = int(le.Uint16(eh[46:])), int(le.Uint16(eh[48:])), int(le.Uint16(eh[50:]))
	}
	if shoff == 0 || shentsize != want || shoff > 1<<40 {
		return nil, false
	}
	sh := make([]byte, want)
	read := func(i int) (uint32, uint64, uint64, bool) {
		if _, err := r.ReadAt(sh, int64(shoff)+int64(i*want)); err != nil {
			return 0, 0, 0, false
		}
		if want == 64 {
			return le.Uint32(sh[4:]), le.Uint64(sh[24:]), le.Uint64(sh[32:]), true
		}
		return le.Uint32(sh[4:]), uint64(le.Uint32(sh[16:])), uint64(le.Uint32(sh[20:])), true
	}
	// More sections than e_shnum holds: the count is section 0's sh_size.
	if shnum == 0 {
		_, _, n, ok := read(0)
		if !ok || n > 1<<20 {
			return nil, false
		}
		shnum = int(n)
	}
	if shstrndx >= shnum && shstrndx != 0xffff {
		return nil, false
	}
	for i := 0; i < shnum; i++ {
		t, off, size, ok := read(i)
		if !ok {
			return nil, false
		}
		if t != typ || size > max {
			continue
		}
		if off > 1<<40 {
			return nil, false
		}
		b := make([]byte, size)
		if _, err := r.ReadAt(b, int64(off)); err != nil {
			return nil, false
		}
		return b, true
	}
	return nil, false
}

// parseAttributes reads the file-scope "aeabi" attributes of an
// .ARM.attributes section: 'A', then vendor subsections (uint32 length,
// vendor name), each of tagged sub-subsections (uleb128 tag, uint32 length).
func (a *ARMABI) parseAttributes(b []byte) {
	if len(b) == 0 || b[0] != 'A' {
		return
	}
	b = b[1:]
	for len(b) >= 4 {
		n := binary.LittleEndian.Uint32(b)
		if n < 4 || uint64(n) > uint64(len(b)) {
			return
		}
		sub := b[4:n]
		b = b[n:]
		vendor, rest, ok := bytes.Cut(sub, []byte{0})
		if !ok || string(vendor) != "aeabi" {
			continue
		}
		for len(rest) > 0 {
			tag, k := uleb(rest)
			if k == 0 || len(rest) < k+4 {
				return
			}
			size := binary.LittleEndian.Uint32(rest[k:])
			if uint64(size) < uint64(k+4) || uint64(size) > uint64(len(rest)) {
				return
			}
			if tag == tagFile {
				a.fileAttributes(rest[k+4 : size])
			}
			rest = rest[size:]
		}
	}
}

func (a *ARMABI) fileAttributes(b []byte) {
	var vfpArgs uint64 = ^uint64(0)
	for len(b) > 0 {
		tag, k := uleb(b)
		if k == 0 {
			return
		}
		b = b[k:]
		var val uint64
		switch {
		case tag == tagCPURawName || tag == tagCPUName || tag == tagConformance || tag == tagAlsoCompat:
			k = skipString(b)
		case tag == tagCompatibility:
			_, k = uleb(b)
			if k > 0 {
				k += skipString(b[k:])
			}
		case tag < 32 || tag%2 == 0:
			val, k = uleb(b)
		default:
			k = skipString(b)
		}
		if k == 0 {
			return
		}
		b = b[k:]
		switch tag {
		case tagCPUArch:
			if n, ok := cpuArchNames[val]; ok {
				a.Arch = n
			} else {
				a.Arch = fmt.Sprintf("architecture tag %d", val)
			}
		case tagCPUArchProf:
			if val == 'A' || val == 'R' || val == 'M' || val == 'S' {
				a.Profile = byte(val)
			}
		case tagFPArch:
			a.FPU = fpArchNames[val]
		case tagABIVFPArgs:
			vfpArgs = val
		}
	}
	// Tag_ABI_VFP_args: 0 base (soft-float) calling convention, 1 VFP
	// registers; e_flags take precedence when they say.
	if a.Float == "" {
		switch vfpArgs {
		case 0:
			a.Float = "soft"
		case 1:
			a.Float = "hard"
		}
	}
}

// uleb decodes an unsigned LEB128 number; k is 0 if b holds none.
func uleb(b []byte) (v uint64, k int) {
	for i, c := range b {
		if i == 10 {
			return 0, 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// skipString is the length of a NUL-terminated string with its NUL, or 0.
func skipString(b []byte) int {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return i + 1
	}
	return 0
}

// String describes the ABI in a few words: "EABI5, hard-float, ARMv7-A, VFPv3-D16".
func (a ARMABI) String() string {
	var parts []string
	if a.EABIVersion > 0 {
		parts = append(parts, fmt.Sprintf("EABI%d", a.EABIVersion))
	} else {
		parts = append(parts, "not EABI (old ABI)")
	}
	switch a.Float {
	case "hard":
		parts = append(parts, "hard-float (armhf)")
	case "soft":
		parts = append(parts, "soft-float (armel)")
	default:
		parts = append(parts, "float ABI not stated")
	}
	if a.Arch != "" {
		arch := a.Arch
		if a.Profile != 0 && a.Profile != 'S' {
			arch += "-" + string(a.Profile)
		}
		parts = append(parts, arch)
	}
	if a.FPU != "" {
		parts = append(parts, a.FPU)
	}
	out := parts[0]
	for _, p := range parts[1:] {
		out += ", " + p
	}
	return out
}
