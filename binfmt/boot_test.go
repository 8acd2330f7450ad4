package binfmt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeepFromBoot: a handler install replaced stays out of the files
// systemd-binfmt reads at boot, the other lines of its file stay in, and
// uninstall puts every file back as it was, for an original in a later
// directory (hidden by a file in /etc/binfmt.d) and for one in
// /etc/binfmt.d itself (moved aside).
func TestKeepFromBoot(t *testing.T) {
	tmp := t.TempDir()
	etc, usr := filepath.Join(tmp, "etc"), filepath.Join(tmp, "usr")
	os.MkdirAll(etc, 0o755)
	os.MkdirAll(usr, 0o755)
	in := Installer{Sys: System{Dir: filepath.Join(tmp, "nobinfmt")}, ConfDir: etc, BootDirs: []string{usr}}
	qemuA64 := `:qemu-aarch64:M::\x7fELF\x02:\xff\xff\xff\xff\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:POCF`
	qemuArm := `:qemu-arm:M::\x7fELF\x01:\xff\xff\xff\xff\xff:/usr/libexec/qemu-binfmt/arm-binfmt-P:POCF`
	other := `,python3.11,M,,\x6f\x0d,,/usr/bin/python3.11,`
	files := map[string]string{
		filepath.Join(usr, "qemu-aarch64.conf"): "# qemu\n" + qemuA64 + "\n",
		filepath.Join(usr, "mixed.conf"):        qemuArm + "\n" + other + "\n",
		filepath.Join(usr, "hidden.conf"):       qemuArm + "\n",
		filepath.Join(etc, "hidden.conf"):       "# the admin's, hiding usr's\n",
		filepath.Join(etc, "local.conf"):        "# local\n" + qemuArm + "\n",
	}
	for p, text := range files {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	done, err := in.keepFromBoot("qemu-aarch64", "aarch64")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := in.keepFromBoot("qemu-arm", "arm"); err != nil {
		t.Fatal(err)
	} else {
		done = append(done, d...)
	}
	t.Logf("install:\n%s", strings.Join(done, "\n"))
	// What systemd-binfmt would register now.
	boot := func() (names []string) {
		for _, p := range in.bootFiles() {
			b, _ := os.ReadFile(p)
			for _, l := range strings.Split(string(b), "\n") {
				if n := confLineName(l); n != "" {
					names = append(names, n)
				}
			}
		}
		return names
	}
	if got := strings.Join(boot(), " "); got != "python3.11" {
		t.Errorf("registered at boot after install: %q, want python3.11 alone", got)
	}
	if _, err := os.Stat(filepath.Join(etc, "local.conf"+asideSuffix)); err != nil {
		t.Errorf("/etc's own file not moved aside: %v", err)
	}
	// Uninstalling arm alone brings back qemu-arm, not qemu-aarch64.
	if _, err := in.restoreBoot([]string{"arm"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(boot(), " "); strings.Count(got, "qemu-arm") != 2 || strings.Contains(got, "qemu-aarch64") {
		t.Errorf("registered at boot after uninstalling arm: %q", got)
	}
	if _, err := in.restoreBoot([]string{"aarch64"}); err != nil {
		t.Fatal(err)
	}
	for p, text := range files {
		if b, err := os.ReadFile(p); err != nil || string(b) != text {
			t.Errorf("%s after uninstall: %q, %v; want %q", p, b, err, text)
		}
	}
	left, _ := filepath.Glob(filepath.Join(etc, "*"))
	if len(left) != 2 {
		t.Errorf("files left in etc: %v", left)
	}
}
