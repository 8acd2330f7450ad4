package benchmarks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startupRuns is how many timed runs each emulator gets per start-up row;
// they alternate. A run is short, so many are cheap.
var startupRuns = map[bool]int{false: 40, true: 5}[quick]

// startupTarget is the xemu/qemu ratio of medians aimed for.
const startupTarget = 0.5

// startupRow is one program that does nothing, timed under both emulators.
type startupRow struct {
	Name    string // what runs, e.g. "static empty"
	Arch    guestArch
	Xemu    series
	Qemu    series
	Problem string
}

var startupRows []*startupRow

// BenchmarkStartup times programs that do nothing: a static one of our own
// and a dynamic /bin/true from the Debian root file systems (make fixtures),
// so what is measured is start-up and exit, which every exec pays.
func BenchmarkStartup(b *testing.B) {
	for _, a := range arches {
		b.Run("static/"+a.Name, func(b *testing.B) {
			prog := compile(b, a, "empty")
			timeStartup(b, &startupRow{Name: "static empty", Arch: a}, nil, []string{prog})
		})
		b.Run("dynamic/"+a.Name, func(b *testing.B) {
			sysroot := filepath.Join(root, ".cache", "rootfs-"+map[string]string{"aarch64": "arm64", "armhf": "armhf"}[a.Name])
			prog := filepath.Join(sysroot, "bin", "true")
			if _, err := os.Stat(prog); err != nil {
				b.Skipf("%s: %v (make fixtures)", prog, err)
			}
			timeStartup(b, &startupRow{Name: "dynamic /bin/true", Arch: a},
				[][]string{{"--sysroot", sysroot}, {"-L", sysroot}}, []string{prog})
		})
	}
}

// timeStartup runs args under xemu and qemu startupRuns times each,
// alternating, after one untimed run of each; options are each emulator's
// own (xemu's first, then qemu's).
func timeStartup(b *testing.B, row *startupRow, options [][]string, args []string) {
	dir := b.TempDir()
	x := xemu(b)
	var xo, qo []string
	if options != nil {
		xo, qo = options[0], options[1]
	}
	runXemu := func() run { return execute(b, dir, x, append(xo, args...)...) }
	runQemu := func() run { return execute(b, dir, row.Arch.Qemu, append(qo, args...)...) }
	var script []string
	for _, w := range append(append([]string{x}, xo...), args...) {
		script = append(script, shellQuote(w))
	}
	profileScripts[Row{Workload: startupName(row.Name), Arch: row.Arch.Name}.label()] = strings.Join(script, " ")
	ref := runQemu()
	if ref.Exit != 0 {
		b.Fatalf("%s %s: qemu fails: %s", row.Arch.Qemu, strings.Join(args, " "), ref.describe())
	}
	if r := runXemu(); !r.sameAs(ref) {
		row.Problem = "output differs"
		b.Errorf("%s on %s: xemu differs from qemu\n--- qemu\n%s\n--- xemu: %s", row.Name, row.Arch.Name, ref.describe(), r.describe())
	}
	for i := 0; i < startupRuns && row.Problem == ""; i++ {
		if i%2 == 1 {
			row.Qemu.add(runQemu())
		}
		row.Xemu.add(runXemu())
		if i%2 == 0 {
			row.Qemu.add(runQemu())
		}
	}
	record(&startupRows, row, func(r *startupRow) bool { return r.Name == row.Name && r.Arch.Name == row.Arch.Name })
	if row.Xemu.ok() {
		b.ReportMetric(row.Xemu.median().Seconds()*1000, "xemu-ms")
		b.ReportMetric(row.Qemu.median().Seconds()*1000, "qemu-ms")
		b.ReportMetric(row.Xemu.median().Seconds()/row.Qemu.median().Seconds(), "xemu/qemu")
	}
}

func writeStartupTable(w *strings.Builder) {
	fmt.Fprintf(w, "## Start-up\n\n")
	fmt.Fprintf(w, "Programs that do nothing, so the time is the emulator's start-up and exit: benchmarks/kernels/empty.c built -static, and the Debian root file systems' /bin/true run with --sysroot / -L. %d runs per emulator, alternating; wall time. Target: xemu/qemu ≤ %.1f (ratio of medians).\n\n", startupRuns, startupTarget)
	fmt.Fprintf(w, "| program | arch | xemu best | xemu median | qemu best | qemu median | xemu/qemu | met | CPU xemu/qemu |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|:---:|---:|\n")
	for _, r := range startupRows {
		if !r.Xemu.ok() {
			fmt.Fprintf(w, "| %s | %s | %s | | %s | %s | — | — | — |\n", r.Name, r.Arch.Name, r.Problem, millis(r.Qemu.best()), millis(r.Qemu.median()))
			continue
		}
		ratio := r.Xemu.median().Seconds() / r.Qemu.median().Seconds()
		cpu := r.Xemu.cpuMedian().Seconds() / r.Qemu.cpuMedian().Seconds()
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.2f | %s | %.2f |\n", r.Name, r.Arch.Name,
			millis(r.Xemu.best()), millis(r.Xemu.median()), millis(r.Qemu.best()), millis(r.Qemu.median()),
			ratio, met(ratio, startupTarget), cpu)
	}
	fmt.Fprintf(w, "\n")
}
