package cpu

import "testing"

func TestEnvToBorrow(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want int
	}{
		{[]string{"PATH=/bin", "TZ=UTC"}, 1},
		{[]string{"A=1"}, 0},
		{[]string{"A="}, 0},
		{nil, -1},
		{[]string{}, -1},
		{[]string{"GOMAXPROCS=2", "TZ=UTC"}, -1}, // the user's
		{[]string{"TZ=UTC", "GOMAXPROCS=4"}, -1}, // the user's
		// Read by the runtime or xemu: the one before is borrowed, and these
		// are set again after it.
		{[]string{"TZ=UTC", "GODEBUG=x=1"}, 0},
		{[]string{"A=1", "TZ=UTC", "XEMU_SYSROOT=/r", "GOFLAGS=-x"}, 1},
		{[]string{"GOFLAGS=-x"}, -1},
		{[]string{"XEMU_A=1", "GODEBUG=x=1"}, -1},
		// Entries that cannot be set again: the borrowed one or one after it.
		{[]string{"TZ=UTC", "NOEQUALS"}, -1},
		{[]string{"NOEQUALS", "TZ=UTC"}, 1},
		{[]string{"TZ=UTC", "=x"}, -1},
		{[]string{"TZ=UTC", "A=1", "TZ=GMT"}, -1}, // twice: Go keeps the first
		{[]string{"TZ=UTC", "TZ=GMT", "A=1"}, 2},
		{[]string{"TZA=1", "TZ=UTC"}, 1}, // another name
		{[]string{"PATH=/bin", "LANG=C", "TZ=UTC"}, 2},
	} {
		if got := envToBorrow(c.env); got != c.want {
			t.Errorf("envToBorrow(%q) = %d, want %d", c.env, got, c.want)
		}
	}
}
