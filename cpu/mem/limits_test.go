package mem

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestLimits: RLIMIT_AS counts every mapping, RLIMIT_DATA private writable
// ones; MAP_FIXED's replaced pages are not counted twice; brk and a growing
// mremap are checked too; READ_IMPLIES_EXEC adds PROT_EXEC to readable
// mappings.
func TestLimits(t *testing.T) {
	s, err := New(Layout{Limit: 1 << 47, MinAddr: 0x10000, ArenaSize: 1 << 32})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	anon := func(n uint64, prot Prot, shared bool) (GuestAddr, error) {
		return s.Map(MapRequest{Length: n, Prot: prot, Shared: shared, FD: -1})
	}
	a, err := anon(16*PageSize, ProtRead|ProtWrite, false)
	if err != nil {
		t.Fatal(err)
	}
	s.SetLimits(Limits{AS: 20 * PageSize, Data: Unlimited})
	if _, err := anon(8*PageSize, ProtNone, false); err != unix.ENOMEM {
		t.Errorf("past RLIMIT_AS: %v, want ENOMEM", err)
	}
	if _, err := anon(4*PageSize, ProtNone, false); err != nil {
		t.Errorf("up to RLIMIT_AS: %v", err)
	}
	if _, err := s.Map(MapRequest{Addr: a, Length: 16 * PageSize, Prot: ProtRead, Fixed: true, FD: -1}); err != nil {
		t.Errorf("MAP_FIXED over existing pages: %v", err)
	}
	if _, err := s.Remap(a, 16*PageSize, 17*PageSize, true, false, 0); err != unix.ENOMEM {
		t.Errorf("mremap past RLIMIT_AS: %v, want ENOMEM", err)
	}
	s.SetBrk(0x10000000)
	if got := s.Brk(0x10000000 + PageSize); got != 0x10000000 {
		t.Errorf("brk past RLIMIT_AS moved to %#x", got)
	}
	s.SetLimits(Limits{AS: Unlimited, Data: 8 * PageSize})
	if _, err := anon(9*PageSize, ProtRead|ProtWrite, false); err != unix.ENOMEM {
		t.Errorf("past RLIMIT_DATA: %v, want ENOMEM", err)
	}
	if _, err := anon(8*PageSize, ProtRead|ProtWrite, true); err != nil {
		t.Errorf("shared memory is not data: %v", err)
	}
	if _, err := anon(8*PageSize, ProtRead, false); err != nil {
		t.Errorf("read-only memory is not data: %v", err)
	}
	if got := s.Brk(0x10000000 + 9*PageSize); got != 0x10000000 {
		t.Errorf("brk past RLIMIT_DATA moved to %#x", got)
	}
	s.SetLimits(Limits{AS: Unlimited, Data: Unlimited})
	s.SetReadImpliesExec(true)
	b, err := anon(PageSize, ProtRead|ProtWrite, false)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Find(b); m.Prot != ProtRead|ProtWrite|ProtExec {
		t.Errorf("READ_IMPLIES_EXEC mapping: prot %v", m.Prot)
	}
	if err := s.Protect(b, PageSize, ProtWrite); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Find(b); m.Prot != ProtWrite {
		t.Errorf("READ_IMPLIES_EXEC write-only: prot %v", m.Prot)
	}
}
