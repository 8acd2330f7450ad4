package binfmt

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// At boot systemd-binfmt registers every line of the *.conf files in
// /etc/binfmt.d, /run/binfmt.d, /usr/local/lib/binfmt.d and
// /usr/lib/binfmt.d (binfmt.d(5)); a file in an earlier directory hides
// one of the same name in a later one. qemu's packages put their handlers
// there (/usr/lib/binfmt.d/qemu-aarch64.conf), so a handler that install
// --persistent --replace disabled would be registered again at the next
// boot, next to xemu's. Install keeps it out: it writes a file of the same
// name in /etc/binfmt.d with the other file's lines but that registration,
// which it keeps in a comment; an original that was in /etc/binfmt.d itself
// is moved aside (NAME.conf.xemu-replaced, which systemd-binfmt does not
// read). Uninstall puts back every registration it kept, and registers it
// again if binfmt_misc lacks it, so that the machine is as it was before
// install, rebooted in between or not.

// DefaultBootDirs are the directories systemd-binfmt reads after
// /etc/binfmt.d (the Installer's ConfDir), in order.
var DefaultBootDirs = []string{"/run/binfmt.d", "/usr/local/lib/binfmt.d", "/usr/lib/binfmt.d"}

const (
	overrideHead = "# Written by xemu binfmt install --persistent --replace in place of "
	overrideWhy  = "# so that what it registered for programs xemu runs does not come back at boot; xemu binfmt uninstall puts it back."
	keptPrefix   = "#xemu-kept "
	asideSuffix  = ".xemu-replaced"
)

// confLineName is the entry name a binfmt.d line registers (its first
// field, after the delimiter the line starts with), or "" for a comment or
// an empty line.
func confLineName(line string) string {
	l := strings.TrimSpace(line)
	if l == "" || l[0] == '#' || l[0] == ';' {
		return ""
	}
	name, _, _ := strings.Cut(l[1:], l[:1])
	return name
}

// bootFiles maps each *.conf name to the file systemd-binfmt reads by that
// name: the first directory's.
func (in Installer) bootFiles() map[string]string {
	files := map[string]string{}
	for _, dir := range append([]string{in.ConfDir}, in.BootDirs...) {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
		for _, p := range paths {
			if _, ok := files[filepath.Base(p)]; !ok {
				files[filepath.Base(p)] = p
			}
		}
	}
	return files
}

// override is a file install wrote in ConfDir: the original it stands for,
// the registrations it keeps from boot (with the architecture xemu took
// them over for) and the original's other lines.
type override struct {
	original string
	kept     [][2]string // arch, line
	rest     []string
}

func parseOverride(text string) (*override, bool) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	orig, ok := strings.CutPrefix(lines[0], overrideHead)
	if !ok {
		return nil, false
	}
	o := &override{original: orig}
	for _, l := range lines[1:] {
		if k, ok := strings.CutPrefix(l, keptPrefix); ok {
			arch, line, _ := strings.Cut(k, " ")
			o.kept = append(o.kept, [2]string{arch, line})
		} else if l != overrideWhy {
			o.rest = append(o.rest, l)
		}
	}
	return o, true
}

func (o *override) text() string {
	var b strings.Builder
	b.WriteString(overrideHead + o.original + "\n")
	b.WriteString(overrideWhy + "\n")
	for _, k := range o.kept {
		b.WriteString(keptPrefix + k[0] + " " + k[1] + "\n")
	}
	for _, l := range o.rest {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// keepFromBoot stops systemd-binfmt from registering name at boot, which
// install disabled for arch's programs. It reports what it changed.
func (in Installer) keepFromBoot(name, arch string) ([]string, error) {
	var done []string
	files := in.bootFiles()
	for _, base := range slices.Sorted(maps.Keys(files)) {
		path := files[base]
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		o, ours := parseOverride(string(b))
		if !ours {
			o = &override{original: path, rest: strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")}
		}
		var rest []string
		for _, l := range o.rest {
			if confLineName(l) == name {
				o.kept = append(o.kept, [2]string{arch, strings.TrimSpace(l)})
			} else {
				rest = append(rest, l)
			}
		}
		if len(rest) == len(o.rest) {
			continue
		}
		o.rest = rest
		dst := filepath.Join(in.ConfDir, base)
		if !ours && filepath.Dir(path) == filepath.Clean(in.ConfDir) {
			o.original = dst + asideSuffix
			if err := os.Rename(dst, o.original); err != nil {
				return done, fmt.Errorf("moving %s aside: %w", dst, err)
			}
			done = append(done, "moved "+dst+" to "+o.original)
		}
		if err := os.MkdirAll(in.ConfDir, 0o755); err != nil {
			return done, err
		}
		if err := os.WriteFile(dst, []byte(o.text()), 0o644); err != nil {
			return done, err
		}
		done = append(done, fmt.Sprintf("wrote %s: systemd-binfmt no longer registers %s at boot (from %s)", dst, name, path))
	}
	return done, nil
}

// restoreBoot undoes keepFromBoot for the architectures uninstalled: the
// kept registrations go back to the boot files, and into binfmt_misc where
// they are missing from it.
func (in Installer) restoreBoot(archs []string) ([]string, error) {
	var done []string
	paths, _ := filepath.Glob(filepath.Join(in.ConfDir, "*.conf"))
	for _, dst := range paths {
		b, err := os.ReadFile(dst)
		if err != nil {
			continue
		}
		o, ours := parseOverride(string(b))
		if !ours {
			continue
		}
		var still [][2]string
		for _, k := range o.kept {
			if !slices.Contains(archs, k[0]) {
				still = append(still, k)
				continue
			}
			if in.Sys.Mounted() {
				name := confLineName(k[1])
				if _, err := in.Sys.Entry(name); errors.Is(err, os.ErrNotExist) {
					if err := in.Sys.RegisterLine(k[1]); err != nil {
						return done, err
					}
					done = append(done, "registered "+name+" again, as "+o.original+" does at boot")
				}
			}
		}
		if len(still) == len(o.kept) {
			continue
		}
		if len(still) > 0 {
			// The architectures still installed keep theirs out.
			o.kept = still
			if err := os.WriteFile(dst, []byte(o.text()), 0o644); err != nil {
				return done, err
			}
			done = append(done, "rewrote "+dst)
			continue
		}
		if err := os.Remove(dst); err != nil {
			return done, err
		}
		if o.original == dst+asideSuffix {
			if err := os.Rename(o.original, dst); err != nil {
				return done, fmt.Errorf("putting %s back: %w", dst, err)
			}
			done = append(done, "put "+dst+" back")
		} else {
			done = append(done, "removed "+dst+": systemd-binfmt reads "+o.original+" again")
		}
	}
	return done, nil
}
