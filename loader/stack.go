package loader

import (
	"encoding/binary"
	"os"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// Auxiliary vector types (include/uapi/linux/auxvec.h).
const (
	AT_NULL        = 0
	AT_PHDR        = 3
	AT_PHENT       = 4
	AT_PHNUM       = 5
	AT_PAGESZ      = 6
	AT_BASE        = 7
	AT_FLAGS       = 8
	AT_ENTRY       = 9
	AT_UID         = 11
	AT_EUID        = 12
	AT_GID         = 13
	AT_EGID        = 14
	AT_PLATFORM    = 15
	AT_HWCAP       = 16
	AT_CLKTCK      = 17
	AT_SECURE      = 23
	AT_RANDOM      = 25
	AT_HWCAP2      = 26
	AT_EXECFN      = 31
	AT_MINSIGSTKSZ = 51
)

// hostSecure is the AT_SECURE the host kernel gave xemu: 1 when it runs
// for a setuid or setgid program (binfmt_misc's flag C) or gained
// capabilities by exec. The guest gets the same, so that its dynamic loader
// and libc distrust the environment (LD_PRELOAD, ...) as on Linux.
var hostSecure = func() uint64 {
	auxv, _ := unix.Auxv()
	for _, kv := range auxv {
		if kv[0] == AT_SECURE {
			return uint64(kv[1])
		}
	}
	return 0
}()

// HostSecure reports whether xemu runs in secure mode (hostSecure): it
// must then take nothing from the environment that could make a
// privileged guest do what its caller chooses.
func HostSecure() bool { return hostSecure != 0 }

// Stack is the initial stack as built: where sp starts, and the auxv that
// was written (for /proc/self/auxv).
type Stack struct {
	Top      uint64
	SP       uint64
	Auxv     [][2]uint64
	MmapTop  uint64
	ArgStart uint64 // argv strings, for /proc/self/cmdline
	ArgEnd   uint64
	// EnvStart and EnvEnd bound the environment strings, which
	// /proc/PID/environ reads from the process's memory (mm->env_start).
	EnvStart, EnvEnd uint64
}

// MapStack maps the stack below the (randomized) stack top and sets where
// top-down mmap starts, below it. It comes before loading, so that the
// interpreter and every later mapping go below the stack as on Linux.
func MapStack(s *mem.AddressSpace, t *Target, execStack bool) (*Stack, error) {
	top := t.StackTop
	if t.Randomize {
		top -= randomPages(t.RandPages.Stack)
	}
	prot := mem.ProtRead | mem.ProtWrite
	if execStack {
		prot |= mem.ProtExec
	}
	if _, err := s.Map(mem.MapRequest{Addr: mem.GuestAddr(top - t.StackSize), Length: t.StackSize, Prot: prot,
		Fixed: true, FD: -1, Name: "[stack]"}); err != nil {
		return nil, err
	}
	st := &Stack{Top: top}
	// Linux keeps mmap at least 128 MiB below the stack top (mmap_base's gap).
	gap := max(t.StackSize, 128<<20)
	st.MmapTop = pageDown(top - gap)
	if t.Randomize {
		st.MmapTop -= randomPages(t.RandPages.Mmap)
	}
	s.SetMmapTop(mem.GuestAddr(st.MmapTop))
	return st, nil
}

// BuildStack writes argv, envp and auxv onto a mapped stack the way Linux's
// create_elf_tables does, for a program image img.
func BuildStack(s *mem.AddressSpace, t *Target, st *Stack, img *Image, argv, envp []string, execfn string) error {
	if img.ExecStack {
		if err := s.Protect(mem.GuestAddr(st.Top-t.StackSize), t.StackSize, mem.ProtRead|mem.ProtWrite|mem.ProtExec); err != nil {
			return err
		}
	}
	top := st.Top
	word := uint64(t.Class / 8)
	w := stackWriter{s: s, sp: top - word, word: word}
	w.zero(word) // the end marker
	execfnAddr := w.str(execfn)
	envAddrs := make([]uint64, len(envp))
	for i := len(envp) - 1; i >= 0; i-- {
		envAddrs[i] = w.str(envp[i])
	}
	argEnd := w.sp
	st.EnvStart, st.EnvEnd = argEnd, execfnAddr
	argAddrs := make([]uint64, len(argv))
	for i := len(argv) - 1; i >= 0; i-- {
		argAddrs[i] = w.str(argv[i])
	}
	st.ArgStart, st.ArgEnd = w.sp, argEnd
	w.sp &^= 15
	var platform uint64
	if t.Platform != "" {
		platform = w.str(t.Platform)
	}
	var rnd [16]byte
	randomBytes(rnd[:])
	w.sp -= 16
	random := w.sp
	w.bytes(random, rnd[:])

	aux := [][2]uint64{}
	if t.MinSigStkSz != 0 {
		aux = append(aux, [2]uint64{AT_MINSIGSTKSZ, t.MinSigStkSz})
	}
	aux = append(aux,
		[2]uint64{AT_HWCAP, t.HWCap},
		[2]uint64{AT_PAGESZ, mem.PageSize},
		[2]uint64{AT_CLKTCK, 100},
		[2]uint64{AT_PHDR, img.Phdr},
		[2]uint64{AT_PHENT, img.Phent},
		[2]uint64{AT_PHNUM, img.Phnum},
		[2]uint64{AT_BASE, img.Base},
		[2]uint64{AT_FLAGS, 0},
		[2]uint64{AT_ENTRY, img.ProgEntry},
		[2]uint64{AT_UID, uint64(unix.Getuid())},
		[2]uint64{AT_EUID, uint64(unix.Geteuid())},
		[2]uint64{AT_GID, uint64(unix.Getgid())},
		[2]uint64{AT_EGID, uint64(unix.Getegid())},
		[2]uint64{AT_SECURE, hostSecure},
		[2]uint64{AT_RANDOM, random},
		[2]uint64{AT_HWCAP2, t.HWCap2},
		[2]uint64{AT_EXECFN, execfnAddr},
	)
	if platform != 0 {
		aux = append(aux, [2]uint64{AT_PLATFORM, platform})
	}
	aux = append(aux, [2]uint64{AT_NULL, 0})
	st.Auxv = aux

	items := 1 + uint64(len(argv)) + 1 + uint64(len(envp)) + 1 + 2*uint64(len(aux))
	sp := (w.sp - items*word) &^ 15
	if sp < top-t.StackSize {
		return unix.E2BIG
	}
	vals := make([]uint64, 0, items)
	vals = append(vals, uint64(len(argv)))
	vals = append(vals, argAddrs...)
	vals = append(vals, 0)
	vals = append(vals, envAddrs...)
	vals = append(vals, 0)
	for _, a := range aux {
		vals = append(vals, a[0], a[1])
	}
	buf := make([]byte, len(vals)*int(word))
	for i, v := range vals {
		if word == 8 {
			binary.LittleEndian.PutUint64(buf[i*8:], v)
		} else {
			binary.LittleEndian.PutUint32(buf[i*4:], uint32(v))
		}
	}
	w.bytes(sp, buf)
	if w.err != nil {
		return w.err
	}
	st.SP = sp
	return nil
}

type stackWriter struct {
	s    *mem.AddressSpace
	sp   uint64
	word uint64
	err  error
}

func (w *stackWriter) bytes(at uint64, b []byte) {
	if w.err == nil {
		w.err = w.s.Write(mem.GuestAddr(at), b)
	}
}

func (w *stackWriter) zero(n uint64) {
	w.bytes(w.sp, make([]byte, n))
}

// str pushes a NUL-terminated string and returns its address.
func (w *stackWriter) str(v string) uint64 {
	w.sp -= uint64(len(v) + 1)
	w.bytes(w.sp, append([]byte(v), 0))
	return w.sp
}

// randomBytes fills b from the kernel's random source, as Linux fills
// AT_RANDOM. getrandom(2) directly rather than crypto/rand, whose package
// brings the FIPS module's initialisation into every start of xemu.
func randomBytes(b []byte) {
	for len(b) > 0 {
		n, err := unix.Getrandom(b, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// Before getrandom (Linux 3.17).
			if f, err := os.Open("/dev/urandom"); err == nil {
				f.Read(b)
				f.Close()
			}
			return
		}
		b = b[n:]
	}
}
