// Package testenv decides what a test does when something it needs is not
// there. A plain `go test` skips, saying what is missing; `make test`, which
// installs every package the tests use, and CI, which also runs as root with
// binfmt_misc, fail instead, so a broken set-up cannot pass as a quiet skip.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// strict: make test sets XEMU_STRICT; CI is set by .ci/run (and most CI
// systems).
func strict() bool { return os.Getenv("XEMU_STRICT") != "" || onCI() }

func onCI() bool { return os.Getenv("CI") != "" }

// OnCI: the tests run under CI (.ci/run), where a red run keeps a change
// from landing: what varies from run to run there is fixed.
func OnCI() bool { return onCI() }

// Missing reports a tool, package or file the test needs that make test
// would have installed: a failure under make test and CI, a skip otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if strict() {
		t.Fatalf("%s (make test installs it: a failed set-up, not a reason to skip)", why)
	}
	t.Skip(why)
}

// Unavailable reports a privilege or kernel feature the test needs (root,
// binfmt_misc, System V IPC): a failure on CI, whose machine has them, and a
// skip elsewhere.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if onCI() {
		t.Fatalf("%s (CI runs as root with binfmt_misc and System V IPC: this must work there)", why)
	}
	t.Skip(why)
}

// NeedRoot is Unavailable unless the test runs as root.
func NeedRoot(t testing.TB, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root (%s)", what)
	}
}
