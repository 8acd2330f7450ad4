// Package binfmt knows Linux's binfmt_misc (Documentation/admin-guide/
// binfmt-misc.rst, fs/binfmt_misc.c): the registration lines that make the
// kernel hand ARM and AArch64 programs to xemu, and the entries it lists
// under /proc/sys/fs/binfmt_misc. Pure functions here; system.go touches the
// file system.
package binfmt

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Format is a kind of program a registration claims: ELF files of one
// class and machine, executables and shared objects (PIEs) alike.
type Format struct {
	Arch    string // the name xemu's options use: "aarch64", "arm"
	Class   int    // 32 or 64
	Machine int    // e_machine
	Magic   []byte // the first bytes of such an ELF file...
	Mask    []byte // ...and which bits of them must match
}

// elfMagic is the ELF header up to e_machine for a little-endian file of a
// class and machine, and the mask every such registration uses (the one
// qemu's scripts/qemu-binfmt-conf.sh uses too): e_ident's magic, class,
// data and version must match, EI_OSABI is free (GNU/Linux programs say 0
// or 3), ABI version and padding are 0, e_type is 2 (ET_EXEC) or 3
// (ET_DYN: PIEs and the dynamic loader) as its low bit is masked, and
// e_machine must match.
func elfMagic(class, machine int) (magic, mask []byte) {
	magic = []byte{0x7f, 'E', 'L', 'F', byte(class / 32), 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 0, byte(machine), byte(machine >> 8)}
	mask = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xfe, 0xff, 0xff, 0xff}
	return magic, mask
}

// Formats are what xemu registers for, in the order it does.
var Formats = []Format{
	newFormat("aarch64", 64, 183), // EM_AARCH64
	newFormat("arm", 32, 40),      // EM_ARM
}

func newFormat(arch string, class, machine int) Format {
	magic, mask := elfMagic(class, machine)
	return Format{Arch: arch, Class: class, Machine: machine, Magic: magic, Mask: mask}
}

// FormatFor finds a format by its architecture name.
func FormatFor(arch string) (Format, bool) {
	for _, f := range Formats {
		if f.Arch == arch {
			return f, true
		}
	}
	return Format{}, false
}

// Name is the architecture's usual name: "AArch64", "ARM".
func (f Format) Name() string {
	return map[string]string{"aarch64": "AArch64", "arm": "ARM"}[f.Arch]
}

// Describe names the format's files: "ELF64 little-endian AArch64 (e_machine 183)".
func (f Format) Describe() string {
	return fmt.Sprintf("ELF%d little-endian %s (e_machine %d)", f.Class, f.Name(), f.Machine)
}

// Samples are the starts of ELF files of the format a handler must claim:
// executables and shared objects, with EI_OSABI 0 (SYSV) and 3 (GNU).
func (f Format) Samples() [][]byte {
	var out [][]byte
	for _, osabi := range []byte{0, 3} {
		for _, typ := range []byte{2, 3} {
			b := bytes.Clone(f.Magic)
			b[7], b[16] = osabi, typ
			out = append(out, b)
		}
	}
	return out
}

// Flags of a registration (binfmt-misc.rst), as the kernel prints them.
const (
	// FlagPreserveArgv0 (P): the interpreter gets the original argv[0]
	// after the program's path; since Linux 5.12 it says so with
	// AT_FLAGS_PRESERVE_ARGV0 in its own AT_FLAGS.
	FlagPreserveArgv0 = 'P'
	// FlagOpenBinary (O): the kernel opens the program and passes the
	// descriptor in AT_EXECFD, so programs that are executable but not
	// readable run.
	FlagOpenBinary = 'O'
	// FlagCredentials (C): credentials (setuid, setgid, capabilities) come
	// from the program, not the interpreter. Implies O.
	FlagCredentials = 'C'
	// FlagFixBinary (F): the kernel opens the interpreter when the entry
	// is registered, so it works in chroots and mount namespaces that do
	// not contain it.
	FlagFixBinary = 'F'
)

// flagOrder is the order fs/binfmt_misc.c prints flags in.
const flagOrder = "POCF"

// NormalFlags puts flags in the kernel's order, adding O when C is given as
// the kernel does.
func NormalFlags(flags string) string {
	if strings.ContainsRune(flags, FlagCredentials) && !strings.ContainsRune(flags, FlagOpenBinary) {
		flags += string(FlagOpenBinary)
	}
	var b strings.Builder
	for _, c := range flagOrder {
		if strings.ContainsRune(flags, c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Registration is one line written to binfmt_misc's register file.
type Registration struct {
	Name        string
	Offset      int
	Magic, Mask []byte // nil Mask: every bit matches
	Extension   string // instead of Magic: an "E" registration by file name extension
	Interpreter string
	Flags       string
}

// ForFormat is the registration of interpreter for f.
func ForFormat(name string, f Format, interpreter, flags string) Registration {
	return Registration{Name: name, Magic: f.Magic, Mask: f.Mask, Interpreter: interpreter, Flags: flags}
}

// Validate checks what the kernel would refuse with EINVAL, so a user gets
// a reason instead.
func (r Registration) Validate() error {
	switch {
	case r.Name == "" || r.Name == "." || r.Name == ".." || r.Name == "register" || r.Name == "status":
		return fmt.Errorf("entry name %q is not allowed", r.Name)
	case strings.ContainsAny(r.Name, "/:\n"):
		return fmt.Errorf("entry name %q contains '/', ':' or a newline", r.Name)
	case len(r.Name) > 255:
		return fmt.Errorf("entry name is longer than 255 bytes")
	case r.Interpreter == "":
		return fmt.Errorf("no interpreter")
	case strings.ContainsAny(r.Interpreter, ":\n"):
		return fmt.Errorf("interpreter path %q contains ':' or a newline, which binfmt_misc cannot register", r.Interpreter)
	case r.Extension == "" && len(r.Magic) == 0:
		return fmt.Errorf("no magic")
	case r.Mask != nil && len(r.Mask) != len(r.Magic):
		return fmt.Errorf("mask of %d bytes for a magic of %d", len(r.Mask), len(r.Magic))
	case r.Offset+len(r.Magic) > 128: // BINPRM_BUF_SIZE 256, but the docs promise 128
		return fmt.Errorf("magic ends past byte 128")
	}
	for _, c := range r.Flags {
		if !strings.ContainsRune(flagOrder, c) {
			return fmt.Errorf("unknown flag %q", c)
		}
	}
	return nil
}

// Line is the registration as written to the register file:
// :name:type:offset:magic:mask:interpreter:flags, with every magic and mask
// byte escaped as \xHH so that none of them reads as a field separator.
func (r Registration) Line() string {
	typ, off, magic, mask := "M", strconv.Itoa(r.Offset), escape(r.Magic), escape(r.Mask)
	if r.Extension != "" {
		typ, off, magic, mask = "E", "", r.Extension, ""
	}
	return fmt.Sprintf(":%s:%s:%s:%s:%s:%s:%s", r.Name, typ, off, magic, mask, r.Interpreter, NormalFlags(r.Flags))
}

func escape(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, `\x%02x`, c)
	}
	return s.String()
}

// Entry is one registered handler as /proc/sys/fs/binfmt_misc/NAME shows it.
type Entry struct {
	Name        string
	Enabled     bool
	Interpreter string
	Flags       string
	Offset      int
	Magic, Mask []byte // Mask nil: all bits
	Extension   string // set for an extension entry, which has no magic
	// Inode of the entry's file: the kernel numbers entries as it creates
	// them, so a higher inode was (almost always) registered later.
	Inode uint64
}

// ParseEntry parses the text of an entry's file (bm_entry_read):
//
//	enabled
//	interpreter /usr/bin/qemu-aarch64-static
//	flags: POCF
//	offset 0
//	magic 7f454c46...
//	mask ffffffff...
//
// or "extension .ext" instead of offset, magic and mask.
func ParseEntry(name, text string) (*Entry, error) {
	e := &Entry{Name: name}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) == 0 {
		return nil, fmt.Errorf("binfmt_misc entry %s: empty", name)
	}
	switch lines[0] {
	case "enabled":
		e.Enabled = true
	case "disabled":
	default:
		return nil, fmt.Errorf("binfmt_misc entry %s: first line %q is neither enabled nor disabled", name, lines[0])
	}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		key, val, _ := strings.Cut(l, " ")
		var err error
		switch key {
		case "interpreter":
			e.Interpreter = val
		case "flags:":
			e.Flags = val
		case "offset":
			e.Offset, err = strconv.Atoi(val)
		case "magic":
			e.Magic, err = hex.DecodeString(val)
		case "mask":
			e.Mask, err = hex.DecodeString(val)
		case "extension":
			e.Extension = val
		default:
			continue // lines a newer kernel may add
		}
		if err != nil {
			return nil, fmt.Errorf("binfmt_misc entry %s: %s: %v", name, key, err)
		}
		seen[key] = true
	}
	if !seen["interpreter"] {
		return nil, fmt.Errorf("binfmt_misc entry %s: no interpreter", name)
	}
	if e.Extension == "" && len(e.Magic) == 0 {
		return nil, fmt.Errorf("binfmt_misc entry %s: neither magic nor extension", name)
	}
	if e.Mask != nil && len(e.Mask) != len(e.Magic) {
		return nil, fmt.Errorf("binfmt_misc entry %s: mask of %d bytes for a magic of %d", name, len(e.Mask), len(e.Magic))
	}
	return e, nil
}

// Matches reports whether the entry claims a file that starts with head, as
// check_file in fs/binfmt_misc.c decides it for magic entries (enabled or
// not).
func (e *Entry) Matches(head []byte) bool {
	if e.Extension != "" || e.Offset < 0 || e.Offset+len(e.Magic) > len(head) {
		return false
	}
	s := head[e.Offset:]
	for j, m := range e.Magic {
		mask := byte(0xff)
		if e.Mask != nil {
			mask = e.Mask[j]
		}
		if (s[j]^m)&mask != 0 {
			return false
		}
	}
	return true
}

// Claims reports whether the entry claims some programs of format f.
func (e *Entry) Claims(f Format) bool {
	for _, s := range f.Samples() {
		if e.Matches(s) {
			return true
		}
	}
	return false
}

// Registration is the line that registers the entry again as it is.
func (e *Entry) Registration() Registration {
	return Registration{Name: e.Name, Offset: e.Offset, Magic: e.Magic, Mask: e.Mask, Extension: e.Extension,
		Interpreter: e.Interpreter, Flags: e.Flags}
}

// Winner is the entry the kernel hands a file starting with head to, or nil:
// the enabled matching entry registered last, as the kernel adds entries
// at the head of its list and takes the first that matches. The
// registration order is judged by inode number.
func Winner(entries []*Entry, head []byte) *Entry {
	var w *Entry
	for _, e := range entries {
		if e.Enabled && e.Matches(head) && (w == nil || e.Inode > w.Inode) {
			w = e
		}
	}
	return w
}
