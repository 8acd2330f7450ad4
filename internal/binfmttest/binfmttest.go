// Package binfmttest changes the kernel's binfmt_misc for tests and
// benchmarks, which share it with everything else on the machine: every
// change is undone when the test or benchmark ends, failures included.
package binfmttest

import (
	"errors"
	"os"
	"testing"

	"xemu/binfmt"
)

// DisableOthers disables every enabled handler of ARM or AArch64 programs
// until tb ends.
func DisableOthers(tb testing.TB, sys binfmt.System) {
	tb.Helper()
	entries, err := sys.Entries()
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if !e.Enabled || !(e.Claims(binfmt.Formats[0]) || e.Claims(binfmt.Formats[1])) {
			continue
		}
		if err := sys.SetEnabled(e.Name, false); err != nil {
			tb.Fatal(err)
		}
		name := e.Name
		tb.Logf("disabled %s for the test", name)
		tb.Cleanup(func() {
			if err := sys.SetEnabled(name, true); err != nil {
				tb.Errorf("enabling %s again: %v", name, err)
			}
		})
	}
}

// Register registers r and returns a function that removes it, which also
// runs when tb ends if it has not.
func Register(tb testing.TB, sys binfmt.System, r binfmt.Registration) (remove func()) {
	tb.Helper()
	if err := sys.Register(r); err != nil {
		tb.Fatal(err)
	}
	remove = func() {
		if err := sys.Remove(r.Name); err != nil && !errors.Is(err, os.ErrNotExist) {
			tb.Errorf("removing %s: %v", r.Name, err)
		}
	}
	tb.Cleanup(remove)
	return remove
}
