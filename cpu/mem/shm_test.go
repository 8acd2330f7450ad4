package mem

import (
	"testing"
	"xemu/internal/testenv"

	"golang.org/x/sys/unix"
)

// newSegment makes a private host segment of n bytes, removed when the test
// ends (it lives on while attached).
func newSegment(t *testing.T, n int) int {
	t.Helper()
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, n, unix.IPC_CREAT|0o600)
	if err != nil {
		testenv.Unavailable(t, "no System V shared memory: %v", err)
	}
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	return id
}

func nattch(t *testing.T, id int) uint64 {
	t.Helper()
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		t.Fatal(err)
	}
	return ds.Nattch
}

func TestShmAttachTwice(t *testing.T) {
	s, _ := newSpace(t)
	id := newSegment(t, 3*pg)
	a, err := s.Map(MapRequest{Length: 3 * pg, Prot: pRW, Shared: true, FD: -1, Shm: true, ShmID: id, Align: 4 * pg})
	if err != nil {
		t.Fatal(err)
	}
	if a%(4*pg) != 0 {
		t.Errorf("attached at %#x, not aligned", a)
	}
	b, err := s.Map(MapRequest{Addr: 0x200000, Length: 3 * pg, Prot: pR, Fixed: true, Shared: true, FD: -1, Shm: true, ShmID: id})
	if err != nil {
		t.Fatal(err)
	}
	if n := nattch(t, id); n != 2 {
		t.Errorf("nattch %d, want 2", n)
	}
	if err := s.Write(a+pg+5, []byte("seen")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if err := s.Read(b+pg+5, got); err != nil || string(got) != "seen" {
		t.Errorf("read through the second attach: %q %v", got, err)
	}
	if err := s.Write(b, []byte("x")); err == nil {
		t.Error("a read-only attach took a write")
	}
	// Splitting by munmap keeps the segment offset of each piece; shmdt
	// finds the rest of the attach.
	if err := s.Unmap(b+pg, pg); err != nil {
		t.Fatal(err)
	}
	if m, ok := s.Find(b + 2*pg); !ok || !m.Shm || m.ShmID != id || m.Offset != 2*pg {
		t.Errorf("piece after the hole: %+v", m)
	}
	if err := s.DetachShm(b + pg); err != unix.EINVAL {
		t.Errorf("shmdt inside a hole: %v, want EINVAL", err)
	}
	if err := s.DetachShm(b); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Find(b + 2*pg); ok {
		t.Error("shmdt left a piece of the attach")
	}
	if n := nattch(t, id); n != 1 {
		t.Errorf("nattch after shmdt %d, want 1", n)
	}
	if err := s.Unmap(a, 3*pg); err != nil {
		t.Fatal(err)
	}
	if n := nattch(t, id); n != 0 {
		t.Errorf("nattch after munmap %d, want 0", n)
	}
	if err := s.DetachShm(a); err != unix.EINVAL {
		t.Errorf("shmdt of nothing: %v", err)
	}
}

func TestShmAliases(t *testing.T) {
	s, _ := newSpace(t)
	id := newSegment(t, pg)
	a, _ := s.Map(MapRequest{Addr: 0x100000, Fixed: true, Length: pg, Prot: pRW, Shared: true, FD: -1, Shm: true, ShmID: id})
	b, _ := s.Map(MapRequest{Addr: 0x300000, Fixed: true, Length: pg, Prot: pRW, Shared: true, FD: -1, Shm: true, ShmID: id})
	if got := s.Aliases(a + 8); len(got) != 1 || got[0] != b+8 {
		t.Errorf("aliases of %#x: %#x", a+8, got)
	}
}

// TestShmRemap: mremap moves an attach (the host's mremap keeps the segment
// behind it) and the moved mapping keeps its shm identity and offset.
func TestShmRemap(t *testing.T) {
	s, _ := newSpace(t)
	id := newSegment(t, 2*pg)
	a, err := s.Map(MapRequest{Addr: 0x100000, Fixed: true, Length: 2 * pg, Prot: pRW, Shared: true, FD: -1, Shm: true, ShmID: id})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(a+pg, []byte("moved")); err != nil {
		t.Fatal(err)
	}
	b, err := s.Remap(a+pg, pg, pg, true, true, 0x400000)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := s.Find(b)
	if !ok || !m.Shm || m.ShmID != id || m.Offset != pg {
		t.Fatalf("moved piece: %+v", m)
	}
	got := make([]byte, 5)
	if err := s.Read(b, got); err != nil || string(got) != "moved" {
		t.Errorf("read after the move: %q %v", got, err)
	}
	// shmdt at the attach's start leaves the moved piece: its distance from
	// a is not its segment offset (ksys_shmdt's test), as on Linux.
	if err := s.DetachShm(a); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Find(b); !ok {
		t.Error("shmdt took a piece moved away from the attach")
	}
	if n := nattch(t, id); n != 1 {
		t.Errorf("nattch %d, want 1 (the moved piece)", n)
	}
}
