package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a small directory tree the real-binary tests read, made fresh so
// xemu and qemu see the same files.
func fixture(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	files := map[string]string{
		"a.txt":        "banana\napple\ncherry\napple\n",
		"b.txt":        "one two three\nfour five\n",
		"sub/c.txt":    "deep\n",
		"sub/d.csv":    "x,1\ny,2\nz,3\n",
		"sub/e/f.conf": "key=value\n",
	}
	for name, body := range files {
		p := filepath.Join(d, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func requireFile(t *testing.T, p, how string) {
	t.Helper()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing (%s)", p, how)
	}
}

// runBothIn runs the same command line under xemu and qemu in one directory.
func runBothIn(t *testing.T, a guestArch, dir, sysroot string, prog string, args ...string) (x, q result) {
	t.Helper()
	var xargs, qargs []string
	if sysroot != "" {
		xargs = append(xargs, "--sysroot", sysroot)
		qargs = append(qargs, "-L", sysroot)
	}
	xargs = append(append(xargs, prog), args...)
	qargs = append(append(qargs, prog), args...)
	x = runCmd(t, dir, "", testEnv, xemu(t), xargs...)
	q = runCmd(t, dir, "", testEnv, a.Qemu, qargs...)
	return x, q
}

// busyboxCmds are busybox command lines; "_" stands for a space inside an
// argument.
var busyboxCmds = []string{
	"sh -c x=3;y=4;echo_$((x*y))_${#x};for_i_in_1_2_3;do_echo_$i;done",
	"ls -la sub",
	"ls -R .",
	"sha256sum a.txt b.txt sub/c.txt",
	"md5sum a.txt",
	"tar cf - a.txt sub",
	"awk -F, {s+=$2}END{print_s,NR} sub/d.csv",
	"sort -u a.txt",
	"sort -r -k2 b.txt",
	"find . -name *.txt",
	"wc a.txt b.txt",
	"grep -n apple a.txt",
	"sed s/apple/pear/g a.txt",
	"head -n 2 a.txt",
	"cut -d, -f2 sub/d.csv",
	"uname -m",
	"expr 6 * 7",
	"seq 5",
	"cat nonexistent",
	"false",
}

// coreutilsCmds are command lines run from a Debian root file system.
var coreutilsCmds = [][]string{
	{"/bin/ls", "-l", "--time-style=+%Y", "sub"},
	{"/bin/ls", "-a", "-R"},
	{"/bin/cat", "a.txt", "b.txt"},
	{"/usr/bin/sha256sum", "a.txt", "sub/c.txt"},
	{"/usr/bin/sort", "a.txt"},
	{"/usr/bin/wc", "-l", "a.txt", "b.txt"},
	{"/usr/bin/head", "-c", "10", "b.txt"},
	{"/usr/bin/tail", "-n", "1", "a.txt"},
	{"/bin/date", "-u", "-d", "@86400", "+%Y-%m-%d %H:%M"},
	{"/bin/uname", "-m"},
	{"/usr/bin/id", "-u"},
	{"/usr/bin/stat", "-c", "%s %F %a", "a.txt", "sub"},
	{"/usr/bin/seq", "3", "9"},
	{"/usr/bin/basename", "/a/b/c.txt", ".txt"},
	{"/usr/bin/printf", "%05d|%s\n", "42", "x"},
	{"/usr/bin/tr", "a-z", "A-Z"},
	{"/usr/bin/du", "-s", "--apparent-size", "sub"},
	{"/bin/mkdir", "-p", "new/dir"},
	{"/usr/bin/cksum", "a.txt"},
	{"/usr/bin/nproc"},
	{"/usr/bin/od", "-c", "sub/c.txt"},
	{"/bin/ls", "/nonexistent"},
	{"/usr/bin/sha512sum", "b.txt"},
	{"/usr/bin/factor", "1234567"},
}

// testBusybox runs Debian's busybox-static (downloaded by make fixtures into
// debs) under xemu and qemu-user for arch.
func testBusybox(t *testing.T, a guestArch, debs string) {
	bb := filepath.Join(root, ".cache", debs, "bin", "busybox")
	requireFile(t, bb, "make fixtures downloads it")
	dir := fixture(t)
	for _, c := range busyboxCmds {
		args := strings.Fields(c)
		for i := range args {
			args[i] = strings.ReplaceAll(args[i], "_", " ")
		}
		t.Run(strings.ReplaceAll(c, "/", "|"), func(t *testing.T) {
			x, q := runBothIn(t, a, dir, "", bb, args...)
			compare(t, c, x, q)
		})
	}
}

// testCoreutils runs coreutils from a Debian root file system (made by make
// fixtures), with the root file system as sysroot (dynamic linking through it).
func testCoreutils(t *testing.T, a guestArch, rootfsDir string) {
	rootfs := filepath.Join(root, ".cache", rootfsDir)
	requireFile(t, filepath.Join(rootfs, ".done"), "make fixtures makes it")
	dir := fixture(t)
	for _, c := range coreutilsCmds {
		t.Run(strings.ReplaceAll(strings.Join(c, " "), "/", "|"), func(t *testing.T) {
			x, q := runBothIn(t, a, dir, rootfs, filepath.Join(rootfs, c[0]), c[1:]...)
			compare(t, strings.Join(c, " "), x, q)
		})
	}
}

func TestBusyboxArm64(t *testing.T)         { testBusybox(t, aarch64, "arm64-debs") }
func TestCoreutilsRootfsArm64(t *testing.T) { testCoreutils(t, aarch64, "rootfs-arm64") }
