package loader

import (
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// Target is what the loader must know of the guest architecture.
type Target struct {
	Machine   int // EMAArch64 or EMARM
	Class     int // 64 or 32
	DynBase   uint64
	StackTop  uint64
	StackSize uint64
	Platform  string
	HWCap     uint64
	HWCap2    uint64
	// CPUID identifies the emulated CPU (MIDR) for /proc/cpuinfo.
	CPUID uint64
	// MinSigStkSz, if non-zero, is passed as AT_MINSIGSTKSZ.
	MinSigStkSz uint64
	// Randomize places the stack, a PIE and the heap at random offsets, as
	// Linux's ASLR does, by up to RandPages pages each.
	Randomize bool
	RandPages RandPages
}

// RandPages are the ranges of Linux's ASLR, in pages, for an architecture:
// a PIE's base and the mmap base move by mmap_rnd_bits, the stack by
// STACK_RND_MASK, the heap by arch_randomize_brk's range.
type RandPages struct {
	Dyn, Stack, Mmap, Brk int
}

// File is an ELF program opened for loading.
type File struct {
	Path   string // as the guest names it
	Host   string // as the host finds it
	fd     int
	Header *Header
}

// FD is the file's descriptor (close-on-exec), owned by the File.
func (f *File) FD() int { return f.fd }

// ErrNotFound means the file does not exist.
var ErrNotFound = errors.New("no such file")

// Open opens and parses an ELF file. Its descriptor is close-on-exec and
// takes the lowest free number, as any open does: the guest never meets it,
// since xemu closes the file once the image is loaded, before guest code runs
// (the first program, or the next one of an execve in the process), and
// duplicates high what must outlive that (kernel.KeepProgram).
func Open(guestPath, hostPath string) (*File, error) {
	// O_NONBLOCK: a FIFO named as a program must not block the open (it is
	// refused below, as may_open refuses to execute one).
	fd, err := unix.Open(hostPath, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		if err == unix.ENOENT {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return OpenFD(guestPath, hostPath, fd)
}

// OpenFD is Open of a file already open on fd, such as the one binfmt_misc
// hands over (AT_EXECFD) for a program its caller may execute but not read.
// The File owns fd from then on, also when OpenFD fails.
func OpenFD(guestPath, hostPath string, fd int) (*File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		unix.Close(fd)
		return nil, unix.EISDIR
	}
	// fs/namei.c may_open: only a regular file is executed (EACCES).
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, unix.EACCES
	}
	buf := make([]byte, 4096)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	h, err := ParseHeader(buf[:n], func(p []byte, off int64) (int, error) { return unix.Pread(fd, p, off) })
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &File{Path: guestPath, Host: hostPath, fd: fd, Header: h}, nil
}

// Close closes the file's descriptor.
func (f *File) Close() {
	if f.fd >= 0 {
		unix.Close(f.fd)
		f.fd = -1
	}
}

// Interp is the program's PT_INTERP path, or "".
func (f *File) Interp() (string, error) {
	for _, p := range f.Header.Progs {
		if p.Type != ptInterp {
			continue
		}
		if p.Filesz < 2 || p.Filesz > 4096 {
			return "", bad("bad interpreter path length %d", p.Filesz)
		}
		b := make([]byte, p.Filesz)
		if n, _ := unix.Pread(f.fd, b, int64(p.Off)); n != len(b) {
			return "", bad("truncated interpreter path")
		}
		if b[len(b)-1] != 0 {
			return "", bad("interpreter path is not terminated")
		}
		for i, c := range b[:len(b)-1] {
			if c == 0 {
				b = b[:i+1]
				break
			}
		}
		return string(b[:len(b)-1]), nil
	}
	return "", nil
}

// Image is a loaded program.
type Image struct {
	Entry     uint64 // where the CPU starts: the interpreter's entry if any
	ProgEntry uint64 // AT_ENTRY
	Phdr      uint64 // AT_PHDR
	Phent     uint64
	Phnum     uint64
	Base      uint64 // AT_BASE: the interpreter's load address
	Bias      uint64 // the program's load bias
	ExecStack bool
	BrkStart  uint64
}

// Load maps prog (and interp, if not nil) into s.
func Load(s *mem.AddressSpace, t *Target, prog, interp *File) (*Image, error) {
	if err := t.check(prog); err != nil {
		return nil, err
	}
	img := &Image{}
	base := uint64(0)
	if prog.Header.Type == etDyn {
		base = t.DynBase
		if t.Randomize {
			base += randomPages(t.RandPages.Dyn)
		}
	}
	bias, end, err := mapImage(s, prog, base)
	if err != nil {
		return nil, err
	}
	h := prog.Header
	img.Bias = bias
	img.ProgEntry = bias + h.Entry
	img.Entry = img.ProgEntry
	img.Phnum = uint64(len(h.Progs))
	img.Phent = uint64(h.PhEntSize)
	img.Phdr = phdrAddr(h, bias)
	for _, p := range h.Progs {
		if p.Type == ptGnuStack {
			img.ExecStack = p.Flags&pfX != 0
		}
	}
	img.BrkStart = end
	if t.Randomize && h.Type == etDyn {
		img.BrkStart += randomPages(t.RandPages.Brk)
	}
	if interp != nil {
		if err := t.check(interp); err != nil {
			return nil, fmt.Errorf("interpreter %s: %w", interp.Path, err)
		}
		if interp.Header.Type != etDyn {
			return nil, bad("interpreter %s is not a shared object", interp.Path)
		}
		ibias, _, err := mapImage(s, interp, 0)
		if err != nil {
			return nil, fmt.Errorf("interpreter %s: %w", interp.Path, err)
		}
		img.Base = ibias
		img.Entry = ibias + interp.Header.Entry
	}
	return img, nil
}

func (t *Target) check(f *File) error {
	h := f.Header
	if h.Machine != t.Machine {
		return &ArchError{Machine: h.Machine}
	}
	if h.Class != t.Class {
		return bad("%d-bit %s ELF: xemu runs 32-bit ARM and 64-bit AArch64", h.Class, MachineName(h.Machine))
	}
	return nil
}

// ArchError: the program is for another machine.
type ArchError struct{ Machine int }

func (e *ArchError) Error() string {
	return fmt.Sprintf("%s ELF; xemu runs ARM and AArch64 programs", MachineName(e.Machine))
}

func phdrAddr(h *Header, bias uint64) uint64 {
	for _, p := range h.Progs {
		if p.Type == ptPhdr {
			return bias + p.Vaddr
		}
	}
	for _, p := range h.Progs {
		if p.Type == ptLoad && h.PhOff >= p.Off && h.PhOff < p.Off+p.Filesz {
			return bias + p.Vaddr + (h.PhOff - p.Off)
		}
	}
	return 0
}

// randomPages is a random multiple of the page size below n pages.
func randomPages(n int) uint64 {
	if n <= 0 {
		return 0
	}
	return uint64(mrand.IntN(n)) * mem.PageSize
}

func pageDown(a uint64) uint64 { return a &^ (mem.PageSize - 1) }
func pageUp(a uint64) uint64   { return (a + mem.PageSize - 1) &^ (mem.PageSize - 1) }

// mapImage maps f's PT_LOAD segments. A shared object (ET_DYN) first gets a
// reservation for its whole span, placed at base if given or top-down
// otherwise; segments go into it. It returns the load bias and the end of the
// highest segment.
func mapImage(s *mem.AddressSpace, f *File, base uint64) (bias, end uint64, err error) {
	h := f.Header
	lo, hi := ^uint64(0), uint64(0)
	nload := 0
	for _, p := range h.Progs {
		if p.Type != ptLoad || p.Memsz == 0 {
			continue
		}
		nload++
		if p.Filesz > p.Memsz {
			return 0, 0, bad("segment file size larger than memory size")
		}
		if p.Vaddr%mem.PageSize != p.Off%mem.PageSize {
			return 0, 0, bad("segment address and offset are not congruent")
		}
		if p.Vaddr+p.Memsz < p.Vaddr || p.Off+p.Filesz < p.Off {
			return 0, 0, bad("segment wraps around")
		}
		lo = min(lo, pageDown(p.Vaddr))
		hi = max(hi, pageUp(p.Vaddr+p.Memsz))
	}
	if nload == 0 {
		return 0, 0, bad("no loadable segments")
	}
	if hi-lo > uint64(s.Limit) || hi > uint64(s.Limit) && h.Type == etExec {
		return 0, 0, bad("segments outside the address space")
	}
	if h.Type == etDyn {
		req := mem.MapRequest{Addr: mem.GuestAddr(base), Length: hi - lo, Prot: mem.ProtNone, FD: -1}
		a, err := s.Map(req)
		if err != nil {
			return 0, 0, bad("no room for %d bytes of segments: %v", hi-lo, err)
		}
		bias = uint64(a) - lo
	}
	var mapped []mem.GuestAddr // segment page ranges, to free the gaps after
	for _, p := range h.Progs {
		if p.Type != ptLoad || p.Memsz == 0 {
			continue
		}
		prot := mem.ProtNone
		if p.Flags&pfR != 0 {
			prot |= mem.ProtRead
		}
		if p.Flags&pfW != 0 {
			prot |= mem.ProtWrite
		}
		if p.Flags&pfX != 0 {
			prot |= mem.ProtExec
		}
		start := pageDown(bias + p.Vaddr)
		fileEnd := bias + p.Vaddr + p.Filesz
		memEnd := bias + p.Vaddr + p.Memsz
		if memEnd > uint64(s.Limit) || start < uint64(s.MinAddr) {
			return 0, 0, bad("segment at %#x outside the address space", bias+p.Vaddr)
		}
		if p.Filesz > 0 {
			_, err := s.Map(mem.MapRequest{Addr: mem.GuestAddr(start), Length: pageUp(fileEnd) - start, Prot: prot,
				Fixed: true, FD: f.fd, Offset: pageDown(p.Off), Name: f.absHost()})
			if err != nil {
				return 0, 0, fmt.Errorf("mapping segment at %#x: %w", start, err)
			}
			// The rest of the last file page belongs to .bss: zero it.
			if p.Memsz > p.Filesz && fileEnd%mem.PageSize != 0 {
				zero := make([]byte, pageUp(fileEnd)-fileEnd)
				if err := s.Poke(mem.GuestAddr(fileEnd), zero); err != nil {
					return 0, 0, bad("segment data beyond the end of the file")
				}
			}
		}
		anonStart := pageUp(fileEnd)
		if p.Filesz == 0 {
			anonStart = start
		}
		if pageUp(memEnd) > anonStart {
			_, err := s.Map(mem.MapRequest{Addr: mem.GuestAddr(anonStart), Length: pageUp(memEnd) - anonStart, Prot: prot,
				Fixed: true, FD: -1})
			if err != nil {
				return 0, 0, fmt.Errorf("mapping bss at %#x: %w", anonStart, err)
			}
		}
		mapped = append(mapped, mem.GuestAddr(start), mem.GuestAddr(pageUp(memEnd)))
		end = max(end, pageUp(memEnd))
	}
	if h.Type == etDyn {
		// Like Linux, leave nothing mapped in the gaps between segments.
		cur := mem.GuestAddr(bias + lo)
		for i := 0; i < len(mapped); i += 2 {
			if mapped[i] > cur {
				s.Unmap(cur, uint64(mapped[i]-cur))
			}
			cur = max(cur, mapped[i+1])
		}
		if top := mem.GuestAddr(bias + hi); top > cur {
			s.Unmap(cur, uint64(top-cur))
		}
	}
	return bias, end, nil
}

// absHost is the file's absolute host path, the name its mappings carry.
func (f *File) absHost() string {
	if p, err := filepath.Abs(f.Host); err == nil {
		return p
	}
	return f.Host
}
