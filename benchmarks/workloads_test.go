package benchmarks

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// Input sizes. The issue asks for 16 MB for the compressors; at that size
// xz -9 alone takes 17 s under qemu-aarch64 here (30 s under xemu), and every
// row runs 5 times under each emulator, so the compressors get a prefix of the
// same tar that fits make bench's 20 minutes. sha256sum reads all 16 MiB.
const (
	xzInput     = 2 << 20
	gzipInput   = 4 << 20
	bzip2Input  = 2 << 20
	xzT2Input   = 2 << 20
	shaInput    = 16 << 20
	bigFileSize = 100 << 20
	pythonLoop  = 3_000_000
	jsonImports = 5
	spawns      = 50 // the 300 take 11 s per run under qemu, 32 s under xemu
)

// step is one guest command of a workload; a run's time is the sum of its
// steps'. Args[0] is a host path to the guest program.
type step struct {
	Args     []string
	Stdin    string   // a host file fed on standard input, or ""
	Dir      string   // working directory, or a fresh temporary one
	QemuArgs []string // the command under qemu-user when it must differ (see spawnLoop)
}

// workload is a command users run, from the Debian root file systems.
type workload struct {
	ID      string // the benchmark's sub-name
	Name    string
	Class   Class
	Sysroot string // --sysroot / -L, or "" for a static program
	Steps   []step
}

// pendingRows are workloads the issue asks for that this harness does not run
// yet, with why.
var pendingRows = []Row{
	{Workload: secondStageName, Arch: "aarch64", Class: SyscallHeavy, Pending: chrootPending},
	{Workload: buildahName, Arch: "aarch64", Class: SyscallHeavy, Pending: chrootPending},
}

var (
	workloadRows   []*Row
	profileScripts = map[string]string{} // row label → shell commands that run the row under xemu, for perf
)

// debArch is Debian's name for a guest architecture.
func debArch(a guestArch) string {
	return map[string]string{"aarch64": "arm64", "armhf": "armhf"}[a.Name]
}

// Inputs shared by every row, made once per make bench in a temporary
// directory removed when the benchmarks end.
var (
	inputsOnce sync.Once
	inputsDir  string
	inputsErr  error
)

// inputs writes data-N (the first N bytes of a tar of the arm64 root file
// system's /usr/share then /usr/lib, in name order, timestamps and owners
// zeroed: real, deterministic data) for each size used, and big (that tar
// repeated to bigFileSize).
func inputs(b *testing.B) string {
	b.Helper()
	inputsOnce.Do(func() {
		rootfs := filepath.Join(root, ".cache", "rootfs-arm64")
		var data []byte
		if data, inputsErr = tarPrefix(rootfs, []string{"usr/share", "usr/lib"}, shaInput); inputsErr != nil {
			return
		}
		if inputsDir, inputsErr = os.MkdirTemp("", "xemu-bench-data-"); inputsErr != nil {
			return
		}
		for _, n := range []int{xzInput, gzipInput, bzip2Input, xzT2Input, shaInput} {
			if inputsErr = os.WriteFile(filepath.Join(inputsDir, fmt.Sprintf("data-%d", n)), data[:n], 0o644); inputsErr != nil {
				return
			}
		}
		big := bytes.Repeat(data, bigFileSize/len(data)+1)[:bigFileSize]
		inputsErr = os.WriteFile(filepath.Join(inputsDir, "big"), big, 0o644)
	})
	if inputsErr != nil {
		b.Fatalf("benchmark inputs: %v (make fixtures)", inputsErr)
	}
	return inputsDir
}

// tarPrefix is the first size bytes of a tar of dirs under root: regular
// files only, in name order, with times and owners zeroed.
func tarPrefix(root string, dirs []string, size int) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	errFull := errors.New("full")
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(root, d), func(path string, e fs.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return err
			}
			content, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			name, _ := filepath.Rel(root, path)
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Format: tar.FormatUSTAR}); err != nil {
				return err
			}
			tw.Write(content)
			if buf.Len() >= size {
				return errFull
			}
			return nil
		})
		if errors.Is(err, errFull) {
			return buf.Bytes()[:size], nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s has less than %d bytes under %v", root, size, dirs)
}

// workloadsFor lists the rows run on a; a row whose programs are missing
// (make fixtures not run) is left out with a message.
func workloadsFor(b *testing.B, a guestArch) []workload {
	rootfs := filepath.Join(root, ".cache", "rootfs-"+debArch(a))
	tools := filepath.Join(root, ".cache", "benchtools-"+debArch(a))
	in := inputs(b)
	data := func(n int) string { return filepath.Join(in, fmt.Sprintf("data-%d", n)) }
	mib := func(n int) string { return fmt.Sprintf("%d MiB", n>>20) }
	xz := filepath.Join(tools, "usr", "bin", "xz")
	bzip2 := filepath.Join(tools, "bin", "bzip2")
	qemu, err := exec.LookPath(a.Qemu)
	if err != nil {
		b.Fatal(err)
	}
	w := []workload{
		{ID: "xz9", Name: "xz -9 -T1, " + mib(xzInput), Class: CPUBound, Sysroot: rootfs,
			Steps: []step{{Args: []string{xz, "-9", "-T1", "-c"}, Stdin: data(xzInput)}}},
		{ID: "gzip9", Name: "gzip -9, " + mib(gzipInput), Class: CPUBound, Sysroot: rootfs,
			Steps: []step{{Args: []string{filepath.Join(rootfs, "bin", "gzip"), "-9", "-c"}, Stdin: data(gzipInput)}}},
		{ID: "bzip2", Name: "bzip2 -9, " + mib(bzip2Input), Class: CPUBound, Sysroot: rootfs,
			Steps: []step{{Args: []string{bzip2, "-9", "-c"}, Stdin: data(bzip2Input)}}},
		{ID: "sha256sum", Name: "sha256sum, " + mib(shaInput), Class: CPUBound, Sysroot: rootfs,
			Steps: []step{{Args: []string{filepath.Join(rootfs, "usr", "bin", "sha256sum")}, Stdin: data(shaInput)}}},
		{ID: "xzT2", Name: "xz -6 -T2 (2 threads), " + mib(xzT2Input), Class: CPUBound, Sysroot: rootfs,
			Steps: []step{{Args: []string{xz, "-6", "-T2", "--block-size=1MiB", "-c"}, Stdin: data(xzT2Input)}}},
	}
	if a.Name == "aarch64" {
		// Python (python3.11 with its standard library) is only fetched for arm64.
		py := filepath.Join(tools, "usr", "bin", "python3.11")
		var imports []step
		for range jsonImports {
			imports = append(imports, step{Args: []string{py, "-I", "-c", "import json"}})
		}
		w = append(w,
			workload{ID: "pyloop", Name: fmt.Sprintf("python3 loop, %d iterations", pythonLoop), Class: CPUBound, Sysroot: tools,
				Steps: []step{{Args: []string{py, "-I", "-c",
					fmt.Sprintf("s = 0\nfor i in range(%d): s += i*i %% 7\nprint(s)", pythonLoop)}}}},
			workload{ID: "pyjson", Name: fmt.Sprintf("python3 -c 'import json' ×%d", jsonImports), Class: CPUBound, Sysroot: tools,
				Steps: imports})
	}
	if a.Name == "aarch64" {
		// gcc is only fetched for arm64 (make fixtures: 180 MB).
		w = append(w, gccCompile(b, qemu, in))
	}
	usr := filepath.Join(rootfs, "usr")
	w = append(w,
		// qemu-user's -L is not a chroot: ls -lR /usr would stat paths on the
		// host. Run in the root file system's /usr with relative paths, so
		// both emulators walk the same tree.
		workload{ID: "findls", Name: "find /usr + ls -lR /usr", Class: SyscallHeavy, Sysroot: rootfs,
			Steps: []step{
				{Args: []string{filepath.Join(usr, "bin", "find"), "."}, Dir: usr},
				{Args: []string{filepath.Join(usr, "bin", "ls"), "-lR", "."}, Dir: usr},
			}},
		workload{ID: "read4k", Name: fmt.Sprintf("read %d MiB in 4 KiB reads", bigFileSize>>20), Class: SyscallHeavy,
			Steps: []step{{Args: []string{compile(b, a, "readfile"), filepath.Join(in, "big")}}}},
		spawnLoop(a, rootfs, qemu),
	)
	var present []workload
	for _, wl := range w {
		missing := ""
		for _, st := range wl.Steps {
			if _, err := os.Stat(st.Args[0]); err != nil {
				missing = st.Args[0]
			}
		}
		if missing != "" {
			b.Logf("%s on %s: %s missing (make fixtures)", wl.Name, a.Name, missing)
			continue
		}
		present = append(present, wl)
	}
	return present
}

// spawnLoop is a guest shell running /bin/true spawns times. qemu-user without
// binfmt_misc (none here) would exec the host's /bin/true natively, so under
// qemu the shell execs qemu-user on the guest's /bin/true, as binfmt_misc
// would: each spawn is then fork + exec + guest start-up under both.
func spawnLoop(a guestArch, rootfs, qemu string) workload {
	loop := func(cmd string) []string {
		return []string{filepath.Join(rootfs, "bin", "sh"), "-c",
			fmt.Sprintf("i=0; while [ $i -lt %d ]; do %s || exit 1; i=$((i+1)); done; echo $i", spawns, cmd)}
	}
	return workload{ID: "spawn", Name: fmt.Sprintf("%d × fork+exec /bin/true from sh", spawns), Class: StartupSpawn, Sysroot: rootfs,
		Steps: []step{{Args: loop("/bin/true"), QemuArgs: loop(shellQuote(qemu) + " -L " + shellQuote(rootfs) + " " + shellQuote(filepath.Join(rootfs, "bin", "true")))}}}
}

// gccCompile is gcc -O2 -c of one of our C kernels, cc1 and as included, from
// Debian's arm64 gcc-12 (its own sysroot), then sha256sum of the object,
// whose line is the output compared. The driver runs cc1 and as as
// subprocesses: under xemu they are execve'd as the guest asks; qemu-user
// without binfmt_misc would exec them natively, so under qemu gcc gets
// -wrapper, a host script that runs each under qemu-user as binfmt_misc would.
func gccCompile(b *testing.B, qemu, in string) workload {
	// gcc finds cc1 next to its own path as /proc/self/exe gives it:
	// symbolic links resolved.
	sysroot, err := filepath.EvalSymlinks(filepath.Join(root, ".cache", "gcc-arm64"))
	if err != nil {
		sysroot = filepath.Join(root, ".cache", "gcc-arm64") // missing: the row is left out
	}
	gcc := filepath.Join(sysroot, "usr", "bin", "aarch64-linux-gnu-gcc-12")
	src := filepath.Join(root, "benchmarks", "kernels", "interp.c")
	// gcc names cc1 by a host path under the sysroot (found relative to its
	// own), and as by its name alone (a PATH search in the sysroot).
	wrapper := filepath.Join(in, "gcc-wrapper-qemu")
	script := fmt.Sprintf("#!/bin/sh\np=$1; shift\ncase $p in %[1]s/*) ;; /*) p=%[1]s$p ;; *) p=%[1]s/usr/bin/$p ;; esac\nexec %[2]s -L %[1]s \"$p\" \"$@\"\n",
		shellQuote(sysroot), shellQuote(qemu))
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		b.Fatal(err)
	}
	args := []string{gcc, "-O2", "-c", src, "-o", "gcc-out.o"}
	qemuArgs := append([]string{gcc, "-wrapper", wrapper}, args[1:]...)
	return workload{ID: "gcc", Name: "gcc -O2 -c of a small C file (cc1, as)", Class: CPUBound, Sysroot: sysroot,
		Steps: []step{
			{Args: args, QemuArgs: qemuArgs},
			{Args: []string{filepath.Join(root, ".cache", "rootfs-arm64", "usr", "bin", "sha256sum"), "gcc-out.o"}},
		}}
}

// outcome is what a run of a workload printed and how it ended.
type outcome struct {
	Sum      string // SHA-256 of every step's stdout, in order
	Bytes    int64
	Head     string // the start of stdout, for messages
	Stderr   string
	Exit     int
	Wall     time.Duration
	RSS      int64 // KiB: the largest peak of its steps
	FailedAt string
}

func (o outcome) same(ref outcome) bool { return o.Sum == ref.Sum && o.Exit == ref.Exit }

func (o outcome) describe() string {
	head := o.Head
	if !utf8.ValidString(head) || strings.ContainsRune(head, 0) {
		head = "(binary)"
	}
	return fmt.Sprintf("exit %d %s; %d bytes out, sha256 %s…\n--- stdout\n%s\n--- stderr\n%s", o.Exit, o.FailedAt, o.Bytes, o.Sum[:12], head, o.Stderr)
}

// headWriter keeps the first bytes written to it.
type headWriter struct {
	h    hash.Hash
	n    int64
	head []byte
}

func (w *headWriter) Write(p []byte) (int, error) {
	w.h.Write(p)
	w.n += int64(len(p))
	if room := 2048 - len(w.head); room > 0 {
		w.head = append(w.head, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// runSteps runs a workload's steps with argv giving each one's command line,
// and stops at the first that fails.
func runSteps(b *testing.B, wl workload, dir string, argv func(step) []string) outcome {
	b.Helper()
	out := &headWriter{h: sha256.New()}
	var o outcome
	for _, st := range wl.Steps {
		args := argv(st)
		cmd := launched(b, args[0], args[1:]...)
		cmd.Dir = dir
		if st.Dir != "" {
			cmd.Dir = st.Dir
		}
		cmd.Env = benchEnv
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = out, &stderr
		if st.Stdin != "" {
			f, err := os.Open(st.Stdin)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			cmd.Stdin = f
		}
		wall, err := cmd.run(b)
		o.Wall += wall
		o.RSS = max(o.RSS, cmd.RSS)
		o.Stderr += firstLine(stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ws := ee.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				o.Exit = 128 + int(ws.Signal())
			} else {
				o.Exit = ws.ExitStatus()
			}
			o.FailedAt = "in " + strings.Join(st.Args, " ")
			break
		} else if err != nil {
			b.Fatalf("%s: %v", args[0], err)
		}
	}
	o.Sum, o.Bytes, o.Head = hex.EncodeToString(out.h.Sum(nil)), out.n, string(out.head)
	return o
}

// measure runs wl under xemu and qemu-user, runs times each, alternating
// which goes first; qemu's first run's output is the reference that every
// other run must repeat.
func measure(b *testing.B, a guestArch, wl workload) *Row {
	b.Helper()
	row := &Row{Workload: wl.Name, Arch: a.Name, Class: wl.Class}
	dir := b.TempDir()
	x := xemu(b)
	xemuArgv := func(st step) []string {
		argv := []string{x}
		if wl.Sysroot != "" {
			argv = append(argv, "--sysroot", wl.Sysroot)
		}
		return append(argv, st.Args...)
	}
	qemuArgv := func(st step) []string {
		argv := []string{a.Qemu}
		if wl.Sysroot != "" {
			argv = append(argv, "-L", wl.Sysroot)
		}
		if st.QemuArgs != nil {
			return append(argv, st.QemuArgs...)
		}
		return append(argv, st.Args...)
	}
	profileScripts[row.label()] = stepsScript(wl, xemuArgv)

	var ref *outcome
	xemuOK := true
	for i := 0; i < runs; i++ {
		order := []bool{false, true} // qemu first, so that its first run is the reference
		if i%2 == 1 {
			order = []bool{true, false}
		}
		for _, isXemu := range order {
			if !isXemu {
				o := runSteps(b, wl, dir, qemuArgv)
				if ref == nil {
					if o.Exit != 0 {
						row.Problem = "qemu fails"
						b.Errorf("%s on %s: qemu fails: %s", wl.Name, a.Name, o.describe())
						return row
					}
					ref = &o
				} else if !o.same(*ref) {
					row.Problem = "qemu's output varies"
					b.Errorf("%s on %s: qemu's output differs between runs:\n%s\n--- then\n%s", wl.Name, a.Name, ref.describe(), o.describe())
					return row
				}
				row.Qemu, row.QemuRSS = append(row.Qemu, o.Wall), append(row.QemuRSS, o.RSS)
				continue
			}
			if !xemuOK {
				continue
			}
			o := runSteps(b, wl, dir, xemuArgv)
			if !o.same(*ref) {
				xemuOK = false
				row.Problem = "output differs"
				if o.Exit != ref.Exit {
					row.Problem = fmt.Sprintf("xemu fails (exit %d)", o.Exit)
				}
				b.Errorf("%s on %s: xemu differs from qemu\n--- qemu: %s\n--- xemu: %s", wl.Name, a.Name, ref.describe(), o.describe())
				continue
			}
			row.Xemu, row.XemuRSS = append(row.Xemu, o.Wall), append(row.XemuRSS, o.RSS)
		}
	}
	if !xemuOK {
		row.Xemu, row.XemuRSS = nil, nil
	}
	return row
}

// BenchmarkWorkloads times programs users run, from the Debian root file
// systems, under xemu and qemu-user; TestMain writes results/workloads.md
// and results/workloads.svg with the CPU kernel, getppid and start-up rows.
func BenchmarkWorkloads(b *testing.B) {
	for _, a := range arches {
		if _, err := os.Stat(filepath.Join(root, ".cache", "rootfs-"+debArch(a), ".done")); err != nil {
			b.Logf("%s: no root file system (make fixtures): skipped", a.Name)
			continue
		}
		for _, wl := range workloadsFor(b, a) {
			b.Run(wl.ID+"/"+a.Name, func(b *testing.B) {
				row := measure(b, a, wl)
				record(&workloadRows, row, func(r *Row) bool { return r.label() == row.label() })
				if ratio, ok := row.Ratio(); ok {
					b.ReportMetric(median(row.Xemu).Seconds()*1000, "xemu-ms")
					b.ReportMetric(median(row.Qemu).Seconds()*1000, "qemu-ms")
					b.ReportMetric(ratio, "xemu/qemu")
				}
			})
		}
	}
}

// stepsScript is a shell script that runs wl's steps under xemu with the
// same inputs, output discarded: what perf records.
func stepsScript(wl workload, argv func(step) []string) string {
	var lines []string
	for _, st := range wl.Steps {
		var words []string
		for _, a := range argv(st) {
			words = append(words, shellQuote(a))
		}
		line := strings.Join(words, " ")
		if st.Stdin != "" {
			line += " < " + shellQuote(st.Stdin)
		}
		if st.Dir != "" {
			line = "(cd " + shellQuote(st.Dir) + " && " + line + ")"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// summaryRows is every row of results/workloads.md: the workloads, the CPU
// kernels, the getppid loop and start-up, then the pending ones.
func summaryRows() []Row {
	var rows []Row
	fromSeries := func(name, arch string, class Class, c comparison) Row {
		return Row{Workload: name, Arch: arch, Class: class, Xemu: c.Xemu.Wall, Qemu: c.Qemu.Wall,
			XemuRSS: c.Xemu.RSS, QemuRSS: c.Qemu.RSS, Problem: c.Problem}
	}
	for _, r := range workloadRows {
		rows = append(rows, *r)
	}
	for _, r := range kernelRows {
		rows = append(rows, fromSeries(kernelName(r.Kernel), r.Arch.Name, CPUBound, r.comparison))
	}
	for _, r := range syscallRows {
		rows = append(rows, fromSeries(getppidName, r.Arch.Name, SyscallHeavy, r.Calls))
	}
	for _, r := range startupRows {
		rows = append(rows, fromSeries(startupName(r.Name), r.Arch.Name, StartupSpawn, comparison{Xemu: r.Xemu, Qemu: r.Qemu, Problem: r.Problem}))
	}
	// By class, then architecture, keeping the order within.
	slices.SortStableFunc(rows, func(p, q Row) int {
		if p.Class != q.Class {
			return int(p.Class) - int(q.Class)
		}
		return strings.Compare(p.Arch, q.Arch)
	})
	return append(rows, pendingRows...)
}

// Names of the rows of the older benchmarks in results/workloads.md.
func kernelName(k kernel) string { return "kernel " + k.Name + " " + strings.Join(k.Args, " ") }

func kernelLabel(k kernel, a guestArch) string {
	return Row{Workload: kernelName(k), Arch: a.Name}.label()
}

var getppidName = fmt.Sprintf("getppid loop, %d calls", syscallCalls)

func getppidLabel(a guestArch) string { return Row{Workload: getppidName, Arch: a.Name}.label() }

func startupName(program string) string { return "start-up, " + program }
