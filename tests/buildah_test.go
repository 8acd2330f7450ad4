package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xemu/binfmt"
)

// Container builds: buildah (Debian's) as root with the vfs storage driver
// and chroot isolation, the way image builds run on CI machines, RUN steps
// executed by whatever the kernel's binfmt_misc runs ARM programs with.

// platforms are the image platforms of the fixtures' architectures.
var platforms = map[string]string{"arm64": "linux/arm64", "armhf": "linux/arm/v7"}

// requireBuildah returns buildah's path. Without it the test fails, as it
// runs as root only (make deps installs buildah).
func requireBuildah(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("buildah")
	if err != nil {
		t.Fatal("buildah is not installed: apt-get install buildah (make deps does)")
	}
	return p
}

// buildahStore is a buildah storage of its own under a temporary directory,
// removed with it.
type buildahStore struct {
	bin  string
	args []string // --root, --runroot, --storage-driver
}

func newBuildahStore(t *testing.T) *buildahStore {
	dir := t.TempDir()
	s := &buildahStore{bin: requireBuildah(t), args: []string{"--root", filepath.Join(dir, "root"),
		"--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"}}
	t.Cleanup(func() {
		// Containers first (they hold their images), then the images;
		// vfs leaves no mounts behind, so the directory can go after.
		s.run(t, "/", time.Minute, "rm", "--all")
		s.run(t, "/", time.Minute, "rmi", "--all", "--force")
	})
	return s
}

func (s *buildahStore) run(t *testing.T, dir string, limit time.Duration, args ...string) result {
	t.Helper()
	env := append([]string{"BUILDAH_ISOLATION=chroot", "TMPDIR=" + t.TempDir()}, testEnv...)
	return runCmdLimit(t, limit, dir, "", env, s.bin, append(append([]string{}, s.args...), args...)...)
}

// bud builds the Containerfile in dir for a platform and returns the
// image's id and the build's output.
func (s *buildahStore) bud(t *testing.T, dir, platform string, limit time.Duration) (id string, r result) {
	t.Helper()
	iid := filepath.Join(dir, ".iid")
	r = s.run(t, dir, limit, "bud", "--isolation", "chroot", "--platform", platform, "--iidfile", iid, "-f", "Containerfile", ".")
	b, _ := os.ReadFile(iid)
	return strings.TrimSpace(string(b)), r
}

// disableOthers disables every enabled handler of ARM or AArch64 programs
// until the test ends.
func disableOthers(t *testing.T, sys binfmt.System) {
	t.Helper()
	entries, err := sys.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Enabled || !(e.Claims(binfmt.Formats[0]) || e.Claims(binfmt.Formats[1])) {
			continue
		}
		if err := sys.SetEnabled(e.Name, false); err != nil {
			t.Fatal(err)
		}
		name := e.Name
		t.Logf("disabled %s for the test", name)
		t.Cleanup(func() {
			if err := sys.SetEnabled(name, true); err != nil {
				t.Errorf("enabling %s again: %v", name, err)
			}
		})
	}
}

// onlyXemu makes xemu the only handler of ARM and AArch64 programs for the
// rest of the test: other handlers are disabled until it ends, then xemu
// is registered under names of the test's own, and unregistered at the
// end. Between the two it calls without(t), for checks that need no
// handler at all. It returns why not without binfmt_misc.
func onlyXemu(t *testing.T, without func(t *testing.T)) error {
	t.Helper()
	sys := binfmt.System{Dir: binfmt.DefaultDir}
	if err := sys.Mount(); err != nil {
		return fmt.Errorf("binfmt_misc: %v", err)
	}
	disableOthers(t, sys)
	if without != nil {
		without(t)
	}
	x := xemu(t)
	// Entry names cannot hold '/', which subtests' names do.
	prefix := fmt.Sprintf("xemu-%s-%d", strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(t.Name(), "Test"), "/", "-")), os.Getpid())
	state := t.TempDir()
	args := []string{"--name-prefix", prefix, "--state-dir", state}
	t.Cleanup(func() {
		runCmd(t, state, "", testEnv, x, append([]string{"binfmt", "uninstall"}, args...)...)
		for _, f := range binfmt.Formats {
			if err := sys.Remove(binfmt.EntryName(prefix, f.Arch)); err == nil {
				t.Errorf("%s was left registered", binfmt.EntryName(prefix, f.Arch))
			}
		}
	})
	if r := runCmd(t, state, "", testEnv, x, append([]string{"binfmt", "install"}, args...)...); r.Exit != 0 {
		t.Fatalf("install: %+v", r)
	}
	return nil
}

// buildahWithoutHandler: with nothing registered for ARM programs, a RUN
// step of an arm64 or arm/v7 image fails with exec format error.
func buildahWithoutHandler(t *testing.T, s *buildahStore) {
	for _, f := range binfmt.Formats {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "probe"), binfmt.Probe(f.Arch), 0o755); err != nil {
			t.Fatal(err)
		}
		cf := "FROM scratch\nCOPY probe /probe\nRUN [\"/probe\"]\n"
		if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(cf), 0o644); err != nil {
			t.Fatal(err)
		}
		platform := map[string]string{"aarch64": platforms["arm64"], "arm": platforms["armhf"]}[f.Arch]
		_, r := s.bud(t, dir, platform, 2*time.Minute)
		if r.Exit == 0 || !strings.Contains(r.Stdout+r.Stderr, "exec format error") {
			t.Errorf("%s without a handler: exit %d, want a failure with exec format error\n%s%s", platform, r.Exit, r.Stdout, r.Stderr)
		}
	}
}

// helloDeb builds a package of architecture all whose postinst prints
// what it runs on: dpkg -i in a RUN step runs it (through sh) under xemu.
func helloDeb(t *testing.T, path string) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: xemu-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: xemu tests <xemu@localhost>\nDescription: postinst test\n"
	postinst := "#!/bin/sh\nset -e\necho \"xemu-hello postinst $1 on $(dpkg --print-architecture)\"\n"
	if err := os.WriteFile(filepath.Join(dir, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "DEBIAN", "postinst"), []byte(postinst), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := runCmd(t, "/", "", testEnv, "dpkg-deb", "--root-owner-group", "-b", dir, path); r.Exit != 0 {
		t.Fatalf("dpkg-deb: %+v", r)
	}
}

// buildahContainerfile is built from a tarball of a completed root file
// system: dpkg (listing, a local package with a postinst), apt-get's and
// apt-cache's offline commands, sh and python3 in RUN steps.
const buildahContainerfile = `FROM scratch
ADD rootfs.tar /
COPY xemu-hello.deb /tmp/
RUN dpkg -l dpkg | tail -n 1 | cut -c1-8 && dpkg -i /tmp/xemu-hello.deb && dpkg-query -W -f '${db:Status-Abbrev}${Package}\n' xemu-hello
RUN apt-get check && apt-cache policy dpkg | sed -n 2p
RUN sh -c 'echo "sh $((6 * 7))"; uname -m' > /sh.out && cat /sh.out
RUN python3 -c 'import os, platform; print("python3", platform.machine(), os.getpid() > 1)'
`

// buildahImage builds buildahContainerfile from the completed root file
// system dir of arch (a second stage's) with python3 added from the
// fixtures, and checks what its RUN steps printed and the image's platform.
func buildahImage(t *testing.T, s *buildahStore, arch, dir string) {
	python := filepath.Join(root, ".cache", "python-"+arch)
	requireFile(t, filepath.Join(python, ".done"), "make fixtures builds it")
	ctx := t.TempDir()
	// python3.11-minimal and its libraries, unpacked: into /usr (the root
	// file system's /lib is a link to usr/lib), never over its own files.
	script := `set -e; cp -an "$1/usr/." "$2/usr/"; cp -an "$1/lib/." "$2/usr/lib/"; ln -sf python3.11 "$2/usr/bin/python3"; ` +
		`tar -C "$2" --numeric-owner -cf "$3/rootfs.tar" .`
	if r := runCmd(t, "/", "", testEnv, "bash", "-c", script, "tar", python, dir, ctx); r.Exit != 0 {
		t.Fatalf("making rootfs.tar: %+v", r)
	}
	helloDeb(t, filepath.Join(ctx, "xemu-hello.deb"))
	if err := os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(buildahContainerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	machine := map[string]string{"arm64": "aarch64", "armhf": "armv7l"}[arch]
	start := time.Now()
	id, r := s.bud(t, ctx, platforms[arch], 10*time.Minute)
	t.Logf("buildah bud %s: %v, exit %d", platforms[arch], time.Since(start).Round(100*time.Millisecond), r.Exit)
	if r.Exit != 0 {
		t.Fatalf("buildah bud: exit %d\n%s%s", r.Exit, r.Stdout, r.Stderr)
	}
	for _, want := range []string{
		"ii  dpkg\n",
		"xemu-hello postinst configure on " + arch + "\n",
		"ii xemu-hello\n",
		"  Installed: 1.21.23\n",
		"sh 42\n" + machine + "\n",
		"python3 " + machine + " True\n",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("build output lacks %q:\n%s%s", want, r.Stdout, r.Stderr)
		}
	}
	osArch := map[string]string{"arm64": "linux/arm64/", "armhf": "linux/arm/v7"}[arch]
	r = s.run(t, "/", time.Minute, "inspect", "--type", "image", "--format", "{{.OCIv1.OS}}/{{.OCIv1.Architecture}}/{{.OCIv1.Variant}}", id)
	if strings.TrimSpace(r.Stdout) != osArch {
		t.Errorf("image platform %q, want %q (%s)", strings.TrimSpace(r.Stdout), osArch, r.Stderr)
	}
}

// TestBinfmtContainerImage builds contrib/binfmt/Containerfile, the image
// that registers xemu (`podman run --privileged IMAGE`), checks its
// entrypoint and runs it with buildah under a name prefix of its own: the
// host kernel then runs ARM programs with the image's xemu (flag F), which
// the host's file system does not have.
func TestBinfmtContainerImage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (buildah, binfmt_misc)")
	}
	s := newBuildahStore(t)
	sys := binfmt.System{Dir: binfmt.DefaultDir}
	if err := sys.Mount(); err != nil {
		t.Skipf("binfmt_misc: %v", err)
	}
	ctx := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ctx, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(xemu(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "bin", "xemu"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	r := s.run(t, ctx, 5*time.Minute, "bud", "--isolation", "chroot", "--iidfile", filepath.Join(ctx, ".iid"), "-f",
		filepath.Join(root, "contrib", "binfmt", "Containerfile"), ".")
	if r.Exit != 0 {
		t.Fatalf("buildah bud: %+v", r)
	}
	b, _ := os.ReadFile(filepath.Join(ctx, ".iid"))
	id := strings.TrimSpace(string(b))
	r = s.run(t, "/", time.Minute, "inspect", "--type", "image", "--format", "{{.OCIv1.Config.Entrypoint}}", id)
	if got := strings.TrimSpace(r.Stdout); got != "[/usr/bin/xemu binfmt install]" {
		t.Errorf("entrypoint %q (%s)", got, r.Stderr)
	}

	// Run as `podman run --privileged IMAGE --name-prefix P --arch aarch64`
	// would, for one architecture under a name of the test's own, with
	// the other handlers disabled so that the live check below sees it.
	name := fmt.Sprintf("xemu-image-test-%d", os.Getpid())
	entry := binfmt.EntryName(name, "aarch64")
	t.Cleanup(func() {
		if err := sys.Remove(entry); err == nil {
			t.Logf("removed %s", entry)
		}
	})
	disableOthers(t, sys)
	r = s.run(t, "/", time.Minute, "from", "--name", name, id)
	if r.Exit != 0 {
		t.Fatalf("buildah from: %+v", r)
	}
	r = s.run(t, "/", time.Minute, "run", "--isolation", "chroot", name, "--",
		"/usr/bin/xemu", "binfmt", "install", "--name-prefix", name, "--arch", "aarch64")
	if r.Exit != 0 || !strings.Contains(r.Stdout, "registered "+entry) {
		t.Fatalf("xemu binfmt install in the container: %+v", r)
	}
	e, err := sys.Entry(entry)
	if err != nil {
		t.Fatalf("after the container ran: %v", err)
	}
	if !e.Enabled || e.Interpreter != "/usr/bin/xemu" || e.Flags != "PF" {
		t.Errorf("entry %+v", e)
	}
	if err := binfmt.LiveCheck(binfmt.Formats[0], binfmt.ProbeDirs()); err != nil {
		t.Errorf("an AArch64 program executed on the host: %v", err)
	}
}
