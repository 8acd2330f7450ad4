package benchmarks

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Class is what bounds a workload, and so which xemu/qemu ratio it aims for.
type Class int

const (
	CPUBound Class = iota
	SyscallHeavy
	StartupSpawn
)

// Target is the xemu/qemu wall-time ratio aimed for (issue 19).
func (c Class) Target() float64 {
	switch c {
	case SyscallHeavy:
		return 0.8
	case StartupSpawn:
		return 0.5
	}
	return 1.0
}

func (c Class) String() string {
	switch c {
	case SyscallHeavy:
		return "system calls"
	case StartupSpawn:
		return "start-up"
	}
	return "CPU"
}

// RSSTarget is the xemu/qemu ratio of peak resident memory aimed for.
const RSSTarget = 1.0

// Row is one workload on one guest architecture, measured under both
// emulators: wall time and peak RSS (KiB, from wait4's rusage) per run.
type Row struct {
	Workload string
	Arch     string
	Class    Class
	Xemu     []time.Duration
	Qemu     []time.Duration
	XemuRSS  []int64
	QemuRSS  []int64
	Problem  string // why xemu has no timings ("output differs"), or "" when it ran correctly
	Pending  string // why the row is not measured yet; the row has no runs
}

// Median of durations: the middle one, or the mean of the middle two.
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianKiB is median for RSS samples.
func medianKiB(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is (slowest − fastest) / median, as a fraction: how far apart the
// runs were, 0 for one run.
func spread(d []time.Duration) float64 {
	m := median(d)
	if len(d) < 2 || m <= 0 {
		return 0
	}
	return float64(slices.Max(d)-slices.Min(d)) / float64(m)
}

// measured says whether both emulators have timings.
func (r Row) measured() bool { return len(r.Xemu) > 0 && len(r.Qemu) > 0 && r.Pending == "" }

// Ratio is xemu's median wall time over qemu's.
func (r Row) Ratio() (float64, bool) {
	if !r.measured() || median(r.Qemu) <= 0 {
		return 0, false
	}
	return median(r.Xemu).Seconds() / median(r.Qemu).Seconds(), true
}

// RSSRatio is xemu's median peak RSS over qemu's.
func (r Row) RSSRatio() (float64, bool) {
	if !r.measured() || medianKiB(r.QemuRSS) <= 0 || medianKiB(r.XemuRSS) <= 0 {
		return 0, false
	}
	return float64(medianKiB(r.XemuRSS)) / float64(medianKiB(r.QemuRSS)), true
}

// label names the row in tables and the chart.
func (r Row) label() string { return r.Workload + " (" + r.Arch + ")" }

// duration prints a time with three significant figures' worth of unit.
func duration(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", d.Seconds()*1000)
}

func mebibytes(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// rssCell is the median peak RSS, or "—" for a row that records none.
func rssCell(kib []int64) string {
	if len(kib) == 0 {
		return "—"
	}
	return mebibytes(medianKiB(kib))
}

func yesNo(ratio, target float64) string {
	if ratio <= target {
		return "yes"
	}
	return "**no**"
}

// writeTable writes the rows as one Markdown table: medians with their
// spread, the ratios and whether the targets are met.
func writeTable(w *strings.Builder, rows []Row) {
	fmt.Fprintf(w, "| workload | arch | class | xemu median (spread) | qemu median (spread) | xemu/qemu | target | met | xemu RSS | qemu RSS | RSS xemu/qemu | RSS met |\n")
	fmt.Fprintf(w, "|---|---|---|---:|---:|---:|---:|:---:|---:|---:|---:|:---:|\n")
	for _, r := range rows {
		target := r.Class.Target()
		if r.Pending != "" {
			fmt.Fprintf(w, "| %s | %s | %s | pending: %s | | | ≤ %.1f | | | | | |\n", r.Workload, r.Arch, r.Class, r.Pending, target)
			continue
		}
		qemu := "—"
		if len(r.Qemu) > 0 {
			qemu = fmt.Sprintf("%s (%.0f%%)", duration(median(r.Qemu)), 100*spread(r.Qemu))
		}
		ratio, ok := r.Ratio()
		if !ok {
			problem := r.Problem
			if problem == "" {
				problem = "not measured"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | — | ≤ %.1f | — | | %s | — | — |\n",
				r.Workload, r.Arch, r.Class, problem, qemu, target, mebibytes(medianKiB(r.QemuRSS)))
			continue
		}
		rss, rssOK := r.RSSRatio()
		rssRatio, rssMet := "—", "—"
		if rssOK {
			rssRatio, rssMet = fmt.Sprintf("%.2f", rss), yesNo(rss, RSSTarget)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s (%.0f%%) | %s | %.2f | ≤ %.1f | %s | %s | %s | %s | %s |\n",
			r.Workload, r.Arch, r.Class, duration(median(r.Xemu)), 100*spread(r.Xemu), qemu,
			ratio, target, yesNo(ratio, target),
			rssCell(r.XemuRSS), rssCell(r.QemuRSS), rssRatio, rssMet)
	}
}

// Chart geometry, in SVG user units (pixels).
const (
	chartWidth   = 960
	chartLabelW  = 300 // left column with the row labels
	chartRight   = 70  // room for the value text past the longest bar
	chartTop     = 64  // title and legend
	chartRowH    = 26
	chartBottom  = 40 // axis labels
	chartMaxAxis = 6.0
)

// writeChart draws the rows' ratios as horizontal bars: per row, a wall-time
// bar (green when its class's target is met, red when not) and a thinner
// peak-RSS bar, with each row's time target as a black tick and parity (1.0)
// as a dashed line. The axis is linear from 0; bars longer than it are cut
// and end in an arrow, their value printed as for the others.
func writeChart(w *strings.Builder, title string, rows []Row) {
	var shown []Row
	axis := 1.5
	for _, r := range rows {
		ratio, ok := r.Ratio()
		if !ok {
			continue
		}
		shown = append(shown, r)
		rss, _ := r.RSSRatio()
		axis = math.Max(axis, math.Max(ratio, rss))
	}
	axis = math.Min(math.Ceil(axis*2)/2, chartMaxAxis)
	plotW := float64(chartWidth - chartLabelW - chartRight)
	x := func(v float64) float64 { return float64(chartLabelW) + plotW*math.Min(v, axis)/axis }
	height := chartTop + chartRowH*len(shown) + chartBottom

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(w, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartWidth, height)
	fmt.Fprintf(w, `<text x="10" y="22" font-size="16" font-weight="bold">%s</text>`+"\n", xmlEscape(title))
	// Legend.
	legend := []struct{ color, text string }{{"#2e8b57", "time ratio, target met"}, {"#c0392b", "time ratio, target missed"}, {"#7f8fa6", "peak RSS ratio (target 1.0)"}}
	lx := 10
	for _, l := range legend {
		fmt.Fprintf(w, `<rect x="%d" y="34" width="12" height="12" fill="%s"/><text x="%d" y="45">%s</text>`+"\n", lx, l.color, lx+16, xmlEscape(l.text))
		lx += 210
	}
	fmt.Fprintf(w, `<line x1="%d" y1="34" x2="%d" y2="46" stroke="black" stroke-width="2"/><text x="%d" y="45">target</text>`+"\n", lx+6, lx+6, lx+14)

	plotBottom := chartTop + chartRowH*len(shown)
	// Grid and axis labels every 0.5.
	for v := 0.0; v <= axis+1e-9; v += 0.5 {
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(v), chartTop-4, x(v), plotBottom)
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%.1f</text>`+"\n", x(v), plotBottom+16, v)
	}
	fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">xemu / qemu-user (lower is better)</text>`+"\n", x(axis/2), plotBottom+32)
	fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#555" stroke-dasharray="4 3"/>`+"\n", x(1), chartTop-4, x(1), plotBottom)

	for i, r := range shown {
		y := chartTop + chartRowH*i
		ratio, _ := r.Ratio()
		color := "#2e8b57"
		if ratio > r.Class.Target() {
			color = "#c0392b"
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", chartLabelW-8, y+14, xmlEscape(r.label()))
		bar(w, x, y+3, 11, ratio, axis, color)
		if rss, ok := r.RSSRatio(); ok {
			bar(w, x, y+16, 6, rss, axis, "#7f8fa6")
		}
		tx := x(r.Class.Target())
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-width="2"/>`+"\n", tx, y+1, tx, y+23)
	}
	fmt.Fprintf(w, "</svg>\n")
}

// bar draws one bar from 0 to value and prints the value past its end.
func bar(w *strings.Builder, x func(float64) float64, y, h int, value, axis float64, color string) {
	end := x(value)
	fmt.Fprintf(w, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%.2f</title></rect>`+"\n", x(0), y, end-x(0), h, color, value)
	if value > axis {
		fmt.Fprintf(w, `<path d="M%.1f %d l6 %.1f l-6 %.1f z" fill="%s"/>`+"\n", end, y, float64(h)/2, float64(h)/2, color)
		end += 6
	}
	fmt.Fprintf(w, `<text x="%.1f" y="%d" font-size="%d">%.2f</text>`+"\n", end+4, y+h, min(h+1, 12), value)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
