// Package loader maps ELF programs into a guest address space and builds the
// initial stack (argv, envp, auxv) as Linux does. It knows nothing of system calls.
package loader

import (
	"encoding/binary"
	"fmt"
)

// ELF constants (elf.h).
const (
	etExec = 2
	etDyn  = 3

	ptLoad     = 1
	ptInterp   = 3
	ptPhdr     = 6
	ptGnuStack = 0x6474e551

	pfX = 1
	pfW = 2
	pfR = 4

	EMARM     = 40
	EMAArch64 = 183
	EMX86_64  = 62
	EM386     = 3
	EMRISCV   = 243
)

// Header is what xemu reads of an ELF file: the file header and program headers.
type Header struct {
	Class     int // 32 or 64
	Type      int // etExec, etDyn
	Machine   int
	Flags     uint32
	Entry     uint64
	PhOff     uint64
	PhEntSize int
	Progs     []Prog
}

// Prog is one program header.
type Prog struct {
	Type                 uint32
	Flags                uint32
	Off, Vaddr           uint64
	Filesz, Memsz, Align uint64
}

// FormatError says a file is not an ELF program xemu can load, and why.
type FormatError struct{ Why string }

func (e *FormatError) Error() string { return e.Why }

func bad(format string, a ...any) error { return &FormatError{fmt.Sprintf(format, a...)} }

// machineNames names machines for "wrong architecture" errors.
var machineNames = map[int]string{
	EMX86_64: "x86-64", EM386: "i386", EMRISCV: "RISC-V", 8: "MIPS", 20: "PowerPC",
	21: "PowerPC64", 22: "S/390", 2: "SPARC", 43: "SPARC64", 258: "LoongArch",
}

// MachineName is a readable name for an ELF machine number.
func MachineName(m int) string {
	switch m {
	case EMARM:
		return "ARM"
	case EMAArch64:
		return "AArch64"
	}
	if n, ok := machineNames[m]; ok {
		return n
	}
	return fmt.Sprintf("machine %d", m)
}

// ParseHeader parses the ELF file header and program headers from the start of
// a file (at least the first 64 bytes; program headers are read from buf when
// they are inside it, else from readAt).
func ParseHeader(buf []byte, readAt func(p []byte, off int64) (int, error)) (*Header, error) {
	if len(buf) < 4 || string(buf[:4]) != "\x7fELF" {
		return nil, bad("not an ELF file")
	}
	if len(buf) < 52 {
		return nil, bad("truncated ELF header")
	}
	h := &Header{}
	switch buf[4] {
	case 1:
		h.Class = 32
	case 2:
		h.Class = 64
	default:
		return nil, bad("bad ELF class %d", buf[4])
	}
	if buf[5] != 1 {
		return nil, bad("big-endian ELF; xemu runs little-endian ARM and AArch64 programs")
	}
	le := binary.LittleEndian
	h.Type = int(le.Uint16(buf[16:]))
	h.Machine = int(le.Uint16(buf[18:]))
	var phnum int
	if h.Class == 64 {
		if len(buf) < 64 {
			return nil, bad("truncated ELF header")
		}
		h.Entry = le.Uint64(buf[24:])
		h.PhOff = le.Uint64(buf[32:])
		h.Flags = le.Uint32(buf[48:])
		h.PhEntSize = int(le.Uint16(buf[54:]))
		phnum = int(le.Uint16(buf[56:]))
	} else {
		h.Entry = uint64(le.Uint32(buf[24:]))
		h.PhOff = uint64(le.Uint32(buf[28:]))
		h.Flags = le.Uint32(buf[36:])
		h.PhEntSize = int(le.Uint16(buf[42:]))
		phnum = int(le.Uint16(buf[44:]))
	}
	if h.Type != etExec && h.Type != etDyn {
		return nil, bad("ELF type %d is not an executable or shared object", h.Type)
	}
	want := 56
	if h.Class == 32 {
		want = 32
	}
	if phnum == 0 {
		return nil, bad("no program headers")
	}
	if h.PhEntSize != want {
		return nil, bad("program header size %d, want %d", h.PhEntSize, want)
	}
	// Linux refuses more than 64 KiB of program headers.
	if phnum*want > 65536 {
		return nil, bad("too many program headers (%d)", phnum)
	}
	ph := make([]byte, phnum*want)
	if h.PhOff > 1<<40 {
		return nil, bad("program headers outside the file")
	}
	if end := h.PhOff + uint64(len(ph)); end <= uint64(len(buf)) {
		copy(ph, buf[h.PhOff:end])
	} else if readAt == nil {
		return nil, bad("truncated program headers")
	} else if n, _ := readAt(ph, int64(h.PhOff)); n != len(ph) {
		return nil, bad("truncated program headers")
	}
	for i := 0; i < phnum; i++ {
		b := ph[i*want:]
		var p Prog
		if h.Class == 64 {
			p = Prog{Type: le.Uint32(b), Flags: le.Uint32(b[4:]), Off: le.Uint64(b[8:]), Vaddr: le.Uint64(b[16:]),
				Filesz: le.Uint64(b[32:]), Memsz: le.Uint64(b[40:]), Align: le.Uint64(b[48:])}
		} else {
			p = Prog{Type: le.Uint32(b), Off: uint64(le.Uint32(b[4:])), Vaddr: uint64(le.Uint32(b[8:])),
				Filesz: uint64(le.Uint32(b[16:])), Memsz: uint64(le.Uint32(b[20:])), Flags: le.Uint32(b[24:]), Align: uint64(le.Uint32(b[28:]))}
		}
		h.Progs = append(h.Progs, p)
	}
	return h, nil
}
