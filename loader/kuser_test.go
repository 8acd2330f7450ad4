package loader

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"xemu/cpu/mem"
	"xemu/internal/testenv"
)

// kuserSource is arch/arm/kernel/entry-armv.S's kuser helpers as an SMP
// ARMv7 kernel with the TLS register assembles them (smp_dmb is dmb ish,
// usr_ret is bx lr), after kuser_get_tls_init copied the mrc down.
const kuserSource = `
	.arm
	.syntax unified
	.macro kuser_pad, sym, size
	.if (. - \sym) & 3
	.rept 4 - (. - \sym) & 3
	.byte 0
	.endr
	.endif
	.rept (\size - (. - \sym)) / 4
	.word 0xe7fddef1
	.endr
	.endm
__kuser_cmpxchg64:
	stmfd	sp!, {r4, r5, r6, r7}
	ldrd	r4, r5, [r0]
	ldrd	r6, r7, [r1]
	dmb	ish
1:	ldrexd	r0, r1, [r2]
	eors	r3, r0, r4
	eorseq	r3, r1, r5
	strexdeq r3, r6, r7, [r2]
	teqeq	r3, #1
	beq	1b
	dmb	ish
	rsbs	r0, r3, #0
	ldmfd	sp!, {r4, r5, r6, r7}
	bx	lr
	kuser_pad __kuser_cmpxchg64, 64
__kuser_memory_barrier:
	dmb	ish
	bx	lr
	kuser_pad __kuser_memory_barrier, 32
__kuser_cmpxchg:
	dmb	ish
1:	ldrex	r3, [r2]
	subs	r3, r3, r0
	strexeq	r3, r1, [r2]
	teqeq	r3, #1
	beq	1b
	rsbs	r0, r3, #0
	b	__kuser_memory_barrier
	kuser_pad __kuser_cmpxchg, 32
__kuser_get_tls:
	mrc	p15, 0, r0, c13, c0, 3
	bx	lr
	mrc	p15, 0, r0, c13, c0, 3
	kuser_pad __kuser_get_tls, 16
	.word 0, 0, 0
__kuser_helper_version:
	.word	((__kuser_helper_version + 4 - __kuser_cmpxchg64) >> 5)
`

// TestKuserHelpersAssemble: the words in kuser.go are what the cross
// assembler makes of the kernel's source.
func TestKuserHelpersAssemble(t *testing.T) {
	as, err := exec.LookPath("arm-linux-gnueabihf-as")
	if err != nil {
		testenv.Missing(t, "no arm-linux-gnueabihf-as")
	}
	objcopy, err := exec.LookPath("arm-linux-gnueabihf-objcopy")
	if err != nil {
		testenv.Missing(t, "no arm-linux-gnueabihf-objcopy")
	}
	dir := t.TempDir()
	src, obj, bin := filepath.Join(dir, "k.S"), filepath.Join(dir, "k.o"), filepath.Join(dir, "k.bin")
	if err := os.WriteFile(src, []byte(kuserSource), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, "-march=armv7-a", "-o", obj, src).CombinedOutput(); err != nil {
		t.Fatalf("as: %v\n%s", err, out)
	}
	if out, err := exec.Command(objcopy, "-O", "binary", obj, bin).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, out)
	}
	want, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	page := ARMVectorPage()
	if got := page[KuserCmpxchg64-ARMVectors:]; !bytes.Equal(got, want) {
		t.Errorf("the helpers differ from the assembled source:\n got %x\nwant %x", got, want)
	}
}

// TestARMVectorPage: the helpers sit at their fixed addresses and the rest
// of the page is the kernel's poison.
func TestARMVectorPage(t *testing.T) {
	page := ARMVectorPage()
	word := func(addr int) uint32 { return binary.LittleEndian.Uint32(page[addr-ARMVectors:]) }
	if len(page) != mem.PageSize {
		t.Fatalf("page of %d bytes", len(page))
	}
	if v := word(KuserHelperVersion); v != 5 {
		t.Errorf("helper version %d, want 5", v)
	}
	if w := word(KuserGetTLS); w != 0xee1d0f70 {
		t.Errorf("__kuser_get_tls starts with %#x, want mrc p15, 0, r0, c13, c0, 3", w)
	}
	for _, a := range []int{KuserMemoryBarrier, KuserCmpxchg, KuserCmpxchg64} {
		if w := word(a); w != 0xf57ff05b && w != 0xe92d00f0 {
			t.Errorf("helper at %#x starts with %#x", a, w)
		}
	}
	if w := word(ARMVectors); w != kuserPoison {
		t.Errorf("the vectors read %#x, want the poison", w)
	}
}

// TestMapARMVectors: mapped above user space, read-only and executable,
// beyond the guest's munmap and mprotect.
func TestMapARMVectors(t *testing.T) {
	s, err := mem.New(mem.Layout{Limit: 0xbf000000, MinAddr: 0x10000, ArenaSize: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := MapARMVectors(s); err != nil {
		t.Fatal(err)
	}
	m, ok := s.Find(KuserGetTLS)
	if !ok || m.Start != ARMVectors || m.End != ARMVectors+mem.PageSize || m.Prot != mem.ProtRead|mem.ProtExec || m.Name != "[vectors]" {
		t.Fatalf("mapping %+v", m)
	}
	if err := s.Unmap(ARMVectors, mem.PageSize); err == nil {
		t.Error("munmap of the vector page succeeded")
	}
	if err := s.Protect(ARMVectors, mem.PageSize, mem.ProtRead|mem.ProtWrite); err == nil {
		t.Error("mprotect of the vector page succeeded")
	}
	if _, err := s.Remap(ARMVectors, mem.PageSize, 2*mem.PageSize, true, false, 0); err == nil {
		t.Error("mremap of the vector page succeeded")
	}
	var b [4]byte
	if err := s.Read(KuserHelperVersion, b[:]); err == nil {
		t.Error("a system call could read the vector page")
	}
	if err := MapARMVectors(s); err == nil {
		t.Error("mapped twice")
	}
}
