package mem

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFilePagesPastEOFAreRefused: pages of a file mapping wholly past the end
// of the file are present but inaccessible, to the door and to the CPU alike.
func TestFilePagesPastEOFAreRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, make([]byte, 5000), 0o644)
	fd, err := unix.Open(p, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	s, err := New(Layout{Limit: 1 << 47, MinAddr: 0x10000, ArenaSize: 1 << 32})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.Map(MapRequest{Length: 4 * PageSize, Prot: ProtRead, FD: fd})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := s.Find(a)
	if m.EOF() != a+2*PageSize {
		t.Fatalf("EOF = %#x, want %#x", m.EOF(), a+2*PageSize)
	}
	b := make([]byte, 8)
	if err := s.Read(a+PageSize+900, b); err != nil {
		t.Errorf("read inside the last file page: %v", err)
	}
	if err := s.Read(a+2*PageSize, b); err != unix.EFAULT {
		t.Errorf("read past EOF: %v, want EFAULT", err)
	}
	if pte := s.pt.lookup(uint64(a + 3*PageSize)); pte&ptePresent == 0 || pte&7 != 0 {
		t.Errorf("pte past EOF = %#x", pte)
	}
	// A mapping at an offset past the end is refused from its first page.
	b2, err := s.Map(MapRequest{Length: PageSize, Prot: ProtRead, FD: fd, Offset: 2 * PageSize})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Find(b2); m.EOF() != b2 {
		t.Errorf("EOF of a mapping past the file = %#x, want %#x", m.EOF(), b2)
	}
}
