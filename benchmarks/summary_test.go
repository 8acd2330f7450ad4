package benchmarks

import (
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// These test the harness itself (statistics, table, chart, perf parsing);
// they run in make test and start no emulator.

func ms(v ...int) []time.Duration {
	var d []time.Duration
	for _, x := range v {
		d = append(d, time.Duration(x)*time.Millisecond)
	}
	return d
}

func TestMedianAndSpread(t *testing.T) {
	for _, c := range []struct {
		in     []time.Duration
		median time.Duration
		spread float64
	}{
		{nil, 0, 0},
		{ms(7), 7 * time.Millisecond, 0},
		{ms(30, 10, 20), 20 * time.Millisecond, 1.0},
		{ms(40, 10, 20, 30), 25 * time.Millisecond, 30.0 / 25},
		{ms(100, 100, 100, 100, 110), 100 * time.Millisecond, 0.1},
	} {
		if got := median(c.in); got != c.median {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.median)
		}
		if got := spread(c.in); got < c.spread-1e-9 || got > c.spread+1e-9 {
			t.Errorf("spread(%v) = %v, want %v", c.in, got, c.spread)
		}
	}
	if in := ms(3, 1, 2); median(in) != 2*time.Millisecond || in[0] != 3*time.Millisecond {
		t.Errorf("median changed its input: %v", in)
	}
	if got := medianKiB([]int64{5, 1, 9, 3}); got != 4 {
		t.Errorf("medianKiB = %d, want 4", got)
	}
}

func TestRatios(t *testing.T) {
	r := Row{Xemu: ms(300, 200, 250), Qemu: ms(100, 110, 90), XemuRSS: []int64{3000}, QemuRSS: []int64{2000}}
	if got, ok := r.Ratio(); !ok || got != 2.5 {
		t.Errorf("Ratio = %v %v, want 2.5", got, ok)
	}
	if got, ok := r.RSSRatio(); !ok || got != 1.5 {
		t.Errorf("RSSRatio = %v %v, want 1.5", got, ok)
	}
	for _, bad := range []Row{{Qemu: ms(1)}, {Xemu: ms(1)}, {Xemu: ms(1), Qemu: ms(1), Pending: "later"}} {
		if _, ok := bad.Ratio(); ok {
			t.Errorf("%+v has a ratio", bad)
		}
	}
}

func TestTargets(t *testing.T) {
	for c, want := range map[Class]float64{CPUBound: 1.0, SyscallHeavy: 0.8, StartupSpawn: 0.5} {
		if c.Target() != want {
			t.Errorf("%v target %v, want %v", c, c.Target(), want)
		}
	}
}

var tableRows = []Row{
	{Workload: "gzip -9", Arch: "aarch64", Class: CPUBound, Xemu: ms(900, 1000, 1100), Qemu: ms(1000, 1000, 1000),
		XemuRSS: []int64{2048}, QemuRSS: []int64{4096}},
	{Workload: "find", Arch: "armhf", Class: SyscallHeavy, Xemu: ms(90), Qemu: ms(100), XemuRSS: []int64{1024}, QemuRSS: []int64{1024}},
	{Workload: "spawn <x> & co", Arch: "aarch64", Class: StartupSpawn, Xemu: ms(3000), Qemu: ms(1000), XemuRSS: []int64{8192}, QemuRSS: []int64{1024}},
	{Workload: "broken", Arch: "armhf", Class: CPUBound, Qemu: ms(500), QemuRSS: []int64{1024}, Problem: "output differs"},
	{Workload: "gcc", Arch: "aarch64", Class: CPUBound, Pending: "no compiler"},
}

func TestTable(t *testing.T) {
	var w strings.Builder
	writeTable(&w, tableRows)
	lines := strings.Split(strings.TrimSpace(w.String()), "\n")
	if len(lines) != 2+len(tableRows) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), 2+len(tableRows), w.String())
	}
	cols := strings.Count(lines[0], "|")
	for i, l := range lines {
		if strings.Count(l, "|") != cols {
			t.Errorf("line %d has %d bars, header %d: %s", i, strings.Count(l, "|"), cols, l)
		}
	}
	for i, want := range []string{
		"| gzip -9 | aarch64 | CPU | 1.00 s (20%) | 1.00 s (0%) | 1.00 | ≤ 1.0 | yes | 2.0 MiB | 4.0 MiB | 0.50 | yes |",
		"| find | armhf | system calls | 90.0 ms (0%) | 100.0 ms (0%) | 0.90 | ≤ 0.8 | **no** | 1.0 MiB | 1.0 MiB | 1.00 | yes |",
		"| spawn <x> & co | aarch64 | start-up | 3.00 s (0%) | 1.00 s (0%) | 3.00 | ≤ 0.5 | **no** | 8.0 MiB | 1.0 MiB | 8.00 | **no** |",
		"| broken | armhf | CPU | output differs | 500.0 ms (0%) | — | ≤ 1.0 | — | | 1.0 MiB | — | — |",
		"| gcc | aarch64 | CPU | pending: no compiler | | | ≤ 1.0 | | | | | |",
	} {
		if lines[2+i] != want {
			t.Errorf("row %d:\n got %s\nwant %s", i, lines[2+i], want)
		}
	}
}

// svgElements parses the chart as XML and counts its elements by name.
func svgElements(t *testing.T, svg string) map[string]int {
	t.Helper()
	n := map[string]int{}
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			n[se.Name.Local]++
		}
	}
	return n
}

func TestChart(t *testing.T) {
	var w strings.Builder
	writeChart(&w, `ratios "now" <b>`, tableRows)
	svg := w.String()
	n := svgElements(t, svg)
	if n["svg"] != 1 {
		t.Errorf("%d svg elements", n["svg"])
	}
	// Three measured rows, each a time and an RSS bar, plus the background
	// and three legend swatches; the broken and pending rows are not drawn.
	if n["rect"] != 3*2+1+3 {
		t.Errorf("%d rects, want %d", n["rect"], 3*2+1+3)
	}
	for _, want := range []string{"spawn &lt;x&gt; &amp; co (aarch64)", "ratios &quot;now&quot; &lt;b&gt;", ">3.00<", ">8.00<", "#c0392b", "#2e8b57"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	if strings.Contains(svg, "broken") || strings.Contains(svg, "gcc") {
		t.Errorf("chart draws a row without a ratio")
	}
	// 8.00 is past the axis's end (6): that bar ends in an arrow.
	if n["path"] != 1 {
		t.Errorf("%d arrows, want 1", n["path"])
	}
}

func TestChartEmpty(t *testing.T) {
	var w strings.Builder
	writeChart(&w, "nothing", nil)
	svgElements(t, w.String())
}

func TestParsePerfReport(t *testing.T) {
	out := `# Samples: 78  of event 'cpu-clock'
#
# Overhead  Shared Object      Symbol
# ........  .................  ..............
#
    20.51%  [kernel.kallsyms]  [k] pvm_irq_enable
     3.85%  xemu               [.] runtime.memclrNoHeapPointers
     2.56%  xemu               [.] xemu/syscall/kernel.(*ABI).build
     0.72%  [JIT] tid 18908    [.] 0x00007f2870e46a43
     0.50%  [JIT] tid 18909    [.] 0x00007f2870e46a43
     1.20%  [unknown]          [.] 0x00007f3a12345678

`
	got := parsePerfReport(out)
	want := []perfShare{
		{20.51, "[kernel.kallsyms]", "pvm_irq_enable"},
		{3.85, "xemu", "runtime.memclrNoHeapPointers"},
		{2.56, "xemu", "xemu/syscall/kernel.(*ABI).build"},
		{1.22, "[JIT]", "0x00007f2870e46a43"},
		{1.20, "[unknown]", "0x00007f3a12345678"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].DSO != want[i].DSO || got[i].Symbol != want[i].Symbol || math.Abs(got[i].Percent-want[i].Percent) > 1e-9 {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	dso := parsePerfReport("    30.00%  xemu             \n    61.00%  [JIT] tid 18908  \n")
	if len(dso) != 2 || dso[0].DSO != "[JIT]" || dso[0].Percent != 61 || dso[1].DSO != "xemu" {
		t.Errorf("by dso: %+v", dso)
	}
}

func TestWorstRows(t *testing.T) {
	got := worstRows(tableRows, 2)
	if len(got) != 2 || got[0].Workload != "spawn <x> & co" || got[1].Workload != "gzip -9" {
		t.Errorf("worst rows: %+v", got)
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote("it's a b"); got != `'it'\''s a b'` {
		t.Errorf("shellQuote = %s", got)
	}
}
