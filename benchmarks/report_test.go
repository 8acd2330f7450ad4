package benchmarks

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// renderReport is results/cpu.md, or with startup results/startup.md: what
// was measured where, then the tables.
func renderReport(startup bool) string {
	var w strings.Builder
	fmt.Fprintf(&w, "# xemu against qemu-user\n\n")
	fmt.Fprintf(&w, "Written by `make bench` (benchmarks/bench_test.go) on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&w, "- host: %s, %d CPUs; load average %s before, %s after\n", cpuModel(), runtime.NumCPU(), loadBefore, loadAverage())
	fmt.Fprintf(&w, "- xemu: %s, binary sha256 %s… (Unicorn 2.1.4); qemu: %s\n", treeBefore, xemuSum, commandLine("qemu-aarch64", "--version"))
	if startup {
		fmt.Fprintf(&w, "\n")
		writeStartupTable(&w)
		return w.String()
	}
	method := fmt.Sprintf("one untimed run of each emulator whose output is the reference, then %d timed runs each, alternating", runs)
	if quick {
		method = "QUICK=1: one run of each emulator, the reference"
	}
	fmt.Fprintf(&w, "- method: per row, %s; wall time. Every xemu run's stdout and exit status must equal qemu's. Kernels are benchmarks/kernels/*.c, built with -O2 -static (armhf: -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard).\n\n", method)
	if len(kernelRows) > 0 {
		writeKernelTable(&w)
	}
	if len(syscallRows) > 0 {
		writeSyscallTable(&w)
	}
	if len(signalRows) > 0 {
		writeSignalTable(&w)
	}
	if len(processRows) > 0 {
		writeProcessTable(&w)
	}
	return w.String()
}

func writeKernelTable(w *strings.Builder) {
	fmt.Fprintf(w, "## CPU kernels\n\n")
	fmt.Fprintf(w, "Targets for xemu/qemu (ratio of medians): integer kernels ≤ 1.0, matmul ≤ 1.2, geometric mean ≤ %.1f.\n", geomeanTarget)
	fmt.Fprintf(w, "The last column is the same ratio in CPU time (user+system), less sensitive to other load on the host.\n\n")
	fmt.Fprintf(w, "| kernel | arch | xemu best | xemu median | qemu best | qemu median | xemu/qemu | target | met | CPU xemu/qemu |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|:---:|---:|\n")
	for _, a := range arches {
		var ratios, cpuRatios []float64
		n := 0
		for _, r := range kernelRows {
			if r.Arch.Name != a.Name {
				continue
			}
			n++
			q := r.Qemu
			if !r.Xemu.ok() {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | — | ≤ %.1f | — | — |\n",
					r.Kernel.Name, a.Name, r.Problem, r.Problem, seconds(q.best()), seconds(q.median()), r.Kernel.Target)
				continue
			}
			ratio := r.Xemu.median().Seconds() / q.median().Seconds()
			cpu := r.Xemu.cpuMedian().Seconds() / q.cpuMedian().Seconds()
			ratios = append(ratios, ratio)
			cpuRatios = append(cpuRatios, cpu)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.2f | ≤ %.1f | %s | %.2f |\n",
				r.Kernel.Name, a.Name, seconds(r.Xemu.best()), seconds(r.Xemu.median()),
				seconds(q.best()), seconds(q.median()), ratio, r.Kernel.Target, met(ratio, r.Kernel.Target), cpu)
		}
		if n == 0 {
			continue
		}
		if len(ratios) == 0 {
			fmt.Fprintf(w, "| **geomean** | %s | | | | | — | ≤ %.1f | — | — |\n", a.Name, geomeanTarget)
			continue
		}
		g := geomean(ratios)
		label := "**geomean**"
		if len(ratios) < n {
			label = fmt.Sprintf("**geomean** (%d of %d)", len(ratios), n)
		}
		fmt.Fprintf(w, "| %s | %s | | | | | **%.2f** | ≤ %.1f | %s | %.2f |\n",
			label, a.Name, g, geomeanTarget, met(g, geomeanTarget), geomean(cpuRatios))
	}
	fmt.Fprintf(w, "\n")
}

func writeSyscallTable(w *strings.Builder) {
	fmt.Fprintf(w, "## System-call round trip\n\n")
	fmt.Fprintf(w, "getppid() through syscall(), %d calls (benchmarks/kernels/getppid.c). ns per call = (median wall time of %d calls − median wall time of 0 calls) / %d. ", syscallCalls, syscallCalls, syscallCalls)
	fmt.Fprintf(w, "Native is the same program built for the host; what an emulator adds to a call is its ns per call minus native.\n\n")
	fmt.Fprintf(w, "| arch | xemu ns/call | qemu ns/call | native ns/call | xemu/qemu | xemu − native | qemu − native | xemu median, %d calls | qemu median, %d calls |\n", syscallCalls, syscallCalls)
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range syscallRows {
		q := nsPerCall(r.Calls.Qemu, r.Nil.Qemu)
		n := nsPerCall(r.NativeCalls, r.NativeNil)
		if !r.Calls.Xemu.ok() || !r.Nil.Xemu.ok() {
			problem := r.Calls.Problem
			if problem == "" {
				problem = r.Nil.Problem
			}
			fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | — | — | %.0f | %s | %s |\n", r.Arch.Name, problem, q, n, q-n,
				problem, seconds(r.Calls.Qemu.median()))
			continue
		}
		x := nsPerCall(r.Calls.Xemu, r.Nil.Xemu)
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %.2f | %.0f | %.0f | %s | %s |\n", r.Arch.Name, x, q, n, x/q, x-n, q-n,
			seconds(r.Calls.Xemu.median()), seconds(r.Calls.Qemu.median()))
	}
	fmt.Fprintf(w, "\n")
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

func millis(d time.Duration) string { return fmt.Sprintf("%.1f ms", d.Seconds()*1000) }

func met(ratio, target float64) string {
	if ratio <= target {
		return "yes"
	}
	return "no"
}

func geomean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += math.Log(x)
	}
	return math.Exp(s / float64(len(v)))
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func gitVersion() string {
	if p := os.Getenv("XEMU_BIN"); p != "" {
		return "XEMU_BIN=" + p
	}
	v := commandLine("git", "-C", root, "describe", "--always", "--dirty")
	if v == "?" {
		return "unknown version"
	}
	return "commit " + v
}

// commandLine is the first line a command prints, or "?".
func commandLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	return firstLine(string(out))
}

// benchStart is when the benchmarks began, for the run time in the report.
var benchStart = time.Now()

// renderWorkloads is results/workloads.md: every row against qemu-user with
// its target, the chart, and the profiles of the worst rows.
func renderWorkloads(rows []Row) string {
	var w strings.Builder
	fmt.Fprintf(&w, "# xemu against qemu-user: workloads\n\n")
	fmt.Fprintf(&w, "Written by `make bench` (benchmarks/, issue 19) on %s", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	if quick {
		fmt.Fprintf(&w, ", QUICK=1 (one run each: a developer's check, not a measurement)")
	}
	fmt.Fprintf(&w, ".\n\n")
	fmt.Fprintf(&w, "- machine: %s, %d cores; load average %s before, %s after (other jobs share this machine)\n", cpuModel(), runtime.NumCPU(), loadBefore, loadAverage())
	fmt.Fprintf(&w, "- xemu: %s, binary sha256 %s… (Unicorn 2.1.4); qemu: %s\n", treeBefore, xemuSum, commandLine("qemu-aarch64", "--version"))
	fmt.Fprintf(&w, "- benchmarks ran %s before this was written\n", time.Since(benchStart).Round(time.Second))
	fmt.Fprintf(&w, "- method: each row runs %d times under xemu and %d times under qemu-user, alternating which goes first; "+
		"time is wall time, median with spread = (slowest − fastest) / median; RSS is the peak resident set from wait4's rusage "+
		"(the largest of a row's steps), median. qemu's first run is the reference: every run's stdout (SHA-256) and exit status must equal it. "+
		"Programs come from the Debian bookworm arm64 and armhf root file systems (make fixtures: debootstrap's first stage, "+
		"plus xz-utils, bzip2 and python3.11 with its standard library, and for arm64 gcc-12 with binutils), run with --sysroot and -L. "+
		"Compressor input is real data: a tar of the arm64 root file system's /usr/share and /usr/lib (name order, times zeroed), the first N MiB.\n",
		runs, runs)
	fmt.Fprintf(&w, "- targets, xemu/qemu: CPU-bound ≤ %.1f, system-call-heavy ≤ %.1f, start-up and spawn ≤ %.1f, peak RSS ≤ %.1f.\n\n",
		CPUBound.Target(), SyscallHeavy.Target(), StartupSpawn.Target(), RSSTarget)
	fmt.Fprintf(&w, "![xemu/qemu-user ratios per workload](workloads.svg)\n\n")
	writeTable(&w, rows)
	fmt.Fprintf(&w, "\nNotes:\n\n")
	fmt.Fprintf(&w, "- Sizes are smaller than the issue's where 5 alternating runs of each would not fit make bench's 20 minutes on this machine: "+
		"xz -9 gets %d MiB (16 MiB takes 17 s under qemu-aarch64), gzip %d MiB, bzip2 and xz -T2 %d MiB, the spawn loop %d rather than 300 /bin/true.\n",
		xzInput>>20, gzipInput>>20, bzip2Input>>20, spawns)
	fmt.Fprintf(&w, "- Spawn: qemu-user without binfmt_misc (not registered here) runs a guest's exec of /bin/true as the host's /bin/true, natively; "+
		"so under qemu the guest shell execs `qemu-user -L ROOTFS /bin/true`, which is what binfmt_misc would do.\n")
	fmt.Fprintf(&w, "- find and ls run in the root file system's /usr on \".\": qemu-user's -L is not a chroot, and ls -lR /usr under it stats host paths.\n")
	fmt.Fprintf(&w, "- Python and gcc rows are arm64 only: the fixtures fetch Python and gcc for arm64 alone.\n")
	fmt.Fprintf(&w, "- gcc: qemu-user without binfmt_misc would run the driver's cc1 and as natively (and fail), so under qemu gcc gets "+
		"-wrapper, a host script that runs each under qemu-user -L, which is what binfmt_misc would do; under xemu the guest's own execve runs them.\n")
	fmt.Fprintf(&w, "- The second stage and buildah rows (BenchmarkChroot, root only, not in QUICK runs) run once under each emulator, "+
		"qemu first: each is minutes long. Every guest program there is started by the kernel through binfmt_misc, the emulator "+
		"registered in turn as the only handler of AArch64 programs with flags F and P (qemu: qemu-user-static's qemu-aarch64, "+
		"as a chroot has none of the dynamic one's libraries). The second stage runs in a copy of the arm64 first stage "+
		"(`unshare --mount chroot DIR /debootstrap/debootstrap --second-stage`), and both must install the same packages, every one configured; "+
		"buildah (vfs storage, chroot isolation) builds imagebuild's Containerfile from qemu's result plus python3, and both builds must print "+
		"what its RUN steps print on arm64. Their RSS is the largest process of the tree for the second stage, not shown for buildah (buildah's own).\n")
	fmt.Fprintf(&w, "- Kernel, getppid and start-up rows come from the same run's BenchmarkKernels, BenchmarkSyscall and BenchmarkStartup "+
		"(details in cpu.md and startup.md; start-up has %d runs each).\n\n", startupRuns)
	writeProfiles(&w, rows)
	return w.String()
}
