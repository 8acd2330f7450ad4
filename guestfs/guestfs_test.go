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

func TestSplitProc(t *testing.T) {
	const pid, tid = 4321, 4325
	cases := []struct {
		in   string
		ok   bool
		want ProcEntry
		file ProcFile
	}{
		{"/proc/self/maps", true, ProcEntry{Rest: "maps"}, ProcMaps},
		{"/proc/4321/smaps", true, ProcEntry{Rest: "smaps"}, ProcSmaps},
		{"/proc/1/maps", false, ProcEntry{}, ProcNone},
		{"/proc/thread-self/comm", true, ProcEntry{TID: tid, Rest: "comm"}, ProcComm},
		{"/proc/4321/task/4330/stat", true, ProcEntry{TID: 4330, Rest: "stat"}, ProcStat},
		{"/proc/4321/task/x/stat", false, ProcEntry{}, ProcNone},
		{"/proc/4321/task", true, ProcEntry{Rest: "task"}, ProcNone},
		{"/proc/4321", true, ProcEntry{}, ProcNone},
		{"/proc/self/fd/7", true, ProcEntry{Rest: "fd/7"}, ProcNone},
		{"/proc/cpuinfo", false, ProcEntry{}, ProcNone},
		{"/etc/passwd", false, ProcEntry{}, ProcNone},
	}
	for _, c := range cases {
		got, ok := SplitProc(c.in, pid, tid)
		if ok != c.ok || got != c.want || got.File() != c.file {
			t.Errorf("SplitProc(%q) = %+v %v (%v), want %+v %v (%v)", c.in, got, ok, got.File(), c.want, c.ok, c.file)
		}
	}
	if fd, ok := (ProcEntry{Rest: "fdinfo/12"}).FD(); !ok || fd != 12 {
		t.Errorf("FD of fdinfo/12 = %d %v", fd, ok)
	}
	if (ProcEntry{Rest: "task"}).Dir() != DirTask || (ProcEntry{TID: 1, Rest: "fd"}).Dir() != DirFD {
		t.Error("Dir")
	}
}

func TestResolve(t *testing.T) {
	links := map[string]string{
		"/proc/self":      "/proc/4321",
		"/proc/4321/fd/3": "/proc/4321/task/4325",
		"/proc/4321/fd/4": "/tmp/dir",
		"/proc/4321/exe":  "/usr/bin/prog",
	}
	link := func(p string) (string, bool, error) {
		if p == "/proc/4321/fd/9" {
			return "", false, unix.ENOENT
		}
		target, ok := links[p]
		return target, ok, nil
	}
	cases := []struct {
		in     string
		follow bool
		want   string
		err    error
	}{
		{"/proc/self/maps", true, "/proc/4321/maps", nil},
		{"/proc/self", false, "/proc/self", nil},
		{"/proc/self", true, "/proc/4321", nil},
		{"/proc/./self/../self/fd/3/comm", true, "/proc/4321/task/4325/comm", nil},
		{"/proc/self/fd/3/../../maps", true, "/proc/4321/maps", nil},
		{"/proc/self/fd/4/../x", true, "/tmp/x", nil},
		{"/proc/self/exe", false, "/proc/4321/exe", nil},
		{"/proc/self/exe", true, "/usr/bin/prog", nil},
		{"/proc/self/fd/9", true, "", unix.ENOENT},
		{"/a/../../b/", true, "/b", nil},
	}
	for _, c := range cases {
		got, err := Resolve(c.in, c.follow, link)
		if got != c.want || err != c.err {
			t.Errorf("Resolve(%q, %v) = %q %v, want %q %v", c.in, c.follow, got, err, c.want, c.err)
		}
	}
	loop := func(p string) (string, bool, error) { return "/l", p == "/l", nil }
	if _, err := Resolve("/l/x", true, loop); err != unix.ELOOP {
		t.Errorf("a loop: %v", err)
	}
}

func TestStatLine(t *testing.T) {
	host := "4321 (xemu) S 1 4321 4321 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 7 0 12345 2147483648 1000 18446744073709551615 4194304 5000000 140737488350000 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 6000000 6100000 7000000 140737488351000 140737488351100 140737488351100 140737488351200 0\n"
	got := Stat(host, StatFields{Name: "a-program-with-a-long-name", Threads: 2, VSize: 8192,
		Signals: StatusSignals{Blocked: 1 << 9, Caught: 0x80000002}})
	want := "4321 (a-program-with-) S 1 4321 4321 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 2 0 12345 8192 1000 18446744073709551615 0 0 0 0 0 0 512 0 2 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	if got != want {
		t.Errorf("Stat:\n%q\nwant\n%q", got, want)
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
