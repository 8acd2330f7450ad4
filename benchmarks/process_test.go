package benchmarks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Processes: fork+exit+wait of a small static guest, of a guest that wrote
// 200 MiB, and of bash (a subshell); spawn (fork+exec) of /bin/true from a
// guest bash; start-up of a static program. Each row times a run with n
// operations and a baseline run with none, alternating emulators, and
// reports (median(n) − median(baseline)) / n: the cost of one operation,
// start-up and the parent's setup left out. Start-up is the median of whole
// runs of a program that does nothing.
//
// What is fair for spawn: without a binfmt_misc handler (none is
// registered here), qemu-user's guest execve of /bin/true runs the host's
// x86-64 /bin/true natively, and the host kernel cannot run a guest ELF at
// all. What binfmt_misc would do is start qemu-user on the guest's program,
// so under qemu the loop runs `qemu-aarch64 -L ROOTFS ROOTFS/bin/true`: a
// fork of the emulated bash, then an exec of qemu, which loads the guest's
// dynamically linked /bin/true from the root file system — the same work
// xemu does when it re-executes itself on the guest's /bin/true.

type processCase struct {
	Name string
	N    int
	// Xemu and Qemu are the command lines for n operations (n == 0: the
	// baseline).
	Xemu, Qemu func(n int) []string
	Startup    bool // time whole runs: n is the number of runs
}

type processRow struct {
	Case    processCase
	Xemu    time.Duration // per operation
	Qemu    time.Duration
	Problem string
	RawXemu [2]time.Duration // medians of the baseline and the n run
	RawQemu [2]time.Duration
}

var processRows []*processRow

// spawnCount is the 300 spawns (a fifth in a QUICK run).
var spawnCount = quickCount(300)

// processRuns is how many timed runs each emulator gets per row and n: a
// fork under xemu costs about a start-up, so rows take minutes. A QUICK run
// makes one, of a fifth of each count.
var processRuns = map[bool]int{false: 3, true: 1}[quick]

func quickCount(n int) int {
	if quick {
		return max(1, n/5)
	}
	return n
}

func processCases(b *testing.B) []processCase {
	forkloop := compile(b, arches[0], "forkloop")
	hello := compile(b, arches[0], "hello")
	rootfs := filepath.Join(root, ".cache", "rootfs-arm64")
	bash := filepath.Join(rootfs, "bin", "bash")
	if _, err := os.Stat(bash); err != nil {
		b.Fatalf("%s missing (make fixtures)", bash)
	}
	x := xemu(b)
	loop := func(n int, body string) string {
		return fmt.Sprintf("for ((i=0; i<%d; i++)); do %s; done", n, body)
	}
	return []processCase{
		{Name: "fork+exit+wait, small static guest", N: quickCount(50),
			Xemu: func(n int) []string { return []string{x, forkloop, fmt.Sprint(n)} },
			Qemu: func(n int) []string { return []string{"qemu-aarch64", forkloop, fmt.Sprint(n)} }},
		{Name: "fork+exit+wait, guest with 200 MiB written", N: quickCount(10),
			Xemu: func(n int) []string { return []string{x, forkloop, fmt.Sprint(n), "200"} },
			Qemu: func(n int) []string { return []string{"qemu-aarch64", forkloop, fmt.Sprint(n), "200"} }},
		{Name: "fork+exit+wait, bash subshell `( : )`", N: quickCount(50),
			Xemu: func(n int) []string { return []string{x, "--sysroot", rootfs, bash, "-c", loop(n, "( : )")} },
			Qemu: func(n int) []string { return []string{"qemu-aarch64", "-L", rootfs, bash, "-c", loop(n, "( : )")} }},
		{Name: fmt.Sprintf("spawn: %d × /bin/true from bash", spawnCount), N: spawnCount,
			Xemu: func(n int) []string { return []string{x, "--sysroot", rootfs, bash, "-c", loop(n, "/bin/true")} },
			Qemu: func(n int) []string {
				return []string{"qemu-aarch64", "-L", rootfs, bash, "-c", loop(n, "qemu-aarch64 -L "+rootfs+" "+rootfs+"/bin/true")}
			}},
		{Name: "start-up: static hello", N: 10, Startup: true,
			Xemu: func(n int) []string { return []string{x, hello} },
			Qemu: func(n int) []string { return []string{"qemu-aarch64", hello} }},
	}
}

// BenchmarkProcess times the process rows on aarch64.
func BenchmarkProcess(b *testing.B) {
	for _, c := range processCases(b) {
		b.Run(strings.Fields(c.Name)[0]+"/"+fmt.Sprint(c.N), func(b *testing.B) {
			row := &processRow{Case: c}
			dir := b.TempDir()
			if c.Startup {
				var xs, qs []time.Duration
				for i := 0; i < c.N; i++ {
					xr, qr := execute(b, dir, c.Xemu(1)[0], c.Xemu(1)[1:]...), execute(b, dir, c.Qemu(1)[0], c.Qemu(1)[1:]...)
					if !xr.sameAs(qr) {
						row.Problem = "xemu differs: " + xr.describe()
						b.Error(row.Problem)
						break
					}
					xs, qs = append(xs, xr.Wall), append(qs, qr.Wall)
				}
				row.Xemu, row.Qemu = median(xs), median(qs)
			} else {
				var xs, qs [2][]time.Duration
				for i := 0; i < processRuns; i++ {
					for k, n := range []int{0, c.N} {
						xa, qa := c.Xemu(n), c.Qemu(n)
						xr, qr := execute(b, dir, xa[0], xa[1:]...), execute(b, dir, qa[0], qa[1:]...)
						if !xr.sameAs(qr) {
							row.Problem = "xemu differs: " + xr.describe() + "\nqemu: " + qr.describe()
							b.Error(row.Problem)
						}
						xs[k], qs[k] = append(xs[k], xr.Wall), append(qs[k], qr.Wall)
					}
				}
				for k := range xs {
					row.RawXemu[k], row.RawQemu[k] = median(xs[k]), median(qs[k])
				}
				row.Xemu = (row.RawXemu[1] - row.RawXemu[0]) / time.Duration(c.N)
				row.Qemu = (row.RawQemu[1] - row.RawQemu[0]) / time.Duration(c.N)
			}
			record(&processRows, row, func(r *processRow) bool { return r.Case.Name == c.Name })
			b.ReportMetric(float64(row.Xemu.Microseconds()), "xemu-µs/op")
			b.ReportMetric(float64(row.Qemu.Microseconds()), "qemu-µs/op")
		})
	}
}

func writeProcessTable(w *strings.Builder) {
	fmt.Fprintf(w, "## Processes (aarch64)\n\n")
	fmt.Fprintf(w, "Cost of one operation: (median of %d runs with n operations − median of %d runs with none) / n, so start-up and the parent's setup are left out; start-up is the median of whole runs. The bash rows use the Debian arm64 root file system (`make fixtures`). Spawn under qemu-user runs `qemu-aarch64 -L ROOTFS ROOTFS/bin/true` for each /bin/true, which is what a binfmt_misc handler would do (without one, qemu's execve of /bin/true runs the host's x86-64 binary natively). Target for spawn and start-up: xemu at most half of qemu-user's time.\n\n", processRuns, processRuns)
	fmt.Fprintf(w, "| operation | n | xemu per op | qemu per op | xemu/qemu | note |\n|---|---:|---:|---:|---:|---|\n")
	for _, r := range processRows {
		ratio := "—"
		if r.Qemu > 0 && r.Xemu > 0 {
			ratio = fmt.Sprintf("%.2f", r.Xemu.Seconds()/r.Qemu.Seconds())
		}
		note := r.Problem
		if len(note) > 80 {
			note = note[:80] + "…"
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |\n", r.Case.Name, r.Case.N, micro(r.Xemu), micro(r.Qemu), ratio, strings.ReplaceAll(note, "\n", " "))
	}
	fmt.Fprintf(w, "\n")
}
