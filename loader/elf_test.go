package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"xemu/cpu/mem"
	"xemu/internal/testenv"
)

// seedELFs are real binaries for the fuzz corpus and the parser tests: the
// cross toolchains' own programs and libraries.
func seedELFs(t testing.TB) [][]byte {
	var out [][]byte
	for _, p := range []string{
		"/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1",
		"/usr/aarch64-linux-gnu/lib/libc.so.6",
		"/usr/arm-linux-gnueabihf/lib/ld-linux-armhf.so.3",
		"/bin/true",
	} {
		b, err := os.ReadFile(p)
		if err == nil {
			out = append(out, b[:min(len(b), 8192)])
		}
	}
	if len(out) == 0 {
		testenv.Missing(t, "no seed binaries installed")
	}
	return out
}

func TestParseRealHeaders(t *testing.T) {
	b, err := os.ReadFile("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1")
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	h, err := ParseHeader(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.Class != 64 || h.Machine != EMAArch64 || h.Type != etDyn || len(h.Progs) == 0 {
		t.Fatalf("header = %+v", h)
	}
	b, err = os.ReadFile("/usr/arm-linux-gnueabihf/lib/ld-linux-armhf.so.3")
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	h, err = ParseHeader(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.Class != 32 || h.Machine != EMARM {
		t.Fatalf("header = %+v", h)
	}
}

func TestParseBadHeaders(t *testing.T) {
	good, err := os.ReadFile("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1")
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	mutate := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	cases := map[string][]byte{
		"empty":          {},
		"not elf":        []byte("#!/bin/sh\necho hi\n"),
		"truncated":      good[:40],
		"bad class":      mutate(func(b []byte) []byte { b[4] = 9; return b }),
		"big endian":     mutate(func(b []byte) []byte { b[5] = 2; return b }),
		"type core":      mutate(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[16:], 4); return b }),
		"phentsize":      mutate(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[54:], 12); return b }),
		"no phdrs":       mutate(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[56:], 0); return b }),
		"phoff past end": mutate(func(b []byte) []byte { binary.LittleEndian.PutUint64(b[32:], 1<<50); return b[:200] }),
	}
	for name, b := range cases {
		_, err := ParseHeader(b, nil)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want a FormatError", name, err)
		}
	}
}

// FuzzParseHeader: no input may panic the parser.
func FuzzParseHeader(f *testing.F) {
	for _, b := range seedELFs(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseHeader(b, func(p []byte, off int64) (int, error) {
			if off < 0 || off >= int64(len(b)) {
				return 0, nil
			}
			return copy(p, b[off:]), nil
		})
	})
}

// FuzzLoad: a parsed file is also mapped into an address space; no input may
// panic the loader or escape the space.
func FuzzLoad(f *testing.F) {
	for _, b := range seedELFs(f) {
		f.Add(b)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "prog")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := Open("prog", p)
		if err != nil {
			return
		}
		defer file.Close()
		s, err := mem.New(mem.Layout{Limit: 1 << 47, MinAddr: 0x10000, ArenaSize: 1 << 32})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		tgt := &Target{Machine: file.Header.Machine, Class: file.Header.Class, DynBase: 0x555555554000, StackTop: 1 << 47, StackSize: 1 << 20}
		if _, err := MapStack(s, tgt, false); err != nil {
			t.Fatal(err)
		}
		file.Interp()
		Load(s, tgt, file, nil)
	})
}

// TestLoadStaticBinary loads a real static program and checks the image.
func TestLoadStaticBinary(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "p.c")
	os.WriteFile(src, []byte("int x[5000]; int main(void){return x[1];}\n"), 0o644)
	for _, pie := range []string{"-static", "-static-pie"} {
		bin := filepath.Join(dir, "p"+pie)
		if out, err := exec.Command("aarch64-linux-gnu-gcc", pie, "-o", bin, src).CombinedOutput(); err != nil {
			testenv.Missing(t, "cross compiler: %v %s", err, out)
		}
		f, err := Open("p", bin)
		if err != nil {
			t.Fatal(err)
		}
		s, err := mem.New(mem.Layout{Limit: 1 << 48, MinAddr: 0x10000, ArenaSize: 1 << 32})
		if err != nil {
			t.Fatal(err)
		}
		tgt := &Target{Machine: EMAArch64, Class: 64, DynBase: 0xaaaaaaaaa000, StackTop: 1 << 48, StackSize: 8 << 20, Platform: "aarch64"}
		st, err := MapStack(s, tgt, false)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Load(s, tgt, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pie == "-static-pie" && img.Bias != 0xaaaaaaaaa000 {
			t.Errorf("%s: bias %#x", pie, img.Bias)
		}
		if pie == "-static" && img.Bias != 0 {
			t.Errorf("%s: bias %#x", pie, img.Bias)
		}
		// .bss (x[5000]) must be mapped and zero up to the brk start.
		zero := make([]byte, 4)
		if err := s.Read(mem.GuestAddr(img.BrkStart-4), zero); err != nil || !bytes.Equal(zero, []byte{0, 0, 0, 0}) {
			t.Errorf("%s: end of bss: %v %v", pie, zero, err)
		}
		if err := BuildStack(s, tgt, st, img, []string{"p", "a"}, []string{"X=1"}, "p"); err != nil {
			t.Fatal(err)
		}
		// argc, argv[0], argv[1], NULL at the stack pointer.
		var w [8]byte
		s.Read(mem.GuestAddr(st.SP), w[:])
		if binary.LittleEndian.Uint64(w[:]) != 2 || st.SP%16 != 0 {
			t.Errorf("%s: argc %d sp %#x", pie, binary.LittleEndian.Uint64(w[:]), st.SP)
		}
		f.Close()
		s.Close()
	}
}
