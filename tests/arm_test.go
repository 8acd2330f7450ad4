package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The 32-bit ARM guests: every guest program built for armhf as ARM code and
// as Thumb code, and for armel (soft-float ARMv5TE, whose C library makes
// its atomics and TLS with the kuser helpers), in each link mode Debian's
// toolchains can build (their glibc has no static-pie start file, rcrt1.o).
var (
	armhfARM   = armhf("-marm")
	armhfThumb = armhf("-mthumb")
	armel      = guestArch{Name: "armel", CC: "arm-linux-gnueabi-gcc", Qemu: "qemu-arm", Sysroot: "/usr/arm-linux-gnueabi",
		CFlags: []string{"-marm"}, Modes: []string{"static", "dynamic"}}
)

func armhf(isa string) guestArch {
	a := guestArch{Name: "armhf", CC: "arm-linux-gnueabihf-gcc", Qemu: "qemu-arm", Sysroot: "/usr/arm-linux-gnueabihf",
		CFlags: []string{isa}, Modes: []string{"static", "dynamic"}}
	if _, err := os.Stat(filepath.Join(a.Sysroot, "lib", "rcrt1.o")); err == nil {
		a.Modes = append(a.Modes, "static-pie")
	}
	return a
}

// armGuests are the ARM guests whose compilers are installed.
func armGuests(t *testing.T) []guestArch {
	gs := []guestArch{armhfARM, armhfThumb}
	if _, err := exec.LookPath(armel.CC); err == nil {
		gs = append(gs, armel)
	} else {
		t.Logf("%s not installed: no armel programs", armel.CC)
	}
	return gs
}

// TestGuestProgramsARM is TestGuestPrograms for armhf (ARM and Thumb) and
// armel.
func TestGuestProgramsARM(t *testing.T) {
	srcs, _ := filepath.Glob(filepath.Join(root, "tests", "guest", "*.c"))
	if len(srcs) == 0 {
		t.Fatal("no guest programs")
	}
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		d := readDirectives(t, src)
		for _, a := range armGuests(t) {
			isa := a.Name + "-" + strings.TrimPrefix(a.CFlags[0], "-m")
			for _, mode := range d.Modes {
				if !d.runsOn(a, mode) {
					continue
				}
				t.Run(name+"/"+isa+"/"+mode, func(t *testing.T) {
					t.Parallel()
					runGuestProgram(t, a, src, name+" "+isa, mode, d)
				})
			}
		}
	}
}

func TestBusyboxArmhf(t *testing.T)         { testBusybox(t, armhfARM, "armhf-debs") }
func TestCoreutilsRootfsArmhf(t *testing.T) { testCoreutils(t, armhfARM, "rootfs-armhf") }

// nolibcPIE is a static PIE without a C library (Debian's armhf glibc has
// no static-pie start file, so this is how a static PIE is built here):
// xemu must place it (ET_DYN without PT_INTERP) and enter it in Thumb state
// when the entry point's low bit says so.
const nolibcPIE = `
static long sys3(long n, long a, long b, long c) {
	register long r0 __asm__("r0") = a;
	register long r1 __asm__("r1") = b;
	register long r2 __asm__("r2") = c;
	register long r7 __asm__("r7") = n;
	__asm__ volatile("svc 0" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
	return r0;
}

static void put(const char *s) {
	long n = 0;
	while (s[n])
		n++;
	sys3(4, 1, (long)s, n);
}

static void putnum(unsigned long v) {
	char buf[16];
	int i = sizeof buf;
	buf[--i] = 0;
	do
		buf[--i] = '0' + v % 10;
	while (v /= 10);
	put(buf + i);
}

__attribute__((used)) static void start_c(long *sp) {
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
#ifdef __thumb__
	put("static PIE without libc, Thumb entry, argc ");
#else
	put("static PIE without libc, ARM entry, argc ");
#endif
	putnum(argc);
	for (long i = 1; i < argc; i++) {
		put(" ");
		put(argv[i]);
	}
	unsigned long pc;
	__asm__("mov %0, pc" : "=r"(pc));
	put(pc < 0x10000 ? ", at its link address\n" : ", loaded away from zero\n");
	sys3(248, 7, 0, 0); // exit_group(7)
}

__attribute__((naked)) void _start(void) {
	__asm__("mov r0, sp\n\tbl start_c");
}
`

// TestARMStaticPIENoLibc runs nolibcPIE built as ARM and as Thumb code.
func TestARMStaticPIENoLibc(t *testing.T) {
	src := filepath.Join(t.TempDir(), "arm_nolibc_pie.c")
	if err := os.WriteFile(src, []byte(nolibcPIE), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, a := range []guestArch{armhfARM, armhfThumb} {
		t.Run(a.CFlags[0], func(t *testing.T) {
			prog := compile(t, a, src, "nolibc", "-nostdlib", "-fPIE", "-pie", "-Wl,--no-dynamic-linker", "-ffreestanding")
			x, q := runBoth(t, a, "", "", prog, "one", "two")
			compare(t, "static PIE without libc", x, q)
			if x.Exit != 7 || !strings.Contains(x.Stdout, "argc 3 one two, loaded away from zero") {
				t.Errorf("xemu: exit %d, stdout %q", x.Exit, x.Stdout)
			}
		})
	}
}
