package benchmarks

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// profileSeconds is about how long perf records each profiled row: its
// xemu command is repeated until it takes at least this long.
const profileSeconds = 4

// worstRows is the n measured rows with the highest time ratio.
func worstRows(rows []Row, n int) []Row {
	var measured []Row
	for _, r := range rows {
		if _, ok := r.Ratio(); ok {
			measured = append(measured, r)
		}
	}
	slices.SortStableFunc(measured, func(p, q Row) int {
		a, _ := p.Ratio()
		b, _ := q.Ratio()
		return -cmpFloat(a, b)
	})
	return measured[:min(n, len(measured))]
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// perfShare is one line of perf report: a share of the samples.
type perfShare struct {
	Percent float64
	DSO     string
	Symbol  string
}

// perf report lines: "  17.25%  xemu  [.] helper_lookup_tb_ptr_aarch64" with
// -F overhead,dso,sym, "  48.13%  [JIT] tid 18908" with -F overhead,dso.
var (
	perfSymLine = regexp.MustCompile(`^\s*([0-9.]+)%\s+(.+?)\s+\[.\]\s+(.*?)\s*$`)
	perfDSOLine = regexp.MustCompile(`^\s*([0-9.]+)%\s+(.+?)\s*$`)
	perfJITTid  = regexp.MustCompile(`^\[JIT\] tid \d+$`)
)

// parsePerfReport reads `perf report --stdio -F overhead,dso[,sym]` output,
// largest share first. Code perf saw in anonymous executable memory (what
// Unicorn translated for the guest) is "[JIT] tid N": one "[JIT]" for all
// threads.
func parsePerfReport(out string) []perfShare {
	var shares []perfShare
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		m := perfSymLine.FindStringSubmatch(line)
		if m == nil {
			m = perfDSOLine.FindStringSubmatch(line)
		}
		if m == nil {
			continue
		}
		p, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		s := perfShare{Percent: p, DSO: perfJITTid.ReplaceAllString(m[2], "[JIT]")}
		if len(m) > 3 {
			s.Symbol = m[3]
		}
		if i := slices.IndexFunc(shares, func(o perfShare) bool { return o.DSO == s.DSO && o.Symbol == s.Symbol }); i >= 0 {
			shares[i].Percent += s.Percent
			continue
		}
		shares = append(shares, s)
	}
	slices.SortStableFunc(shares, func(a, b perfShare) int { return -cmpFloat(a.Percent, b.Percent) })
	return shares
}

// profileRow records `perf record -e cpu-clock -g` of the row's xemu command
// and writes where its time goes: by binary (xemu's own code, the kernel, and
// "[unknown]": code Unicorn generated for the guest), then by symbol.
func profileRow(w *strings.Builder, r Row) {
	ratio, _ := r.Ratio()
	fmt.Fprintf(w, "### %s: xemu/qemu %.2f\n\n", r.label(), ratio)
	script, ok := profileScripts[r.label()]
	if !ok {
		fmt.Fprintf(w, "No command recorded for this row.\n\n")
		return
	}
	reps := max(1, int(math.Ceil(profileSeconds/median(r.Xemu).Seconds())))
	dir, err := os.MkdirTemp("", "xemu-perf-")
	if err != nil {
		fmt.Fprintf(w, "perf: %v\n\n", err)
		return
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "perf.data")
	full := fmt.Sprintf("for i in $(seq %d); do\n%s\ndone >/dev/null 2>&1", reps, script)
	start := time.Now()
	rec := exec.Command("perf", "record", "-q", "-e", "cpu-clock", "-g", "-o", data, "--", "/bin/sh", "-c", full)
	rec.Dir = dir
	if out, err := rec.CombinedOutput(); err != nil {
		fmt.Fprintf(w, "perf record failed: %v: %s\n\n", err, firstLine(string(out)))
		return
	}
	report := func(sort, fields string) []perfShare {
		out, _ := exec.Command("perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none",
			"--sort", sort, "-F", fields, "--percent-limit", "0.3").Output()
		return parsePerfReport(string(out))
	}
	byDSO := report("dso", "overhead,dso")
	bySym := report("dso,sym", "overhead,dso,sym")
	// The private copy of xemu is gone by the time anyone reads this.
	shown := strings.ReplaceAll(script, shellQuote(xemuBin), "bin/xemu")
	fmt.Fprintf(w, "`perf record -e cpu-clock -g` of the xemu command, run %d× (%.1f s):\n\n```\n%s\n```\n\n", reps, time.Since(start).Seconds(), shown)
	var parts []string
	for _, s := range byDSO[:min(5, len(byDSO))] {
		parts = append(parts, fmt.Sprintf("%s %.1f%%", dsoName(s.DSO), s.Percent))
	}
	fmt.Fprintf(w, "By binary: %s.\n\n", strings.Join(parts, ", "))
	fmt.Fprintf(w, "| share | binary | symbol |\n|---:|---|---|\n")
	n := 0
	for _, s := range bySym {
		if s.DSO == "[JIT]" || s.DSO == "[unknown]" || n == 12 {
			continue
		}
		fmt.Fprintf(w, "| %.1f%% | %s | `%s` |\n", s.Percent, s.DSO, s.Symbol)
		n++
	}
	fmt.Fprintf(w, "\n")
}

func dsoName(dso string) string {
	switch dso {
	case "[JIT]":
		return "guest code translated by Unicorn ([JIT])"
	case "[kernel.kallsyms]":
		return "host kernel"
	}
	return dso
}

// writeProfiles is the section "What holds it back": the worst three rows
// profiled, or why not.
func writeProfiles(w *strings.Builder, rows []Row) {
	fmt.Fprintf(w, "## What holds it back\n\n")
	switch {
	case quick:
		fmt.Fprintf(w, "Not profiled in a QUICK run.\n\n")
		return
	case os.Getenv("PROFILE") == "0":
		fmt.Fprintf(w, "Not profiled (PROFILE=0).\n\n")
		return
	}
	if _, err := exec.LookPath("perf"); err != nil {
		fmt.Fprintf(w, "perf is not installed (apt-get install linux-perf), so the worst rows were not profiled.\n\n")
		return
	}
	fmt.Fprintf(w, "The three rows with the highest time ratio, profiled by make bench after the measurements "+
		"(of the rows one xemu command runs: not the second stage and buildah rows, trees of processes started by the kernel). "+
		"\"[JIT]\" is the guest code Unicorn translated (no symbols); "+
		"the table lists the named symbols, xemu's and the kernel's, with their share of all samples.\n\n")
	var scripted []Row
	for _, r := range rows {
		if _, ok := profileScripts[r.label()]; ok {
			scripted = append(scripted, r)
		}
	}
	for _, r := range worstRows(scripted, 3) {
		profileRow(w, r)
	}
}
