// Package explain answers "why exec format error?" for one file: what kind
// of program it is, whether xemu runs it and with what, and what the kernel
// does when it is executed directly (natively, through which binfmt_misc
// handler, or not at all), with the command that fixes what is missing.
package explain

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"xemu/binfmt"
	"xemu/loader"
)

// Verdict is what `xemu FILE` would do with the file.
type Verdict int

const (
	Runs       Verdict = iota // xemu runs it
	NoInterp                  // its dynamic loader is missing
	CannotRun                 // not an ELF program xemu runs
	NotFound                  // no such file
	BadSysroot                // --sysroot is not a directory
)

// Options are where explain looks.
type Options struct {
	Sysroot string         // xemu's --sysroot, "" for none
	Binfmt  *binfmt.System // nil: do not look at registered handlers
	// CrossRoots are directories that may hold a program's dynamic loader
	// (Debian's cross toolchains install them), suggested for --sysroot.
	CrossRoots []string
}

// DefaultCrossRoots are Debian's cross library directories.
var DefaultCrossRoots = []string{"/usr/aarch64-linux-gnu", "/usr/arm-linux-gnueabihf", "/usr/arm-linux-gnueabi"}

// Report is the answer: lines to print and the verdict.
type Report struct {
	Lines   []string
	Verdict Verdict
}

func (r *Report) add(format string, a ...any) { r.Lines = append(r.Lines, fmt.Sprintf(format, a...)) }

// label indents a labelled line.
func (r *Report) label(l, format string, a ...any) {
	if l != "" {
		l += ":"
	}
	r.add("  %-9s %s", l, fmt.Sprintf(format, a...))
}

// headSize is how much of a file the kernel reads to choose a handler
// (BINPRM_BUF_SIZE).
const headSize = 256

// Explain describes path.
func Explain(path string, o Options) Report {
	var r Report
	if o.Sysroot != "" {
		if st, err := os.Stat(o.Sysroot); err != nil || !st.IsDir() {
			r.add("--sysroot %s: not a directory", o.Sysroot)
			r.Verdict = BadSysroot
			return r
		}
	}
	r.Verdict = explainFile(&r, path, o, 0)
	return r
}

func explainFile(r *Report, path string, o Options, depth int) Verdict {
	f, err := os.Open(path)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			r.add("%s: no such file", path)
			return NotFound
		case errors.Is(err, unix.EACCES):
			r.add("%s: cannot read it (permission denied); xemu needs to read the programs it runs", path)
		default:
			r.add("%s: %v", path, unwrap(err))
		}
		return CannotRun
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		r.add("%s: not a regular file", path)
		return CannotRun
	}
	head := make([]byte, headSize)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	noExec := func(v Verdict) Verdict {
		if st.Mode()&0o111 == 0 {
			r.label("note", "not executable (no x permission): executing it directly fails with \"permission denied\"")
		}
		return v
	}
	switch {
	case strings.HasPrefix(string(head), "#!"):
		return noExec(explainScript(r, path, head, o, depth))
	case strings.HasPrefix(string(head), "\x7fELF"):
		return noExec(explainELF(r, path, f, head, o))
	}
	what := "not an ELF file"
	if n == 0 {
		what = "empty file"
	}
	r.add("%s: %s; xemu runs ARM and AArch64 ELF programs", path, what)
	kernelRoute(r, head, o, "")
	return CannotRun
}

// explainScript follows a #! line as fs/binfmt_script.c does.
func explainScript(r *Report, path string, head []byte, o Options, depth int) Verdict {
	interp, arg, err := loader.ParseShebang(head)
	if err != nil {
		r.add("%s: #! script with an unreadable interpreter line (the kernel says exec format error)", path)
		return CannotRun
	}
	line := interp
	if arg != "" {
		line += " " + arg
	}
	r.add("%s: #! script for %s", path, line)
	r.label("xemu", "runs ELF programs, not scripts: the kernel runs %s, which runs the script", interp)
	if depth+1 >= loader.MaxScriptNesting {
		r.label("kernel", "too many levels of #! interpreters (the kernel says ELOOP)")
		return CannotRun
	}
	r.add("interpreter:")
	explainFile(r, interp, o, depth+1)
	if o.Sysroot != "" && filepath.IsAbs(interp) {
		if in := filepath.Join(o.Sysroot, interp); in != interp {
			if _, err := os.Stat(in); err == nil {
				r.add("interpreter as an ARM program run by xemu finds it (in --sysroot):")
				explainFile(r, in, Options{Sysroot: o.Sysroot, CrossRoots: o.CrossRoots}, depth+1)
			}
		}
	}
	return CannotRun
}

func explainELF(r *Report, path string, f *os.File, head []byte, o Options) Verdict {
	readAt := func(p []byte, off int64) (int, error) { return f.ReadAt(p, off) }
	h, err := loader.ParseHeader(head, readAt)
	if err != nil {
		r.add("%s: ELF file xemu cannot run: %v", path, err)
		kernelRoute(r, head, o, "")
		return CannotRun
	}
	kind := map[int]string{2: "executable (ET_EXEC)", 3: "position-independent (ET_DYN)"}[h.Type]
	r.add("%s: ELF %d-bit little-endian %s, %s", path, h.Class, loader.MachineName(h.Machine), kind)
	var arch string
	switch {
	case h.Machine == loader.EMAArch64 && h.Class == 64:
		arch = "aarch64"
		r.label("ABI", "AArch64 LP64 (AAPCS64)")
	case h.Machine == loader.EMARM && h.Class == 32:
		arch = "arm"
		a := loader.ReadARMABI(f, h)
		r.label("ABI", "%s", a)
		if a.EABIVersion == 0 {
			r.label("xemu", "runs EABI programs only; this one uses the old ARM ABI")
			kernelRoute(r, head, o, arch)
			return CannotRun
		}
	case h.Machine == loader.EMX86_64:
		r.label("xemu", "does not run x86-64 programs: this host runs it natively")
		kernelRoute(r, head, o, "")
		return CannotRun
	default:
		r.label("xemu", "runs 32-bit ARM and 64-bit AArch64 programs, not %d-bit %s", h.Class, loader.MachineName(h.Machine))
		kernelRoute(r, head, o, "")
		return CannotRun
	}
	lf, err := loader.OpenFD(path, path, dupFD(f))
	if err != nil {
		r.label("xemu", "cannot run it: %v", err)
		return CannotRun
	}
	ip, err := lf.Interp()
	lf.Close()
	verdict := Runs
	cmd := "xemu"
	if o.Sysroot != "" {
		cmd += " --sysroot " + o.Sysroot
	}
	switch {
	case err != nil:
		r.label("linking", "dynamic, but: %v", err)
		verdict = CannotRun
	case ip == "":
		r.label("linking", "static (no dynamic loader)")
	default:
		r.label("linking", "dynamic, loader %s", ip)
		found, where, why := findInterp(ip, h, o.Sysroot)
		switch {
		case found:
			r.label("loader", "found %s", where)
		case why != "":
			r.label("loader", "%s", why)
			verdict = CannotRun
		default:
			fix := "pass --sysroot DIR, a root file system that contains it"
			for _, root := range o.CrossRoots {
				if ok, _, _ := findInterp(ip, h, root); ok && root != o.Sysroot {
					fix = "pass --sysroot " + root + " (it has one)"
					cmd = "xemu --sysroot " + root
					break
				}
			}
			where := "on the host"
			if o.Sysroot != "" {
				where = "in --sysroot " + o.Sysroot + " nor on the host"
			}
			r.label("loader", "not found %s; %s", where, fix)
			verdict = NoInterp
		}
	}
	switch verdict {
	case Runs:
		r.label("xemu", "runs it: %s %s", cmd, path)
	case NoInterp:
		r.label("xemu", "cannot start it without its loader: %s %s", cmd, path)
	}
	kernelRoute(r, head, o, arch)
	return verdict
}

// findInterp looks for the dynamic loader as xemu does: in the sysroot
// first, then on the host. why says what is wrong with one that exists.
func findInterp(ip string, prog *loader.Header, sysroot string) (found bool, where, why string) {
	var candidates [][2]string
	if sysroot != "" {
		candidates = append(candidates, [2]string{filepath.Join(sysroot, ip), "in --sysroot"})
	}
	candidates = append(candidates, [2]string{ip, "on the host"})
	for _, c := range candidates {
		f, err := loader.Open(ip, c[0])
		if errors.Is(err, loader.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, "", fmt.Sprintf("%s (%s): %v", c[0], c[1], err)
		}
		h := f.Header
		f.Close()
		if h.Machine != prog.Machine || h.Class != prog.Class {
			return false, "", fmt.Sprintf("%s (%s) is a %d-bit %s ELF, not %s", c[0], c[1], h.Class, loader.MachineName(h.Machine), loader.MachineName(prog.Machine))
		}
		return true, fmt.Sprintf("%s: %s", c[1], c[0]), ""
	}
	return false, "", ""
}

// kernelRoute says what happens when the file is executed directly: which
// binfmt_misc handler takes it, if any. arch names the xemu format the file
// is, "" if none.
func kernelRoute(r *Report, head []byte, o Options, arch string) {
	if o.Binfmt == nil {
		return
	}
	native := len(head) >= 20 && string(head[:4]) == "\x7fELF" && head[18] == loader.EMX86_64 && head[19] == 0
	if !o.Binfmt.Mounted() {
		switch {
		case native:
		case arch != "":
			r.label("kernel", "binfmt_misc is not mounted: executing it directly fails with \"exec format error\"; fix: sudo xemu binfmt install --arch %s", arch)
		}
		return
	}
	entries, err := o.Binfmt.Entries()
	if err != nil {
		r.label("kernel", "cannot read binfmt_misc entries: %v", unwrap(err))
		return
	}
	if on, err := o.Binfmt.Enabled(); err == nil && !on {
		r.label("kernel", "binfmt_misc is disabled as a whole (%s/status)", o.Binfmt.Dir)
		entries = nil
	}
	w := binfmt.Winner(entries, head)
	var others []string
	for _, e := range entries {
		if e != w && e.Matches(head) {
			state := "enabled"
			if !e.Enabled {
				state = "disabled"
			}
			others = append(others, fmt.Sprintf("%s (%s)", e.Name, state))
		}
	}
	switch {
	case w != nil:
		r.label("kernel", "executing it directly runs binfmt_misc handler %s: %s, flags %q", w.Name, w.Interpreter, w.Flags)
		if len(others) > 0 {
			r.label("", "also claimed by %s; the kernel uses the one registered last", strings.Join(others, ", "))
		}
	case native && head[4] == 2:
		r.label("kernel", "runs it natively")
	case arch != "":
		r.label("kernel", "no enabled binfmt_misc handler claims it: executing it directly fails with \"exec format error\"; fix: sudo xemu binfmt install --arch %s", arch)
		if len(others) > 0 {
			r.label("", "claimed by %s", strings.Join(others, ", "))
		}
	}
}

// dupFD duplicates f's descriptor for a loader.File to own.
func dupFD(f *os.File) int {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
