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
	"xemu/internal/imagebuild"
)

// Container builds: buildah (Debian's) as root with the vfs storage driver
// and chroot isolation, the way image builds run on CI machines, RUN steps
// executed by whatever the kernel's binfmt_misc runs ARM programs with.

// buildahStore is a buildah storage of its own under a temporary directory,
// removed with it.
type buildahStore struct{ *imagebuild.Store }

func newBuildahStore(t *testing.T) *buildahStore {
	s, err := imagebuild.NewStore(t)
	if err != nil {
		// Root only, where make deps installs buildah.
		t.Fatal(err)
	}
	return &buildahStore{s}
}

func (s *buildahStore) run(t *testing.T, dir string, limit time.Duration, args ...string) result {
	t.Helper()
	return runCmdLimit(t, limit, dir, "", s.Env(testEnv), s.Bin, s.Argv(args...)...)
}

// bud builds the Containerfile in dir for a platform and returns the
// image's id and the build's output.
func (s *buildahStore) bud(t *testing.T, dir, platform string, limit time.Duration) (id string, r result) {
	t.Helper()
	iid := filepath.Join(dir, ".iid")
	r = s.run(t, dir, limit, imagebuild.BudArgs(dir, platform, iid)...)
	b, _ := os.ReadFile(iid)
	return strings.TrimSpace(string(b)), r
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
	binfmttest.DisableOthers(t, sys)
	if without != nil {
		without(t)
	}
	x := xemu(t)
	// Entry names cannot hold '/', which subtests' names do.
	prefix := fmt.Sprintf("xemu-%s-%d", strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(t.Name(), "Test"), "/", "-")), os.Getpid())
	work := t.TempDir()
	args := []string{"--name-prefix", prefix}
	t.Cleanup(func() {
		runCmd(t, work, "", testEnv, x, append([]string{"binfmt", "uninstall"}, args...)...)
		for _, f := range binfmt.Formats {
			if err := sys.Remove(binfmt.EntryName(prefix, f.Arch)); err == nil {
				t.Errorf("%s was left registered", binfmt.EntryName(prefix, f.Arch))
			}
		}
	})
	if r := runCmd(t, work, "", testEnv, x, append([]string{"binfmt", "install"}, args...)...); r.Exit != 0 {
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
		platform := map[string]string{"aarch64": imagebuild.Platforms["arm64"], "arm": imagebuild.Platforms["armhf"]}[f.Arch]
		_, r := s.bud(t, dir, platform, 2*time.Minute)
		if r.Exit == 0 || !strings.Contains(r.Stdout+r.Stderr, "exec format error") {
			t.Errorf("%s without a handler: exit %d, want a failure with exec format error\n%s%s", platform, r.Exit, r.Stdout, r.Stderr)
		}
	}
}

// buildahImage builds imagebuild.Containerfile from the completed root
// file system dir of arch (a second stage's) with python3 added from the
// fixtures, and checks what its RUN steps printed and the image's platform.
func buildahImage(t *testing.T, s *buildahStore, arch, dir string) {
	python := filepath.Join(root, ".cache", "python-"+arch)
	requireFile(t, filepath.Join(python, ".done"), "make fixtures builds it")
	ctx := t.TempDir()
	if err := imagebuild.Context(ctx, dir, python); err != nil {
		t.Fatal(err)
	}
	platform := imagebuild.Platforms[arch]
	start := time.Now()
	id, r := s.bud(t, ctx, platform, 10*time.Minute)
	t.Logf("buildah bud %s: %v, exit %d", platform, time.Since(start).Round(100*time.Millisecond), r.Exit)
	if r.Exit != 0 {
		t.Fatalf("buildah bud: exit %d\n%s%s", r.Exit, r.Stdout, r.Stderr)
	}
	for _, want := range imagebuild.Wants(arch) {
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

	// Run as `podman run --privileged IMAGE --name-prefix P --arch aarch64
	// --replace` would, for one architecture under a name of the test's
	// own, with the machine's handlers disabled so that the live check
	// below sees it, and one of the test's own to replace: xemu again,
	// without P, so that programs other tests execute meanwhile still run.
	name := fmt.Sprintf("xemu-image-test-%d", os.Getpid())
	entry := binfmt.EntryName(name, "aarch64")
	other := name + "-other"
	t.Cleanup(func() {
		entries, _ := sys.Entries()
		for _, e := range entries {
			if e.Name == entry || strings.HasPrefix(e.Name, entry+".") {
				sys.Remove(e.Name)
				t.Errorf("%s was left registered", e.Name)
			}
		}
	})
	binfmttest.DisableOthers(t, sys)
	binfmttest.Register(t, sys, binfmt.ForFormat(other, binfmt.Formats[0], xemu(t), "F"))
	r = s.run(t, "/", time.Minute, "from", "--name", name, id)
	if r.Exit != 0 {
		t.Fatalf("buildah from: %+v", r)
	}
	r = s.run(t, "/", time.Minute, "run", "--isolation", "chroot", name, "--",
		"/usr/bin/xemu", "binfmt", "install", "--name-prefix", name, "--arch", "aarch64", "--replace")
	if r.Exit != 0 || !strings.Contains(r.Stdout, "registered "+entry) || !strings.Contains(r.Stdout, "disabled "+other) {
		t.Fatalf("xemu binfmt install in the container: %+v", r)
	}
	e, err := sys.Entry(entry)
	if err != nil {
		t.Fatalf("after the container ran: %v", err)
	}
	if !e.Enabled || e.Interpreter != "/usr/bin/xemu" || e.Flags != "PF" {
		t.Errorf("entry %+v", e)
	}
	if o, err := sys.Entry(other); err != nil || o.Enabled {
		t.Errorf("the replaced handler after the container ran: %+v, %v; want it disabled", o, err)
	}
	if err := binfmt.LiveCheck(binfmt.Formats[0], binfmt.ProbeDirs()); err != nil {
		t.Errorf("an AArch64 program executed on the host: %v", err)
	}

	// The container and its /run are gone: uninstall on the host still
	// enables the handler that install replaced, and leaves nothing.
	r = runCmd(t, "/", "", testEnv, xemu(t), "binfmt", "uninstall", "--name-prefix", name, "--arch", "aarch64")
	if r.Exit != 0 || !strings.Contains(r.Stdout, "enabled again "+other) {
		t.Errorf("uninstall on the host: %+v", r)
	}
	if o, err := sys.Entry(other); err != nil || !o.Enabled {
		t.Errorf("the replaced handler after uninstall: %+v, %v; want it enabled", o, err)
	}
	entries, err := sys.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name == entry || strings.HasPrefix(e.Name, entry+".") {
			t.Errorf("%s is still registered after uninstall", e.Name)
		}
	}
}
