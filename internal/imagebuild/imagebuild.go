// Package imagebuild is the container image build that tests and benchmarks
// run with buildah (Debian's, as root, vfs storage, chroot isolation: how
// image builds run on CI machines): an arm64 or arm/v7 image from a
// completed Debian root file system, whose RUN steps run dpkg with a
// postinst script, apt-get's and apt-cache's offline commands, sh and
// python3, executed by whatever binfmt_misc runs ARM programs with.
package imagebuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Platforms are the image platforms of the Debian architectures.
var Platforms = map[string]string{"arm64": "linux/arm64", "armhf": "linux/arm/v7"}

// Containerfile is built from a tarball of a completed root file system.
const Containerfile = `FROM scratch
ADD rootfs.tar /
COPY xemu-hello.deb /tmp/
RUN dpkg -l dpkg | tail -n 1 | cut -c1-8 && dpkg -i /tmp/xemu-hello.deb && dpkg-query -W -f '${db:Status-Abbrev}${Package}\n' xemu-hello
RUN apt-get check && apt-cache policy dpkg | sed -n 2p
RUN sh -c 'echo "sh $((6 * 7))"; uname -m' > /sh.out && cat /sh.out
RUN python3 -c 'import os, platform; print("python3", platform.machine(), os.getpid() > 1)'
`

// Wants are what Containerfile's RUN steps print on arch, as they do on a
// machine of that architecture.
func Wants(arch string) []string {
	machine := map[string]string{"arm64": "aarch64", "armhf": "armv7l"}[arch]
	return []string{
		"ii  dpkg\n",
		"xemu-hello postinst configure on " + arch + "\n",
		"ii xemu-hello\n",
		"  Installed: 1.21.23\n",
		"sh 42\n" + machine + "\n",
		"python3 " + machine + " True\n",
	}
}

// Context writes a build context for Containerfile into ctx: rootfs.tar of
// the completed root file system rootfs, to which it adds python3.11-minimal
// and its libraries (unpacked in the directory python), never over its own
// files, and the package xemu-hello.deb.
func Context(ctx, rootfs, python string) error {
	// Into /usr: the root file system's /lib is a link to usr/lib.
	script := `set -e; cp -an "$1/usr/." "$2/usr/"; cp -an "$1/lib/." "$2/usr/lib/"; ln -sf python3.11 "$2/usr/bin/python3"; ` +
		`tar -C "$2" --numeric-owner -cf "$3/rootfs.tar" .`
	if out, err := exec.Command("bash", "-c", script, "tar", python, rootfs, ctx).CombinedOutput(); err != nil {
		return fmt.Errorf("making rootfs.tar: %v\n%s", err, out)
	}
	if err := helloDeb(filepath.Join(ctx, "xemu-hello.deb")); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(Containerfile), 0o644)
}

// helloDeb builds a package of architecture all whose postinst prints what
// it runs on: dpkg -i in a RUN step runs it (through sh) under the emulator.
func helloDeb(path string) error {
	dir, err := os.MkdirTemp("", "xemu-hello-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "DEBIAN"), 0o755); err != nil {
		return err
	}
	control := "Package: xemu-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: xemu tests <xemu@localhost>\nDescription: postinst test\n"
	postinst := "#!/bin/sh\nset -e\necho \"xemu-hello postinst $1 on $(dpkg --print-architecture)\"\n"
	if err := os.WriteFile(filepath.Join(dir, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "DEBIAN", "postinst"), []byte(postinst), 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-b", dir, path).CombinedOutput(); err != nil {
		return fmt.Errorf("dpkg-deb: %v\n%s", err, out)
	}
	return nil
}

// Store is a buildah storage of its own, under a temporary directory of
// the test's, emptied when the test ends.
type Store struct {
	Bin  string
	Args []string // --root, --runroot, --storage-driver
	tmp  string
}

// NewStore makes a Store, or says why buildah is missing.
func NewStore(tb testing.TB) (*Store, error) {
	bin, err := exec.LookPath("buildah")
	if err != nil {
		return nil, fmt.Errorf("buildah is not installed: apt-get install buildah (make deps does)")
	}
	dir := tb.TempDir()
	s := &Store{Bin: bin, Args: []string{"--root", filepath.Join(dir, "root"),
		"--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"}, tmp: tb.TempDir()}
	tb.Cleanup(func() {
		// Containers first (they hold their images), then the images;
		// vfs leaves no mounts behind, so the directory can go after.
		for _, args := range [][]string{{"rm", "--all"}, {"rmi", "--all", "--force"}} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			s.command(ctx, "/", args...).Run()
			cancel()
		}
	})
	return s, nil
}

// Env is buildah's environment.
func (s *Store) Env(base []string) []string {
	return append([]string{"BUILDAH_ISOLATION=chroot", "TMPDIR=" + s.tmp}, base...)
}

// Argv is buildah's arguments for `buildah ARGS` on this store.
func (s *Store) Argv(args ...string) []string {
	return append(append([]string{}, s.Args...), args...)
}

func (s *Store) command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.Bin, s.Argv(args...)...)
	cmd.Dir = dir
	cmd.Env = s.Env(os.Environ())
	return cmd
}

// BudArgs are buildah's arguments to build dir/Containerfile for platform,
// writing the image's id to iidFile.
func BudArgs(dir, platform, iidFile string) []string {
	return []string{"bud", "--isolation", "chroot", "--platform", platform, "--iidfile", iidFile, "-f", filepath.Join(dir, "Containerfile"), dir}
}
