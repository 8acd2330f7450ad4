package binfmt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"xemu/loader"
)

// Installer registers xemu and keeps what a later uninstall needs.
type Installer struct {
	Sys System
	// ConfDir holds the files systemd-binfmt reads at boot (/etc/binfmt.d).
	ConfDir string
	// LibDir receives the copy of xemu a persistent registration names, so
	// that it is there at boot (/usr/local/lib/xemu).
	LibDir string
	// BootDirs are the other directories systemd-binfmt reads (boot.go).
	BootDirs []string
}

// DefaultInstaller uses the system's directories.
var DefaultInstaller = Installer{Sys: System{Dir: DefaultDir}, ConfDir: "/etc/binfmt.d",
	LibDir: "/usr/local/lib/xemu", BootDirs: DefaultBootDirs}

// InstallOptions are `xemu binfmt install`'s.
type InstallOptions struct {
	Archs       []string
	Interpreter string // xemu's absolute path
	Prefix      string // entries are named PREFIX-ARCH
	Credential  bool
	Persistent  bool
	Replace     bool
	// Marked registers a link to xemu named MarkerName instead of xemu
	// itself, for kernels before 5.12: they pass no AT_FLAGS_PRESERVE_ARGV0,
	// so the name the kernel runs xemu by is what tells xemu that its
	// arguments are FULL-PATH ARGV0 ARGS.
	Marked bool
}

// MarkerName is the name of the link Marked registrations use.
const MarkerName = "xemu-binfmt"

// EntryName is the name of xemu's entry for an architecture.
func EntryName(prefix, arch string) string { return prefix + "-" + arch }

// Another handler that install --replace takes the programs from is
// disabled, not removed: it stays registered as it was (its flags, the
// interpreter file the kernel opened for F), and uninstall enables it
// again. Which handlers install disabled is kept in binfmt_misc itself, as
// a disabled entry named replacedPrefix(...)+OTHER that claims no file: it
// lives exactly as long as the entries it describes, and uninstall finds it
// from any file system, such as the host's after an install that ran in a
// container, whose own /run went away with it.
func replacedPrefix(prefix, arch string) string { return EntryName(prefix, arch) + ".replaced." }

// replacedRecord is the entry that records that install disabled other for
// xemu's entry of arch. Its extension is one no file has, and it is
// disabled as soon as it is registered; its interpreter does not exist.
func replacedRecord(prefix, arch, other string) Registration {
	return Registration{Name: replacedPrefix(prefix, arch) + other, Extension: "xemu-binfmt-record",
		Interpreter: "/nonexistent/xemu-binfmt-record"}
}

// CheckArchs refuses architecture names xemu has no format for.
func CheckArchs(archs []string) error {
	if len(archs) == 0 {
		return errors.New("no architecture given")
	}
	for _, a := range archs {
		if _, ok := FormatFor(a); !ok {
			return fmt.Errorf("unknown architecture %q (xemu registers aarch64 and arm)", a)
		}
	}
	return nil
}

// Install registers xemu for each architecture; it reports what it did.
func (in Installer) Install(o InstallOptions) ([]string, error) {
	if err := CheckArchs(o.Archs); err != nil {
		return nil, err
	}
	if err := in.Sys.Mount(); err != nil {
		return nil, err
	}
	var done []string
	interp := o.Interpreter
	if o.Persistent {
		p, err := in.copyBinary(interp)
		if err != nil {
			return nil, err
		}
		interp = p
		done = append(done, "copied xemu to "+p+" for the registration made at boot")
	}
	if o.Marked {
		p := filepath.Join(in.LibDir, MarkerName)
		if err := os.MkdirAll(in.LibDir, 0o755); err != nil {
			return done, err
		}
		os.Remove(p)
		if err := os.Symlink(interp, p); err != nil {
			return done, fmt.Errorf("linking %s to %s: %w", p, interp, err)
		}
		interp = p
		done = append(done, "linked "+p+" to xemu: this kernel (before 5.12) does not say when it preserves argv[0], the name does")
	}
	flags := string(FlagFixBinary) + string(FlagPreserveArgv0)
	if o.Credential {
		flags += string(FlagCredentials)
	}
	entries, err := in.Sys.Entries()
	if err != nil {
		return nil, err
	}
	// Every conflict is reported before anything changes.
	var ours, others []string
	for _, arch := range o.Archs {
		for _, e := range in.conflicts(entries, o.Prefix, arch) {
			what := fmt.Sprintf("%s (%s, %s)", e.Name, state(e), e.Interpreter)
			if e.Name == EntryName(o.Prefix, arch) {
				ours = append(ours, what)
			} else {
				others = append(others, what)
			}
		}
	}
	if !o.Replace && len(ours)+len(others) > 0 {
		var why []string
		if len(ours) > 0 {
			why = append(why, "entries of the same name exist: "+strings.Join(ours, ", "))
		}
		if len(others) > 0 {
			why = append(why, "other handlers claim these programs: "+strings.Join(others, ", ")+" (--replace disables them, uninstall enables them again)")
		}
		return nil, fmt.Errorf("%s; pass --replace to replace them", strings.Join(why, "; "))
	}
	for _, arch := range o.Archs {
		f, _ := FormatFor(arch)
		name := EntryName(o.Prefix, arch)
		for _, e := range in.conflicts(entries, o.Prefix, arch) {
			if e.Name == name {
				if err := in.Sys.Remove(e.Name); err != nil && !errors.Is(err, os.ErrNotExist) {
					return done, fmt.Errorf("removing %s: %w", e.Name, err)
				}
				done = append(done, "removed "+e.Name)
				continue
			}
			if err := in.disable(o.Prefix, arch, e.Name); err != nil {
				return done, err
			}
			done = append(done, "disabled "+e.Name+" (uninstall enables it again)")
			if o.Persistent {
				kept, err := in.keepFromBoot(e.Name, arch)
				done = append(done, kept...)
				if err != nil {
					return done, err
				}
			}
		}
		r := ForFormat(name, f, interp, flags)
		if err := in.Sys.Register(r); err != nil {
			return done, err
		}
		done = append(done, fmt.Sprintf("registered %s: %s programs run with %s (flags %s)", name, f.Describe(), interp, NormalFlags(flags)))
		if o.Persistent {
			p := filepath.Join(in.ConfDir, name+".conf")
			text := "# " + f.Describe() + " programs run with xemu; written by xemu binfmt install\n" + r.Line() + "\n"
			if err := os.MkdirAll(in.ConfDir, 0o755); err != nil {
				return done, err
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				return done, err
			}
			done = append(done, "wrote "+p+" for systemd-binfmt")
		}
	}
	return done, nil
}

// conflicts are the entries install must remove first for arch: its own
// name, and every other enabled entry that claims the same programs.
func (in Installer) conflicts(entries []*Entry, prefix, arch string) []*Entry {
	f, _ := FormatFor(arch)
	var out []*Entry
	for _, e := range entries {
		if e.Name == EntryName(prefix, arch) || e.Enabled && e.Claims(f) {
			out = append(out, e)
		}
	}
	return out
}

func state(e *Entry) string {
	if e.Enabled {
		return "enabled"
	}
	return "disabled"
}

// disable disables other and records that install did, for uninstall.
func (in Installer) disable(prefix, arch, other string) error {
	rec := replacedRecord(prefix, arch, other)
	if err := in.Sys.Register(rec); err != nil {
		if _, serr := in.Sys.Entry(rec.Name); serr != nil {
			return fmt.Errorf("recording that %s is disabled: %w", other, err)
		}
		// An earlier install's record, kept: that one disabled it.
	}
	if err := in.Sys.SetEnabled(rec.Name, false); err != nil {
		return fmt.Errorf("disabling the record %s: %w", rec.Name, err)
	}
	if err := in.Sys.SetEnabled(other, false); err != nil {
		in.Sys.Remove(rec.Name)
		return fmt.Errorf("disabling %s: %w", other, err)
	}
	return nil
}

// copyBinary copies xemu into LibDir (by a rename, so that a running copy
// is never changed under it) and returns the copy's path.
func (in Installer) copyBinary(src string) (string, error) {
	dst := filepath.Join(in.LibDir, "xemu")
	if err := os.MkdirAll(in.LibDir, 0o755); err != nil {
		return "", err
	}
	from, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer from.Close()
	tmp, err := os.CreateTemp(in.LibDir, ".xemu-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(tmp, from)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o755)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("copying xemu to %s: %w", dst, err)
	}
	return dst, nil
}

// Uninstall removes xemu's entries and files for each architecture and
// registers again what install --replace removed.
func (in Installer) Uninstall(archs []string, prefix string) ([]string, error) {
	if err := CheckArchs(archs); err != nil {
		return nil, err
	}
	var done []string
	if in.Sys.Mounted() {
		for _, arch := range archs {
			name := EntryName(prefix, arch)
			err := in.Sys.Remove(name)
			switch {
			case err == nil:
				done = append(done, "removed "+name)
			case !errors.Is(err, os.ErrNotExist):
				return done, fmt.Errorf("removing %s: %w", name, err)
			}
		}
	}
	for _, arch := range archs {
		p := filepath.Join(in.ConfDir, EntryName(prefix, arch)+".conf")
		if err := os.Remove(p); err == nil {
			done = append(done, "removed "+p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return done, err
		}
	}
	if in.Sys.Mounted() {
		entries, err := in.Sys.Entries()
		if err != nil {
			return done, err
		}
		for _, arch := range archs {
			for _, rec := range entries {
				other, ok := strings.CutPrefix(rec.Name, replacedPrefix(prefix, arch))
				if !ok {
					continue
				}
				err := in.Sys.SetEnabled(other, true)
				switch {
				case err == nil:
					done = append(done, "enabled again "+other)
				case errors.Is(err, os.ErrNotExist):
					done = append(done, other+", which install disabled, is no longer registered")
				default:
					return done, fmt.Errorf("enabling %s again: %w", other, err)
				}
				if err := in.Sys.Remove(rec.Name); err != nil && !errors.Is(err, os.ErrNotExist) {
					return done, fmt.Errorf("removing %s: %w", rec.Name, err)
				}
			}
		}
	}
	restored, err := in.restoreBoot(archs)
	done = append(done, restored...)
	if err != nil {
		return done, err
	}
	if len(done) == 0 {
		done = append(done, "nothing to remove: no xemu entries named "+prefix+"-ARCH")
	}
	return done, nil
}

// Handler is one entry that claims programs of a format, as status shows it.
type Handler struct {
	Entry *Entry
	Kind  string // "xemu", "qemu" or "other", from the interpreter's name
	// File says what the interpreter file is now: "static", "dynamic
	// (needs /lib/...)", "missing", ...
	File string
}

// FormatStatus is what the kernel does with one format's programs.
type FormatStatus struct {
	Format   Format
	Handlers []Handler // every entry that claims it, in registration order
	Winner   *Entry    // the one the kernel uses, nil if none
}

// Status looks at binfmt_misc (which must be mounted) for each format.
func (s System) Status() ([]FormatStatus, error) {
	entries, err := s.Entries()
	if err != nil {
		return nil, err
	}
	if on, err := s.Enabled(); err == nil && !on {
		for _, e := range entries {
			e.Enabled = false
		}
	}
	var out []FormatStatus
	for _, f := range Formats {
		fs := FormatStatus{Format: f}
		for _, e := range entries {
			if e.Claims(f) {
				fs.Handlers = append(fs.Handlers, Handler{Entry: e, Kind: kindOf(e.Interpreter), File: describeFile(e.Interpreter)})
			}
		}
		fs.Winner = Winner(entries, f.Samples()[0])
		out = append(out, fs)
	}
	return out, nil
}

func kindOf(interp string) string {
	base := filepath.Base(interp)
	switch {
	case strings.Contains(base, "xemu"):
		return "xemu"
	case strings.Contains(base, "qemu"):
		return "qemu"
	}
	return "other"
}

// describeFile says whether an interpreter is there and static: a dynamic
// one fails inside a chroot that lacks its libraries.
func describeFile(path string) string {
	f, err := loader.Open(path, path)
	if errors.Is(err, loader.ErrNotFound) {
		return "file missing"
	}
	if err != nil {
		return "not an ELF program: " + err.Error()
	}
	defer f.Close()
	ip, err := f.Interp()
	switch {
	case err != nil:
		return err.Error()
	case ip != "":
		return "dynamic: needs " + ip + ", which chroots may lack"
	}
	return "static"
}
