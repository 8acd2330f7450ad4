package guestfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestHostSysroot(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "lib"), 0o755)
	os.WriteFile(filepath.Join(root, "lib", "ld.so"), nil, 0o644)
	fs := &FS{Sysroot: root}
	cases := map[string]string{
		"/lib/ld.so":        filepath.Join(root, "lib", "ld.so"),
		"/lib/missing.so":   "/lib/missing.so",
		"relative/path":     "relative/path",
		"/":                 "/",
		"/proc/self/maps":   "/proc/self/maps",
		"/lib/../lib/ld.so": filepath.Join(root, "lib", "ld.so"),
	}
	for in, want := range cases {
		if got := fs.Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
	if got := fs.HostForCreate("/lib/new.so"); got != filepath.Join(root, "lib", "new.so") {
		t.Errorf("HostForCreate = %q", got)
	}
	if got := fs.Guest(filepath.Join(root, "lib")); got != "/lib" {
		t.Errorf("Guest = %q", got)
	}
	if got := (&FS{}).Host("/etc/passwd"); got != "/etc/passwd" {
		t.Errorf("no sysroot: %q", got)
	}
}

func TestProc(t *testing.T) {
	pid := itoa(os.Getpid())
	cases := map[string]ProcFile{
		"/proc/self/maps":        ProcMaps,
		"/proc/" + pid + "/maps": ProcMaps,
		"/proc/1/maps":           ProcNone,
		"/proc/self/auxv":        ProcAuxv,
		"/proc/thread-self/exe":  ProcExe,
		"/proc/cpuinfo":          ProcCPUInfo,
		"/proc/meminfo":          ProcNone,
		"/etc/passwd":            ProcNone,
	}
	for in, want := range cases {
		if got := Proc(in); got != want {
			t.Errorf("Proc(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestMapsFormat(t *testing.T) {
	out := Maps([]MapLine{
		{Start: 0x55d2f4db8000, End: 0x55d2f4dbd000, Read: true, Exec: true, Offset: 0x2000, Dev: unix.Mkdev(0xfe, 0), Inode: 247026, Name: "/usr/bin/cat"},
		{Start: 0x7fff0000, End: 0x7fff1000, Read: true, Write: true},
	}, 8)
	// As Linux printed it for cat on this kind of machine.
	want := "55d2f4db8000-55d2f4dbd000 r-xp 00002000 fe:00 247026                     /usr/bin/cat\n" +
		"7fff0000-7fff1000 rw-p 00000000 00:00 0 \n"
	if out != want {
		t.Errorf("maps:\n%q\nwant\n%q", out, want)
	}
	if !strings.HasSuffix(Cmdline([]string{"a", "b"}), "b\x00") {
		t.Error("cmdline")
	}
}
