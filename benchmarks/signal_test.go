package benchmarks

import (
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// signalSends is how many signals each latency measurement sends.
const signalSends = 50

// signalRow is the time from kill(2) to the guest handler's first action,
// for a guest spinning without system calls or memory accesses.
type signalRow struct {
	Arch       guestArch
	Xemu, Qemu []time.Duration
	Problem    string
}

var signalRows []*signalRow

// latencies starts an emulator on the spinning program and times each
// SIGUSR1 until the handler's answer arrives on the pipe.
func latencies(emulator, prog string) ([]time.Duration, error) {
	cmd := exec.Command(emulator, prog)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	buf := make([]byte, 1)
	if _, err := io.ReadFull(out, buf); err != nil || buf[0] != 'r' {
		return nil, fmt.Errorf("%s: no ready byte (%v)", emulator, err)
	}
	// Let it settle into the loop.
	time.Sleep(50 * time.Millisecond)
	var d []time.Duration
	for i := 0; i < signalSends; i++ {
		got := make(chan error, 1)
		start := time.Now()
		cmd.Process.Signal(syscall.SIGUSR1)
		go func() {
			_, err := io.ReadFull(out, buf)
			got <- err
		}()
		select {
		case err := <-got:
			if err != nil {
				return d, err
			}
		case <-time.After(5 * time.Second):
			return d, fmt.Errorf("%s: signal %d not handled within 5 s", emulator, i+1)
		}
		d = append(d, time.Since(start))
		time.Sleep(2 * time.Millisecond)
	}
	return d, nil
}

// BenchmarkSignalLatency times kill → guest handler for a spinning guest.
func BenchmarkSignalLatency(b *testing.B) {
	for _, a := range arches {
		b.Run(a.Name, func(b *testing.B) {
			prog := compile(b, a, "sigspin")
			row := &signalRow{Arch: a}
			var err error
			if row.Qemu, err = latencies(a.Qemu, prog); err != nil {
				row.Problem = "qemu: " + err.Error()
			}
			if row.Xemu, err = latencies(xemu(b), prog); err != nil {
				row.Problem = strings.TrimSpace(row.Problem + " xemu: " + err.Error())
				b.Error(err)
			}
			record(&signalRows, row, func(r *signalRow) bool { return r.Arch.Name == a.Name })
			if len(row.Xemu) > 0 {
				b.ReportMetric(float64(medianOf(row.Xemu).Microseconds()), "xemu-µs")
			}
			if len(row.Qemu) > 0 {
				b.ReportMetric(float64(medianOf(row.Qemu).Microseconds()), "qemu-µs")
			}
		})
	}
}

func medianOf(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func writeSignalTable(w *strings.Builder) {
	fmt.Fprintf(w, "## Signal delivery\n\n")
	fmt.Fprintf(w, "Time from kill(SIGUSR1) by the benchmark to the first byte the guest handler writes, for a guest spinning without system calls or memory accesses (benchmarks/kernels/sigspin.c), %d signals per emulator. Target: under 10 ms.\n\n", signalSends)
	fmt.Fprintf(w, "| arch | xemu median | xemu max | qemu median | qemu max | note |\n|---|---:|---:|---:|---:|---|\n")
	for _, r := range signalRows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.Arch.Name, micro(medianOf(r.Xemu)), micro(maxOf(r.Xemu)),
			micro(medianOf(r.Qemu)), micro(maxOf(r.Qemu)), r.Problem)
	}
	fmt.Fprintf(w, "\n")
}

func maxOf(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d)
}

func micro(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}
