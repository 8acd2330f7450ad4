package benchmarks

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xemu/binfmt"
	"xemu/internal/binfmttest"
	"xemu/internal/imagebuild"
)

// Rows where the kernel runs every guest program through binfmt_misc, as
// users run a foreign root file system: debootstrap's second stage in a
// chroot, and an image build with buildah. Each is minutes long, so each
// emulator runs it once, and not in a QUICK run.
const (
	secondStageName = "debootstrap --second-stage in a chroot (binfmt_misc; 1 run each)"
	buildahName     = "buildah bud, 4 RUN steps: dpkg -i, apt, sh, python3 (binfmt_misc; 1 run each)"
	chrootPending   = "BenchmarkChroot did not run: it needs root and binfmt_misc, and is left out of QUICK runs"
	// chrootLimit bounds one second stage: qemu-user takes about 100 s on an
	// idle machine, 19 minutes were seen at load average 14.
	chrootLimit = 30 * time.Minute
)

// qemuStatic is qemu-user-static's qemu-aarch64, unpacked by make bench:
// binfmt_misc runs the handler inside the chroot, where the dynamic
// qemu-aarch64 finds none of its host libraries. (The package conflicts with
// qemu-user-binfmt, so it is unpacked, not installed.)
func qemuStatic() string {
	return filepath.Join(root, ".cache", "qemu-static", "usr", "bin", "qemu-aarch64-static")
}

// chrootEnv is the environment of the second stage and the builds.
var chrootEnv = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C", "TZ=UTC"}

// handler is an emulator as binfmt_misc's handler of AArch64 programs.
type handler struct {
	Name        string // "xemu" or "qemu"
	Interpreter string
}

// setPending gives the chroot rows a reason for having no timings.
func setPending(why string) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	for i, r := range pendingRows {
		if r.Workload == secondStageName || r.Workload == buildahName {
			pendingRows[i].Pending = why
		}
	}
}

// measured takes a row out of the pending ones and into the table.
func recordChroot(row *Row) {
	resultsMu.Lock()
	pendingRows = slices.DeleteFunc(pendingRows, func(r Row) bool { return r.label() == row.label() })
	resultsMu.Unlock()
	record(&workloadRows, row, func(r *Row) bool { return r.label() == row.label() })
}

// BenchmarkChroot completes debootstrap's arm64 second stage in a copy of
// the first stage under each emulator, then builds imagebuild's image from
// qemu's result under each. Each emulator is registered in turn as the only
// enabled handler of AArch64 programs, with the same flags (F and P), for
// its runs only; other handlers are disabled meanwhile and enabled again
// after.
func BenchmarkChroot(b *testing.B) {
	skip := func(format string, args ...any) {
		why := fmt.Sprintf(format, args...)
		setPending(why)
		b.Skip(why)
	}
	switch {
	case quick:
		skip("not in a QUICK run: a second stage takes minutes")
	case os.Geteuid() != 0:
		skip("needs root (chroot, binfmt_misc)")
	}
	first := filepath.Join(root, ".cache", "rootfs-arm64")
	python := filepath.Join(root, ".cache", "python-arm64")
	for _, f := range []string{filepath.Join(first, ".done"), filepath.Join(python, ".done"), qemuStatic()} {
		if _, err := os.Stat(f); err != nil {
			skip("%s missing (make bench fetches it)", f)
		}
	}
	sys := binfmt.System{Dir: binfmt.DefaultDir}
	if err := sys.Mount(); err != nil {
		skip("binfmt_misc: %v", err)
	}
	store, err := imagebuild.NewStore(b)
	if err != nil {
		skip("%v", err)
	}
	binfmttest.DisableOthers(b, sys)
	handlers := []handler{{"qemu", qemuStatic()}, {"xemu", xemu(b)}}
	name := fmt.Sprintf("xemu-bench-%d-aarch64", os.Getpid())
	// as runs argv with h registered, returning the wall time, peak RSS
	// and output, or an error.
	as := func(b *testing.B, h handler, dir string, env []string, argv ...string) (time.Duration, int64, string, error) {
		remove := binfmttest.Register(b, sys, binfmt.ForFormat(name, binfmt.Formats[0], h.Interpreter, "FP"))
		defer remove()
		cmd := launched(b, argv[0], argv[1:]...)
		cmd.Dir, cmd.Env, cmd.Limit = dir, env, chrootLimit
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		wall, err := cmd.run(b)
		return wall, cmd.RSS, out.String(), err
	}

	base := b.TempDir()
	trees := map[string]string{}
	b.Run("second-stage/aarch64", func(b *testing.B) {
		row := &Row{Workload: secondStageName, Arch: "aarch64", Class: SyscallHeavy}
		var ref string
		for _, h := range handlers {
			dir := filepath.Join(base, h.Name)
			if out, err := exec.Command("cp", "-a", first, dir).CombinedOutput(); err != nil {
				b.Fatalf("copying the first stage: %v\n%s", err, out)
			}
			// The second stage mounts /proc and /sys in the chroot: in a
			// mount namespace of its own, they go with it.
			wall, rss, out, err := as(b, h, "/", chrootEnv, "unshare", "--mount", "--propagation", "private",
				"chroot", dir, "/bin/sh", "/debootstrap/debootstrap", "--second-stage")
			b.Logf("second stage under %s: %v, exit %v", h.Name, wall.Round(time.Second), err)
			status, serr := dpkgStatus(dir)
			if err != nil || serr != nil || !strings.Contains(out, "I: Base system installed successfully.") {
				row.Problem = h.Name + " fails"
				log, _ := os.ReadFile(filepath.Join(dir, "debootstrap", "debootstrap.log"))
				b.Errorf("second stage under %s: %v %v\n%s\n--- debootstrap.log (end)\n%s", h.Name, err, serr, lastBytes(out, 2000), lastBytes(string(log), 2000))
				break
			}
			if ref == "" {
				ref = status
			} else if status != ref {
				row.Problem = "output differs"
				b.Errorf("packages after the second stage under %s differ from qemu's:\n%s\n--- qemu's\n%s", h.Name, status, ref)
				break
			}
			trees[h.Name] = dir
			if h.Name == "xemu" {
				row.Xemu, row.XemuRSS = []time.Duration{wall}, []int64{rss}
			} else {
				row.Qemu, row.QemuRSS = []time.Duration{wall}, []int64{rss}
			}
		}
		recordChroot(row)
		if ratio, ok := row.Ratio(); ok {
			b.ReportMetric(ratio, "xemu/qemu")
		}
	})

	b.Run("buildah/aarch64", func(b *testing.B) {
		row := &Row{Workload: buildahName, Arch: "aarch64", Class: SyscallHeavy}
		defer recordChroot(row)
		if trees["qemu"] == "" {
			row.Problem = "no root file system: qemu's second stage failed"
			b.Skip(row.Problem)
		}
		ctx := b.TempDir()
		if err := imagebuild.Context(ctx, trees["qemu"], python); err != nil {
			b.Fatal(err)
		}
		for _, h := range handlers {
			argv := append([]string{store.Bin}, store.Argv(imagebuild.BudArgs(ctx, imagebuild.Platforms["arm64"], filepath.Join(ctx, ".iid"))...)...)
			// RSS is left out: the largest process is buildah's own.
			wall, _, out, err := as(b, h, ctx, store.Env(chrootEnv), argv...)
			b.Logf("buildah bud under %s: %v, exit %v", h.Name, wall.Round(100*time.Millisecond), err)
			var missing []string
			for _, w := range imagebuild.Wants("arm64") {
				if !strings.Contains(out, w) {
					missing = append(missing, w)
				}
			}
			if err != nil || len(missing) > 0 {
				row.Problem = h.Name + " fails"
				b.Errorf("buildah bud under %s: %v, output lacks %q\n%s", h.Name, err, missing, lastBytes(out, 3000))
				return
			}
			if h.Name == "xemu" {
				row.Xemu = []time.Duration{wall}
			} else {
				row.Qemu = []time.Duration{wall}
			}
			// The next build starts from the same empty storage.
			if out, err := exec.Command(store.Bin, store.Argv("rmi", "--all", "--force")...).CombinedOutput(); err != nil {
				b.Fatalf("buildah rmi: %v\n%s", err, out)
			}
		}
		if ratio, ok := row.Ratio(); ok {
			b.ReportMetric(ratio, "xemu/qemu")
		}
	})
}

// dpkgStatus is every package of a root file system with its version and
// status, sorted; an error if one is not "install ok installed".
func dpkgStatus(rootfs string) (string, error) {
	b, err := os.ReadFile(filepath.Join(rootfs, "var", "lib", "dpkg", "status"))
	if err != nil {
		return "", err
	}
	var pkgs []string
	for _, para := range strings.Split(string(b), "\n\n") {
		fields := map[string]string{}
		for _, l := range strings.Split(para, "\n") {
			if k, v, ok := strings.Cut(l, ": "); ok {
				fields[k] = v
			}
		}
		if fields["Package"] == "" {
			continue
		}
		if fields["Status"] != "install ok installed" {
			return "", fmt.Errorf("%s: %s", fields["Package"], fields["Status"])
		}
		pkgs = append(pkgs, fields["Package"]+" "+fields["Version"])
	}
	slices.Sort(pkgs)
	return strings.Join(pkgs, "\n"), nil
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
