package binfmt

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"xemu/internal/testenv"
)

// The lines qemu's scripts/qemu-binfmt-conf.sh registers for aarch64 and
// arm (its magic and mask, our names and flags): the same files claimed.
const (
	qemuAArch64 = `:xemu-aarch64:M:0:\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/local/bin/xemu:PF`
	qemuARM     = `:xemu-arm:M:0:\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/local/bin/xemu:POCF`
)

func TestRegistrationLines(t *testing.T) {
	a, _ := FormatFor("aarch64")
	arm, _ := FormatFor("arm")
	if got := ForFormat("xemu-aarch64", a, "/usr/local/bin/xemu", "FP").Line(); got != qemuAArch64 {
		t.Errorf("aarch64:\n%s\nwant\n%s", got, qemuAArch64)
	}
	// C implies O, and flags come in the kernel's order.
	if got := ForFormat("xemu-arm", arm, "/usr/local/bin/xemu", "FPC").Line(); got != qemuARM {
		t.Errorf("arm:\n%s\nwant\n%s", got, qemuARM)
	}
	if got := (Registration{Name: "x", Extension: "exe", Interpreter: "/bin/wine"}).Line(); got != ":x:E::exe::/bin/wine:" {
		t.Errorf("extension: %s", got)
	}
}

// elfHead is the start of an ELF header: class, data, OS ABI, type, machine.
func elfHead(class, data, osabi byte, typ, machine uint16) []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4], b[5], b[6], b[7] = class, data, 1, osabi
	b[16], b[17] = byte(typ), byte(typ>>8)
	b[18], b[19] = byte(machine), byte(machine>>8)
	return b
}

func TestFormatMatches(t *testing.T) {
	a, _ := FormatFor("aarch64")
	arm, _ := FormatFor("arm")
	entry := func(f Format) *Entry {
		return &Entry{Name: f.Arch, Enabled: true, Interpreter: "/x", Magic: f.Magic, Mask: f.Mask}
	}
	cases := []struct {
		head       []byte
		aarch, arm bool
	}{
		{elfHead(2, 1, 0, 2, 183), true, false},  // ET_EXEC
		{elfHead(2, 1, 0, 3, 183), true, false},  // ET_DYN: PIE, ld.so
		{elfHead(2, 1, 3, 2, 183), true, false},  // ELFOSABI_GNU
		{elfHead(2, 1, 0, 1, 183), false, false}, // ET_REL: not a program
		{elfHead(2, 1, 0, 4, 183), false, false}, // ET_CORE
		{elfHead(2, 2, 0, 2, 183), false, false}, // big-endian
		{elfHead(1, 1, 0, 2, 183), false, false}, // wrong class
		{elfHead(1, 1, 0, 2, 40), false, true},
		{elfHead(1, 1, 0, 3, 40), false, true},
		{elfHead(2, 1, 0, 2, 62), false, false}, // x86-64
		{[]byte("#!/bin/sh\n"), false, false},
	}
	for i, c := range cases {
		if got := entry(a).Matches(c.head); got != c.aarch {
			t.Errorf("case %d: aarch64 matches %v", i, got)
		}
		if got := entry(arm).Matches(c.head); got != c.arm {
			t.Errorf("case %d: arm matches %v", i, got)
		}
	}
	if !entry(a).Claims(a) || entry(a).Claims(arm) || entry(arm).Claims(a) {
		t.Error("Claims")
	}
}

func TestParseEntry(t *testing.T) {
	// What Debian's qemu-user-static registers, as the kernel prints it.
	text := "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\n" +
		"magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n"
	e, err := ParseEntry("qemu-aarch64", text)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := FormatFor("aarch64")
	if !e.Enabled || e.Interpreter != "/usr/libexec/qemu-binfmt/aarch64-binfmt-P" || e.Flags != "POCF" ||
		!bytes.Equal(e.Magic, a.Magic) || !bytes.Equal(e.Mask, a.Mask) || !e.Claims(a) {
		t.Errorf("parsed %+v", e)
	}
	if got := e.Registration().Line(); got != `:qemu-aarch64:M:0:\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:POCF` {
		t.Errorf("re-registration %s", got)
	}
	// A magic without mask, and an extension entry.
	e, err = ParseEntry("m", "disabled\ninterpreter /bin/sh\nflags: \noffset 2\nmagic 4142\n")
	if err != nil || e.Enabled || e.Mask != nil || e.Offset != 2 || !e.Matches([]byte("xxAB")) || e.Matches([]byte("xxAC")) {
		t.Errorf("magic without mask: %+v %v", e, err)
	}
	e, err = ParseEntry("python3.11", "enabled\ninterpreter /usr/bin/python3.11\nflags: \nextension .pyc\n")
	if err != nil || e.Extension != ".pyc" || e.Matches([]byte(".pyc")) {
		t.Errorf("extension: %+v %v", e, err)
	}
	for _, bad := range []string{"", "maybe\ninterpreter /x\nmagic 00\n", "enabled\nmagic 00\n", "enabled\ninterpreter /x\n",
		"enabled\ninterpreter /x\nmagic zz\n", "enabled\ninterpreter /x\nmagic 0000\nmask ff\n"} {
		if _, err := ParseEntry("bad", bad); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

func TestWinner(t *testing.T) {
	a, _ := FormatFor("aarch64")
	old := &Entry{Name: "qemu-aarch64", Enabled: true, Magic: a.Magic, Mask: a.Mask, Inode: 10}
	newer := &Entry{Name: "xemu-aarch64", Enabled: true, Magic: a.Magic, Mask: a.Mask, Inode: 20}
	head := elfHead(2, 1, 0, 2, 183)
	if w := Winner([]*Entry{newer, old}, head); w != newer {
		t.Errorf("winner %v, want the one registered last", w)
	}
	newer.Enabled = false
	if w := Winner([]*Entry{newer, old}, head); w != old {
		t.Errorf("winner %v, want the enabled one", w)
	}
	old.Enabled = false
	if w := Winner([]*Entry{newer, old}, head); w != nil {
		t.Errorf("winner %v, want none", w)
	}
}

func TestValidate(t *testing.T) {
	a, _ := FormatFor("aarch64")
	good := ForFormat("xemu-aarch64", a, "/usr/bin/xemu", "FP")
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []func(*Registration){
		func(r *Registration) { r.Name = "a/b" },
		func(r *Registration) { r.Name = "register" },
		func(r *Registration) { r.Name = "" },
		func(r *Registration) { r.Interpreter = "/opt/a:b/xemu" },
		func(r *Registration) { r.Flags = "FX" },
		func(r *Registration) { r.Mask = r.Mask[:3] },
		func(r *Registration) { r.Offset = 120 },
	} {
		r := good
		mod(&r)
		if err := r.Validate(); err == nil {
			t.Errorf("%+v validates", r)
		}
	}
}

func FuzzParseEntry(f *testing.F) {
	f.Add("enabled\ninterpreter /x\nflags: PF\noffset 0\nmagic 7f454c46\nmask ffffffff\n")
	f.Add("disabled\ninterpreter /x\nflags: \nextension .exe\n")
	f.Fuzz(func(t *testing.T, text string) {
		e, err := ParseEntry("fuzz", text)
		if err == nil {
			e.Matches(make([]byte, 128))
			e.Registration().Line()
		}
	})
}

// TestKernelEntry registers an entry for a made-up magic with the real
// kernel and reads it back: the kernel's own text is what ParseEntry must
// read, and what it claims is what Line meant. Root only; no ARM magic, so
// it cannot change how anything else on the machine runs.
func TestKernelEntry(t *testing.T) {
	testenv.NeedRoot(t, "binfmt_misc registration")
	s := System{Dir: DefaultDir}
	if err := s.Mount(); err != nil {
		testenv.Unavailable(t, "binfmt_misc: %v", err)
	}
	name := fmt.Sprintf("xemu-test-%d-kernel", os.Getpid())
	magic := []byte(fmt.Sprintf("XEMU:%d\x00\xff", os.Getpid()))
	mask := bytes.Repeat([]byte{0xff}, len(magic))
	mask[1] = 0xdf // 'E' or 'e'
	r := Registration{Name: name, Offset: 3, Magic: magic, Mask: mask, Interpreter: "/bin/sh", Flags: "FCP"}
	if err := s.Register(r); err != nil {
		t.Fatal(err)
	}
	defer s.Remove(name)
	if err := s.Register(r); err == nil {
		t.Error("registered the same name twice")
	}
	e, err := s.Entry(name)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Enabled || e.Interpreter != "/bin/sh" || e.Flags != "POCF" || e.Offset != 3 || !bytes.Equal(e.Mask, mask) {
		t.Errorf("entry %+v", e)
	}
	head := append([]byte("abc"), magic...)
	if !e.Matches(head) {
		t.Error("does not match its magic")
	}
	head[4] = 'e'
	if !e.Matches(head) {
		t.Error("masked bit matters")
	}
	if err := s.SetEnabled(name, false); err != nil {
		t.Fatal(err)
	}
	if e, err := s.Entry(name); err != nil || e.Enabled {
		t.Errorf("after disabling: %+v %v", e, err)
	}
	all, err := s.Entries()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range all {
		found = found || e.Name == name && e.Inode != 0
	}
	if !found {
		t.Errorf("%s not among %d entries (or no inode)", name, len(all))
	}
	if err := s.Remove(name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Entry(name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after removing: %v", err)
	}
}

// TestProbesRebuild: the committed probe programs are what probe/gen.sh
// builds from their sources, and each is a program of its format.
func TestProbesRebuild(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command("probe/gen.sh", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("probe/gen.sh (needs binutils-aarch64-linux-gnu and binutils-arm-linux-gnueabihf; make deps): %v\n%s", err, out)
	}
	for _, f := range Formats {
		built, err := os.ReadFile(filepath.Join(dir, f.Arch+".elf"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(built, Probe(f.Arch)) {
			t.Errorf("probe/%s.elf differs from what probe/gen.sh builds from probe/%s.S: run probe/gen.sh", f.Arch, f.Arch)
		}
		e := &Entry{Enabled: true, Magic: f.Magic, Mask: f.Mask}
		if !e.Matches(Probe(f.Arch)) {
			t.Errorf("the %s probe is not claimed by its format's registration", f.Arch)
		}
	}
}
