package kernel

import (
	"reflect"
	"testing"
)

// TestExecStateRoundTrip: what an execve writes into --exec-state is what
// the next xemu reads back.
func TestExecStateRoundTrip(t *testing.T) {
	for _, st := range []ExecState{
		{},
		{Mask: 1 << 9, Ignored: 1 << 12},
		{Personality: addrNoRandomize | ReadImpliesExec},
		{Mask: 3, Personality: addrNoRandomize, Limits: map[int]*Rlimit{RlimitAS: {Cur: 1 << 30, Max: 1 << 31}, RlimitData: {Cur: 5, Max: 5}}},
	} {
		got, err := ParseExecState(st.String())
		if err != nil {
			t.Errorf("%q: %v", st, err)
			continue
		}
		if !reflect.DeepEqual(got, st) {
			t.Errorf("%q read back as %+v, want %+v", st, got, st)
		}
	}
	for _, bad := range []string{"", "mask=0", "mask=0,ignore=0,personality=zz", "mask=0,ignore=0,personality=100000000", "mask=0,ignore=0,rlimit9=10:5"} {
		if _, err := ParseExecState(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
