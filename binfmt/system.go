package binfmt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// DefaultDir is where binfmt_misc is mounted.
const DefaultDir = "/proc/sys/fs/binfmt_misc"

// binfmtfsMagic is BINFMTFS_MAGIC (include/uapi/linux/magic.h).
const binfmtfsMagic = 0x42494e4d

// System is a mounted (or mountable) binfmt_misc file system.
type System struct{ Dir string }

// Mounted reports whether binfmt_misc is mounted at s.Dir.
func (s System) Mounted() bool {
	var st unix.Statfs_t
	return unix.Statfs(s.Dir, &st) == nil && st.Type == binfmtfsMagic
}

// Mount mounts binfmt_misc at s.Dir unless it is mounted there already.
func (s System) Mount() error {
	if s.Mounted() {
		return nil
	}
	if err := unix.Mount("binfmt_misc", s.Dir, "binfmt_misc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting binfmt_misc at %s: %w", s.Dir, err)
	}
	return nil
}

// Enabled reports whether binfmt_misc as a whole is enabled (its status file).
func (s System) Enabled() (bool, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "status"))
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(string(b)) == "enabled", nil
}

// Entries are the registered handlers, in registration order as far as
// inode numbers tell it. Entries that vanish while being read are left out.
func (s System) Entries() ([]*Entry, error) {
	des, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for _, de := range des {
		name := de.Name()
		if name == "register" || name == "status" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.Dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		e, err := ParseEntry(name, string(b))
		if err != nil {
			return nil, err
		}
		if info, err := de.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				e.Inode = st.Ino
			}
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Inode < out[j].Inode })
	return out, nil
}

// Entry reads one entry, or returns an error satisfying
// errors.Is(err, os.ErrNotExist).
func (s System) Entry(name string) (*Entry, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, name))
	if err != nil {
		return nil, err
	}
	return ParseEntry(name, string(b))
}

// Register writes a registration. The kernel's errors are explained: EEXIST
// for a name in use, ENOENT for an interpreter it cannot open (F flag).
func (s System) Register(r Registration) error {
	if err := r.Validate(); err != nil {
		return err
	}
	err := os.WriteFile(filepath.Join(s.Dir, "register"), []byte(r.Line()+"\n"), 0)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return fmt.Errorf("registering %s: an entry of that name exists", r.Name)
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("registering %s: the kernel cannot open %s", r.Name, r.Interpreter)
	}
	return fmt.Errorf("registering %s: %w", r.Name, err)
}

// RegisterLine writes a registration as a binfmt.d file has it (any
// delimiter), unchecked but by the kernel.
func (s System) RegisterLine(line string) error {
	if err := os.WriteFile(filepath.Join(s.Dir, "register"), []byte(line+"\n"), 0); err != nil {
		return fmt.Errorf("registering %q: %w", line, err)
	}
	return nil
}

// Remove unregisters an entry.
func (s System) Remove(name string) error {
	return s.write(name, "-1")
}

// SetEnabled enables or disables an entry.
func (s System) SetEnabled(name string, on bool) error {
	if on {
		return s.write(name, "1")
	}
	return s.write(name, "0")
}

func (s System) write(name, what string) error {
	if name == "" || strings.ContainsAny(name, "/") || name == "register" || name == "status" {
		return fmt.Errorf("bad binfmt_misc entry name %q", name)
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(what)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
