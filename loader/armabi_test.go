package loader

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"
)

// aeabiFile builds an .ARM.attributes section holding one file-scope
// "aeabi" sub-subsection with the given attribute bytes.
func aeabiFile(attrs ...byte) []byte {
	fileSub := append([]byte{tagFile, 0, 0, 0, 0}, attrs...)
	fileSub[1] = byte(len(fileSub))
	vendor := append([]byte{0, 0, 0, 0}, "aeabi\x00"...)
	vendor = append(vendor, fileSub...)
	vendor[0] = byte(len(vendor))
	return append([]byte{'A'}, vendor...)
}

func TestARMAttributes(t *testing.T) {
	cases := []struct {
		name  string
		flags uint32
		attrs []byte
		want  string
	}{
		// What arm-linux-gnueabihf-gcc writes: Tag_CPU_name "7-A",
		// Tag_CPU_arch v7, profile A, Tag_FP_arch VFPv3-D16, Tag_ABI_VFP_args 1.
		{"armhf", 0x05000400, []byte{tagCPUName, '7', '-', 'A', 0, tagCPUArch, 10, tagCPUArchProf, 'A',
			tagFPArch, 4, tagABIVFPArgs, 1}, "EABI5, hard-float (armhf), ARMv7-A, VFPv3-D16"},
		// arm-linux-gnueabi-gcc: ARMv5TE, no FPU, soft float in e_flags;
		// Tag_compatibility (uleb + string) and an unknown odd tag
		// (a string) are skipped.
		{"armel", 0x05000200, []byte{tagCPUName, '5', 'T', 'E', 0, tagCPUArch, 4, tagCompatibility, 1, 'x', 0,
			69, 'z', 0}, "EABI5, soft-float (armel), ARMv5TE"},
		// No e_flags float bits: Tag_ABI_VFP_args decides.
		{"vfp args", 0x05000000, []byte{tagABIVFPArgs, 1}, "EABI5, hard-float (armhf)"},
		{"old ABI", 0, nil, "not EABI (old ABI), float ABI not stated"},
		// A value that runs off the end stops parsing, keeping what was read.
		{"truncated", 0x05000400, []byte{tagCPUArch, 10, tagCPUName, 'x'}, "EABI5, hard-float (armhf), ARMv7"},
	}
	for _, c := range cases {
		a := ARMABI{EABIVersion: int(c.flags>>24) & 0xff}
		switch {
		case c.flags&efARMFloatHard != 0:
			a.Float = "hard"
		case c.flags&efARMFloatSoft != 0:
			a.Float = "soft"
		}
		a.parseAttributes(aeabiFile(c.attrs...))
		if got := a.String(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func FuzzARMAttributes(f *testing.F) {
	f.Add(aeabiFile(tagCPUArch, 10, tagABIVFPArgs, 1))
	f.Add([]byte("A\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a ARMABI
		a.parseAttributes(b)
		_ = a.String()
	})
}

// sectionOfType finds the same .ARM.attributes section as debug/elf does, in
// the cross toolchains' ARM and AArch64 libraries and objects.
func TestSectionOfTypeMatchesDebugELF(t *testing.T) {
	var files []string
	for _, dir := range []string{"/usr/arm-linux-gnueabihf/lib", "/usr/arm-linux-gnueabi/lib", "/usr/aarch64-linux-gnu/lib"} {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		files = append(files, m...)
	}
	checked := 0
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil || len(b) < 64 || string(b[:4]) != "\x7fELF" {
			continue
		}
		h := &Header{Class: 32}
		if b[4] == 2 {
			h.Class = 64
		}
		var want []byte
		wantOK := false
		if f, err := elf.NewFile(bytes.NewReader(b)); err == nil {
			for _, s := range f.Sections {
				if s.Type != shtARMAttributes || s.Size > 1<<20 {
					continue
				}
				want, err = s.Data()
				wantOK = err == nil
				break
			}
		}
		got, ok := sectionOfType(bytes.NewReader(b), h, shtARMAttributes, 1<<20)
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Errorf("%s: found %v (%d bytes), debug/elf %v (%d bytes)", name, ok, len(got), wantOK, len(want))
		}
		checked++
	}
	if checked == 0 {
		t.Skip("no cross toolchain libraries")
	}
	t.Logf("%d files", checked)
}
