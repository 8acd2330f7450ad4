// Package benchmarks times xemu against qemu-user on guest programs of our own
// (benchmarks/kernels/*.c), compiled for each guest architecture, and writes the
// ratios to results/cpu.md (start-up: results/startup.md). Run it with make bench.
//
// Timings are reported, never asserted: a benchmark fails only when xemu's
// output differs from qemu's on an architecture xemu supports.
package benchmarks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// quick is make bench QUICK=1: one timed run of each emulator per row, the
// reference run included, for a developer's check in a few minutes.
var quick = os.Getenv("QUICK") != "" && os.Getenv("QUICK") != "0"

// runs is how many timed runs each emulator gets per row; they alternate.
var runs = map[bool]int{false: 5, true: 1}[quick]

// runLimit bounds one run of one program.
const runLimit = 5 * time.Minute

// guestArch is a guest architecture: how to build for it and which qemu-user
// runs it.
type guestArch struct {
	Name      string
	CC        string
	CFlags    []string
	Qemu      string
	Supported bool // xemu runs it: a wrong output fails the benchmark; if false, it is reported as "not supported yet"
}

var arches = []guestArch{
	{Name: "aarch64", CC: "aarch64-linux-gnu-gcc", Qemu: "qemu-aarch64", Supported: true},
	{Name: "armhf", CC: "arm-linux-gnueabihf-gcc", Qemu: "qemu-arm",
		CFlags: []string{"-march=armv7-a", "-mfpu=neon-vfpv4", "-mfloat-abi=hard"}, Supported: true},
}

// host builds the same sources natively, to show what a system call costs on
// this machine without an emulator.
var host = guestArch{Name: "x86-64", CC: "gcc"}

// kernel is one CPU benchmark program with arguments sized for 1–3 s under
// qemu-aarch64 on a 2-core EPYC VM, and the xemu/qemu ratio we aim for.
type kernel struct {
	Name   string
	Args   []string
	Target float64
}

var kernels = []kernel{
	{Name: "sha256", Args: []string{"48"}, Target: 1.0},
	{Name: "matmul", Args: []string{"256", "8"}, Target: 1.2},
	{Name: "sieve", Args: []string{"20000000", "6"}, Target: 1.0},
	{Name: "interp", Args: []string{"150000"}, Target: 1.0},
	{Name: "bintree", Args: []string{"16"}, Target: 1.0},
	{Name: "threads2", Args: []string{"400000000"}, Target: 1.0},
}

const geomeanTarget = 1.0

// syscallCalls is how many getppid() calls the round-trip benchmark makes
// (a fifth in a QUICK run).
var syscallCalls = map[bool]int{false: 2000000, true: 400000}[quick]

var root string // the repository

func init() {
	_, file, _, _ := runtime.Caller(0)
	root = filepath.Dir(filepath.Dir(file))
}

// Results collected by the benchmarks, written by TestMain once they are done.
var (
	resultsMu   sync.Mutex
	kernelRows  []*kernelRow
	syscallRows []*syscallRow
	loadBefore  string
	treeBefore  string // the source tree when the benchmarks started
)

func TestMain(m *testing.M) {
	loadBefore = loadAverage()
	treeBefore = gitVersion()
	code := writeResults(m.Run())
	if xemuDir != "" {
		os.RemoveAll(xemuDir)
	}
	if inputsDir != "" {
		os.RemoveAll(inputsDir)
	}
	os.Exit(code)
}

// writeResults writes the reports of the benchmarks that ran, and returns
// the exit code, made 1 if a report cannot be written.
func writeResults(code int) int {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	// Start-up has its own file, so that timing it alone keeps cpu.md.
	reports := map[string]string{}
	if len(workloadRows) > 0 {
		rows := summaryRows()
		reports["workloads.md"] = renderWorkloads(rows)
		var svg strings.Builder
		writeChart(&svg, fmt.Sprintf("xemu / qemu-user, %s, %s", time.Now().UTC().Format("2006-01-02"), cpuModel()), rows)
		reports["workloads.svg"] = svg.String()
	}
	if len(kernelRows) > 0 || len(syscallRows) > 0 || len(signalRows) > 0 || len(processRows) > 0 {
		reports["cpu.md"] = renderReport(false)
	}
	if len(startupRows) > 0 {
		reports["startup.md"] = renderReport(true)
	}
	for name, report := range reports {
		if !strings.HasSuffix(name, ".svg") {
			fmt.Print("\n" + report)
		}
		out := filepath.Join(root, "benchmarks", "results", name)
		err := os.MkdirAll(filepath.Dir(out), 0o755)
		if err == nil {
			err = os.WriteFile(out, []byte(report), 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchmarks: writing %s: %v\n", out, err)
			code = 1
		}
	}
	return code
}

// run is one execution of a guest program.
type run struct {
	Stdout, Stderr string
	Exit           int // exit status, or 128+signal
	Wall, CPU      time.Duration
	RSS            int64 // peak resident set, KiB (wait4's ru_maxrss)
}

func (r run) sameAs(o run) bool { return r.Stdout == o.Stdout && r.Exit == o.Exit }

func (r run) describe() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.Exit, r.Stdout, r.Stderr)
}

// benchEnv is the guest's environment: small and fixed, the same for both.
var benchEnv = []string{"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C", "TZ=UTC"}

// execute runs a command in dir and measures its wall and CPU time.
func execute(b *testing.B, dir string, name string, args ...string) run {
	b.Helper()
	cmd := launched(b, name, args...)
	cmd.Dir = dir
	cmd.Env = benchEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	wall, err := cmd.run(b)
	r := run{Stdout: stdout.String(), Stderr: stderr.String(), Wall: wall, RSS: cmd.RSS}
	if ps := cmd.ProcessState; ps != nil {
		r.CPU = ps.UserTime() + ps.SystemTime()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.Exit = 128 + int(ws.Signal())
		} else {
			r.Exit = ws.ExitStatus()
		}
	} else if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return r
}

var (
	xemuOnce sync.Once
	xemuBin  string
	xemuDir  string // holds xemuBin; removed when the benchmarks end
	xemuSum  string // the binary's SHA-256, for the report
	xemuErr  error
)

// xemu is a private copy of the static xemu binary make builds (XEMU_BIN
// overrides it): other builds may replace bin/xemu while the benchmarks run.
func xemu(b *testing.B) string {
	b.Helper()
	xemuOnce.Do(func() {
		src := os.Getenv("XEMU_BIN")
		if src == "" {
			src = filepath.Join(root, "bin", "xemu")
			if _, err := os.Stat(src); err != nil {
				if out, err := exec.Command("make", "-C", root, "build").CombinedOutput(); err != nil {
					xemuErr = fmt.Errorf("make build: %v\n%s", err, out)
					return
				}
			}
		}
		data, err := os.ReadFile(src)
		if err != nil {
			xemuErr = err
			return
		}
		dir, err := os.MkdirTemp("", "xemu-bench-")
		if err != nil {
			xemuErr = err
			return
		}
		xemuDir = dir
		sum := sha256.Sum256(data)
		xemuSum = hex.EncodeToString(sum[:6])
		xemuBin = filepath.Join(dir, "xemu")
		xemuErr = os.WriteFile(xemuBin, data, 0o755)
	})
	if xemuErr != nil {
		b.Fatal(xemuErr)
	}
	return xemuBin
}

// compile builds benchmarks/kernels/<name>.c statically for a, cached in
// benchmarks/out by the hash of the source, compiler and flags.
func compile(b *testing.B, a guestArch, name string) string {
	b.Helper()
	return compileFile(b, a, filepath.Join(root, "benchmarks", "kernels", name+".c"))
}

// compileFile builds the C file src statically for a, cached like compile.
func compileFile(b *testing.B, a guestArch, src string) string {
	b.Helper()
	name := strings.TrimSuffix(filepath.Base(src), ".c")
	code, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	flags := append([]string{"-O2", "-Wall", "-static"}, a.CFlags...)
	h := sha256.New()
	h.Write(code)
	fmt.Fprint(h, a.CC, flags)
	dir := filepath.Join(root, "benchmarks", "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, fmt.Sprintf("%s-%s-%s", name, a.Name, hex.EncodeToString(h.Sum(nil))[:12]))
	if _, err := os.Stat(out); err == nil {
		return out
	}
	args := append(flags, "-o", out+".tmp", src, "-lm")
	if msg, err := exec.Command(a.CC, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", a.CC, args, err, msg)
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		b.Fatal(err)
	}
	return out
}

// series is the timed runs of one program under one emulator.
type series struct {
	Wall, CPU []time.Duration
	RSS       []int64
}

func (s *series) add(r run) {
	s.Wall = append(s.Wall, r.Wall)
	s.CPU = append(s.CPU, r.CPU)
	s.RSS = append(s.RSS, r.RSS)
}

// launchedCmd is a command run through launch (launch/launch.c), which
// reports the peak resident set of the program alone: Go's own exec would
// fold the test binary's into it.
type launchedCmd struct {
	*exec.Cmd
	rssR, rssW *os.File
	RSS        int64         // KiB, from wait4's ru_maxrss, once run returns
	Limit      time.Duration // instead of runLimit
}

var (
	launchOnce sync.Once
	launchBin  string
)

// launched prepares name (looked up in PATH if it has no slash) with args,
// to be started by run.
func launched(b *testing.B, name string, args ...string) *launchedCmd {
	b.Helper()
	launchOnce.Do(func() { launchBin = compileFile(b, host, filepath.Join(root, "benchmarks", "launch", "launch.c")) })
	path, err := exec.LookPath(name)
	if err != nil {
		b.Fatal(err)
	}
	c := &launchedCmd{Cmd: exec.Command(launchBin, append([]string{path}, args...)...)}
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return c
}

// run starts the command, kills its process group after runLimit (or
// Limit), waits, and returns the wall time and Wait's error.
func (c *launchedCmd) run(b *testing.B) (time.Duration, error) {
	b.Helper()
	var err error
	if c.rssR, c.rssW, err = os.Pipe(); err != nil {
		b.Fatal(err)
	}
	defer c.rssR.Close()
	c.ExtraFiles = []*os.File{c.rssW}
	start := time.Now()
	err = c.Start()
	c.rssW.Close()
	if err != nil {
		b.Fatalf("%s: %v", c.Args[1], err)
	}
	limit := runLimit
	if c.Limit > 0 {
		limit = c.Limit
	}
	timer := time.AfterFunc(limit, func() { syscall.Kill(-c.Process.Pid, syscall.SIGKILL) })
	err = c.Wait()
	wall := time.Since(start)
	timer.Stop()
	if out, rerr := io.ReadAll(c.rssR); rerr == nil {
		c.RSS, _ = strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	}
	return wall, err
}

func (s series) ok() bool { return len(s.Wall) > 0 }

func (s series) best() time.Duration      { return slices.Min(s.Wall) }
func (s series) median() time.Duration    { return median(s.Wall) }
func (s series) cpuMedian() time.Duration { return median(s.CPU) }

// comparison is a program timed under xemu and qemu, with xemu's status.
type comparison struct {
	Xemu, Qemu series
	Output     string // qemu's stdout, the reference
	Problem    string // why xemu has no timings: "" when it ran correctly
}

// compare runs prog under xemu and qemu-user: one untimed run each whose output
// is the reference, then `runs` timed runs each, alternating which goes first.
// Every xemu run's output must equal qemu's. When xemu fails on an architecture
// it does not support yet, qemu is still timed.
func compare(b *testing.B, a guestArch, prog string, args ...string) comparison {
	b.Helper()
	dir := b.TempDir()
	x := xemu(b)
	runQemu := func() run { return execute(b, dir, a.Qemu, append([]string{prog}, args...)...) }
	runXemu := func() run { return execute(b, dir, x, append([]string{prog}, args...)...) }

	var c comparison
	ref := runQemu()
	if ref.Exit != 0 {
		b.Fatalf("%s %s: qemu fails: %s", a.Qemu, filepath.Base(prog), ref.describe())
	}
	c.Output = ref.Stdout
	check := func(r run) bool {
		if r.sameAs(ref) {
			return true
		}
		if a.Supported {
			c.Problem = "output differs"
			b.Errorf("%s on %s: xemu differs from qemu\n--- qemu\n%s\n--- xemu: %s",
				filepath.Base(prog), a.Name, ref.describe(), r.describe())
		} else {
			c.Problem = "not supported yet"
			b.Logf("%s on %s: xemu fails (not supported yet): exit %d: %s",
				filepath.Base(prog), a.Name, r.Exit, firstLine(r.Stderr+r.Stdout))
		}
		return false
	}
	first := runXemu()
	xemuOK := check(first)
	if quick {
		// The reference runs are the timed ones.
		c.Qemu.add(ref)
		if xemuOK {
			c.Xemu.add(first)
		}
		return c
	}
	for i := 0; i < runs; i++ {
		if i%2 == 1 || !xemuOK {
			c.Qemu.add(runQemu())
		}
		if xemuOK {
			r := runXemu()
			if xemuOK = check(r); xemuOK {
				c.Xemu.add(r)
			}
		}
		if i%2 == 0 && xemuOK {
			c.Qemu.add(runQemu())
		}
	}
	if !xemuOK {
		c.Xemu = series{}
		// Runs already alternated with a failed xemu run: top qemu up to runs.
		for len(c.Qemu.Wall) < runs {
			c.Qemu.add(runQemu())
		}
	}
	return c
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// kernelRow is one line of the CPU table.
type kernelRow struct {
	Kernel kernel
	Arch   guestArch
	comparison
}

// BenchmarkKernels times each CPU kernel on each architecture.
func BenchmarkKernels(b *testing.B) {
	for _, k := range kernels {
		for _, a := range arches {
			b.Run(k.Name+"/"+a.Name, func(b *testing.B) {
				prog := compile(b, a, k.Name)
				profileScripts[kernelLabel(k, a)] = shellQuote(xemu(b)) + " " + shellQuote(prog) + " " + strings.Join(k.Args, " ")
				row := &kernelRow{Kernel: k, Arch: a, comparison: compare(b, a, prog, k.Args...)}
				record(&kernelRows, row, func(r *kernelRow) bool { return r.Kernel.Name == k.Name && r.Arch.Name == a.Name })
				reportMetrics(b, row.comparison)
			})
		}
	}
}

// syscallRow is one line of the system-call table. The cost of one call is the
// difference between a run making syscallCalls calls and a run making none,
// which takes out start-up and exit.
type syscallRow struct {
	Arch       guestArch
	Calls, Nil comparison
	// The same program built for the host and run natively.
	NativeCalls, NativeNil series
}

// nsPerCall is the cost of one call from the medians of both runs.
func nsPerCall(calls, none series) float64 {
	return float64(calls.median()-none.median()) / float64(syscallCalls)
}

// BenchmarkSyscall times getppid() round trips.
func BenchmarkSyscall(b *testing.B) {
	for _, a := range arches {
		b.Run("getppid/"+a.Name, func(b *testing.B) {
			prog := compile(b, a, "getppid")
			row := &syscallRow{Arch: a}
			row.Nil = compare(b, a, prog, "0")
			row.Calls = compare(b, a, prog, fmt.Sprint(syscallCalls))
			profileScripts[getppidLabel(a)] = fmt.Sprintf("%s %s %d", shellQuote(xemu(b)), shellQuote(prog), syscallCalls)
			native := compile(b, host, "getppid")
			dir := b.TempDir()
			for i := 0; i < runs; i++ {
				row.NativeNil.add(execute(b, dir, native, "0"))
				row.NativeCalls.add(execute(b, dir, native, fmt.Sprint(syscallCalls)))
			}
			record(&syscallRows, row, func(r *syscallRow) bool { return r.Arch.Name == a.Name })
			if row.Calls.Xemu.ok() && row.Nil.Xemu.ok() {
				b.ReportMetric(nsPerCall(row.Calls.Xemu, row.Nil.Xemu), "xemu-ns/call")
			}
			b.ReportMetric(nsPerCall(row.Calls.Qemu, row.Nil.Qemu), "qemu-ns/call")
			b.ReportMetric(nsPerCall(row.NativeCalls, row.NativeNil), "native-ns/call")
		})
	}
}

// record adds a row, replacing the one it repeats (the framework may call a
// benchmark more than once).
func record[T any](rows *[]T, row T, same func(T) bool) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if i := slices.IndexFunc(*rows, same); i >= 0 {
		(*rows)[i] = row
		return
	}
	*rows = append(*rows, row)
}

func reportMetrics(b *testing.B, c comparison) {
	b.ReportMetric(c.Qemu.median().Seconds()*1000, "qemu-ms")
	if c.Xemu.ok() {
		b.ReportMetric(c.Xemu.median().Seconds()*1000, "xemu-ms")
		b.ReportMetric(c.Xemu.median().Seconds()/c.Qemu.median().Seconds(), "xemu/qemu")
	}
}
