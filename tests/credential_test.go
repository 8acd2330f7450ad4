package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xemu/binfmt"
	"xemu/internal/binfmttest"
	"xemu/internal/testenv"
)

// TestBinfmtCredential: in a chroot, an unprivileged user executes a
// setuid-root program (and, from a guest shell, has it executed) through
// xemu's registration. With --credential (flag C) it runs with euid 0 in
// secure mode (AT_SECURE), as on an ARM machine; without, the kernel runs
// xemu with the caller's credentials and the setuid bit does nothing, which
// is what Linux gives any registration without C. Root only.
func TestBinfmtCredential(t *testing.T) {
	testenv.NeedRoot(t, "chroot, setuid, binfmt_misc")
	sys := binfmt.System{Dir: binfmt.DefaultDir}
	if err := sys.Mount(); err != nil {
		testenv.Unavailable(t, "binfmt_misc: %v", err)
	}
	busybox := filepath.Join(root, ".cache", "arm64-debs", "bin", "busybox")
	requireFile(t, busybox, "make fixtures fetches it")
	// The chroot: busybox as /bin/sh, the setuid program, an empty /proc.
	dir := t.TempDir()
	for _, d := range []string{"bin", "proc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile := func(src, dst string, mode os.FileMode) {
		b, err := os.ReadFile(src)
		if err == nil {
			err = os.WriteFile(dst, b, 0o755)
		}
		if err == nil {
			err = os.Chmod(dst, mode) // after WriteFile: the umask clears the setuid bit
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	copyFile(busybox, filepath.Join(dir, "bin", "sh"), 0o755)
	copyFile(compile(t, aarch64, filepath.Join(root, "tests", "guest", "setuid_ids.c"), "static"), filepath.Join(dir, "ids"), 0o755|os.ModeSetuid)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	binfmttest.DisableOthers(t, sys)
	x := xemu(t)
	prefix := fmt.Sprintf("xemu-cred-test-%d", os.Getpid())
	args := []string{"--arch", "aarch64", "--name-prefix", prefix}
	uninstall := func() {
		runCmd(t, "/", "", testEnv, x, append([]string{"binfmt", "uninstall"}, args...)...)
		if err := sys.Remove(binfmt.EntryName(prefix, "aarch64")); err == nil {
			t.Errorf("%s was left registered", binfmt.EntryName(prefix, "aarch64"))
		}
	}
	t.Cleanup(uninstall)
	// As nobody: directly; from a guest shell in the chroot without /proc
	// (each exec goes through the kernel); and with /proc mounted there,
	// where xemu could run the program itself and must not, or the bit
	// would be lost.
	run := map[string]string{
		"direct":       `chroot --userspec=65534:65534 "$1" /ids`,
		"shell":        `chroot --userspec=65534:65534 "$1" /bin/sh -c /ids`,
		"shell, /proc": `mount -t proc proc "$1/proc" && chroot --userspec=65534:65534 "$1" /bin/sh -c /ids`,
	}
	sbinEnv := append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, testEnv[1:]...)
	for _, c := range []struct {
		flag string
		want string
	}{
		{"--credential", "uid=65534 euid=0 gid=65534 egid=65534 secure=1\n"},
		{"", "uid=65534 euid=65534 gid=65534 egid=65534 secure=0\n"},
	} {
		install := append([]string{"binfmt", "install"}, args...)
		if c.flag != "" {
			install = append(install, c.flag)
		}
		if r := runCmd(t, "/", "", testEnv, x, install...); r.Exit != 0 {
			t.Fatalf("install: %+v", r)
		}
		for _, name := range []string{"direct", "shell", "shell, /proc"} {
			r := runCmdLimit(t, time.Minute, "/", "", sbinEnv, "unshare", "--mount", "--propagation", "private", "sh", "-c", run[name], "sh", dir)
			if r.Stdout != c.want || r.Exit != 0 {
				t.Errorf("install %s, %s: exit %d\n--- got\n%s--- want\n%s--- stderr\n%s", c.flag, name, r.Exit, r.Stdout, c.want, r.Stderr)
			}
		}
		uninstall()
	}
	r := runCmd(t, "/", "", testEnv, x, "binfmt", "--help")
	if !strings.Contains(r.Stdout, "any flaw in xemu becomes a way to root") || !strings.Contains(r.Stdout, "setuid and setgid bits are ignored") {
		t.Errorf("binfmt --help does not say what --credential means for security:\n%s", r.Stdout)
	}
}
