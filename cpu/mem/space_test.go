package mem

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

const (
	pR   = ProtRead
	pRW  = ProtRead | ProtWrite
	pRX  = ProtRead | ProtExec
	pRWX = ProtRead | ProtWrite | ProtExec
	pg   = PageSize
)

// recorder is an Observer that remembers what it was told.
type recorder struct {
	flushes int
	inval   [][2]GuestAddr
}

func (r *recorder) FlushTLB() { r.flushes++ }
func (r *recorder) InvalidateCode(start, end GuestAddr) {
	r.inval = append(r.inval, [2]GuestAddr{start, end})
}

// invalidated reports whether every byte of [start, end) was invalidated.
func (r *recorder) invalidated(start, end GuestAddr) bool {
	for a := start; a < end; a++ {
		ok := false
		for _, iv := range r.inval {
			if a >= iv[0] && a < iv[1] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func newSpace(t *testing.T) (*AddressSpace, *recorder) {
	t.Helper()
	s, err := New(Layout{Limit: 1 << 47, MinAddr: 0x10000, ArenaSize: 1 << 36})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	r := &recorder{}
	s.SetObserver(r)
	return s, r
}

func mustMap(t *testing.T, s *AddressSpace, addr GuestAddr, length uint64, prot Prot) GuestAddr {
	t.Helper()
	got, err := s.Map(MapRequest{Addr: addr, Length: length, Prot: prot, Fixed: addr != 0, FD: -1})
	if err != nil {
		t.Fatalf("map %#x+%#x: %v", addr, length, err)
	}
	if addr != 0 && got != addr {
		t.Fatalf("map at %#x returned %#x", addr, got)
	}
	return got
}

// fill writes byte v over [a, a+n) ignoring permissions.
func fill(t *testing.T, s *AddressSpace, a GuestAddr, n int, v byte) {
	t.Helper()
	if err := s.Poke(a, bytes.Repeat([]byte{v}, n)); err != nil {
		t.Fatalf("poke %#x: %v", a, err)
	}
}

// expectBytes checks that [a, a+n) all hold v.
func expectBytes(t *testing.T, s *AddressSpace, a GuestAddr, n int, v byte) {
	t.Helper()
	b := make([]byte, n)
	if err := s.Read(a, b); err != nil {
		t.Fatalf("read %#x: %v", a, err)
	}
	for i, c := range b {
		if c != v {
			t.Fatalf("byte at %#x = %#x, want %#x", a+GuestAddr(i), c, v)
		}
	}
}

type span struct {
	start, end GuestAddr
	prot       Prot
}

func expectMappings(t *testing.T, s *AddressSpace, want ...span) {
	t.Helper()
	ms := s.Mappings()
	if len(ms) != len(want) || s.Count() != len(want) {
		t.Fatalf("mappings = %+v (Count %d), want %+v", ms, s.Count(), want)
	}
	for i, m := range ms {
		if m.Start != want[i].start || m.End != want[i].end || m.Prot != want[i].prot {
			t.Fatalf("mapping %d = [%#x,%#x) %v, want [%#x,%#x) %v", i, m.Start, m.End, m.Prot, want[i].start, want[i].end, want[i].prot)
		}
	}
}

func TestMapAndFind(t *testing.T) {
	s, _ := newSpace(t)
	a := mustMap(t, s, 0x100000, 3*pg-100, pRW) // rounded up to 3 pages
	expectMappings(t, s, span{a, a + 3*pg, pRW})
	if m, ok := s.Find(a + 2*pg + 4095); !ok || m.Start != a {
		t.Fatalf("Find in last page: %+v %v", m, ok)
	}
	if _, ok := s.Find(a + 3*pg); ok {
		t.Fatal("Find past the end succeeded")
	}
	if _, ok := s.Find(a - 1); ok {
		t.Fatal("Find before the start succeeded")
	}
	// New anonymous memory reads as zero.
	expectBytes(t, s, a, 3*pg, 0)
}

func TestMapErrors(t *testing.T) {
	s, _ := newSpace(t)
	for _, c := range []struct {
		name string
		r    MapRequest
		want error
	}{
		{"zero length", MapRequest{Length: 0, Prot: pRW, FD: -1}, unix.EINVAL},
		{"unaligned offset", MapRequest{Length: pg, Prot: pRW, FD: -1, Offset: 100}, unix.EINVAL},
		{"unaligned fixed", MapRequest{Addr: 0x100100, Length: pg, Prot: pRW, Fixed: true, FD: -1}, unix.EINVAL},
		{"fixed past limit", MapRequest{Addr: 1<<47 - pg, Length: 2 * pg, Prot: pRW, Fixed: true, FD: -1}, unix.ENOMEM},
		{"too long", MapRequest{Length: 1 << 48, Prot: pRW, FD: -1}, unix.ENOMEM},
		{"length overflows", MapRequest{Length: ^uint64(0) - 10, Prot: pRW, FD: -1}, unix.ENOMEM},
		{"bad descriptor", MapRequest{Addr: 0x100000, Length: pg, Prot: pRW, Fixed: true, FD: 1 << 20}, unix.EBADF},
	} {
		if _, err := s.Map(c.r); err != c.want {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := s.Map(MapRequest{Addr: 0x1000, Length: pg, Prot: pRW, Fixed: true, FD: -1}); err == nil {
		t.Error("fixed map below MinAddr succeeded")
	}
	if s.Count() != 0 {
		t.Fatalf("failed maps left %d mappings", s.Count())
	}
}

// A fixed map that fails must leave what it would have replaced in place.
func TestMapFixedFailureKeepsOld(t *testing.T) {
	s, _ := newSpace(t)
	a := mustMap(t, s, 0x100000, 2*pg, pRW)
	fill(t, s, a, 2*pg, 0x5a)
	if _, err := s.Map(MapRequest{Addr: a, Length: 2 * pg, Prot: pRW, Fixed: true, FD: 1 << 20}); err == nil {
		t.Fatal("map with a bad descriptor succeeded")
	}
	expectMappings(t, s, span{a, a + 2*pg, pRW})
	expectBytes(t, s, a, 2*pg, 0x5a)
}

func TestUnmapSplits(t *testing.T) {
	s, r := newSpace(t)
	a := mustMap(t, s, 0x100000, 10*pg, pRW)
	for i := 0; i < 10; i++ {
		fill(t, s, a+GuestAddr(i*pg), pg, byte(i+1))
	}
	phys := s.Mappings()[0].Phys
	flushes := r.flushes

	if err := s.Unmap(a+3*pg, 2*pg); err != nil {
		t.Fatal(err)
	}
	expectMappings(t, s, span{a, a + 3*pg, pRW}, span{a + 5*pg, a + 10*pg, pRW})
	if got := s.Mappings()[1].Phys; got != phys+5*pg {
		t.Fatalf("upper piece Phys = %#x, want %#x", got, phys+5*pg)
	}
	for i := 0; i < 10; i++ {
		b := make([]byte, pg)
		err := s.Read(a+GuestAddr(i*pg), b)
		if i == 3 || i == 4 {
			if err != unix.EFAULT {
				t.Fatalf("read of unmapped page %d: %v", i, err)
			}
			continue
		}
		if err != nil || b[0] != byte(i+1) || b[pg-1] != byte(i+1) {
			t.Fatalf("page %d after unmap: %v %#x", i, err, b[0])
		}
	}
	if r.flushes != flushes+1 {
		t.Fatalf("Unmap flushed the TLB %d times, want 1", r.flushes-flushes)
	}
	if len(r.inval) != 0 {
		t.Fatalf("unmapping data invalidated code: %v", r.inval)
	}

	// Across the hole: the end of one piece and the start of the next.
	if err := s.Unmap(a+2*pg, 4*pg); err != nil {
		t.Fatal(err)
	}
	expectMappings(t, s, span{a, a + 2*pg, pRW}, span{a + 6*pg, a + 10*pg, pRW})
	expectBytes(t, s, a+6*pg, pg, 7)

	// Nothing there: no error, no flush.
	flushes = r.flushes
	if err := s.Unmap(0x5000000, pg); err != nil {
		t.Fatal(err)
	}
	if r.flushes != flushes {
		t.Fatal("unmapping nothing flushed the TLB")
	}
	if err := s.Unmap(a+100, pg); err != unix.EINVAL {
		t.Fatalf("unaligned unmap: %v", err)
	}
	if err := s.Unmap(a, 0); err != unix.EINVAL {
		t.Fatalf("zero-length unmap: %v", err)
	}

	// Unmapping code drops its translations.
	c := mustMap(t, s, 0x200000, 3*pg, pRX)
	if err := s.Unmap(c+pg, pg); err != nil {
		t.Fatal(err)
	}
	if !r.invalidated(c+pg, c+2*pg) {
		t.Fatalf("unmapped code not invalidated: %v", r.inval)
	}
}

func TestProtectSplits(t *testing.T) {
	s, r := newSpace(t)
	a := mustMap(t, s, 0x100000, 10*pg, pRW)
	fill(t, s, a, 10*pg, 0x33)
	if err := s.Protect(a+2*pg, 3*pg, pR); err != nil {
		t.Fatal(err)
	}
	expectMappings(t, s, span{a, a + 2*pg, pRW}, span{a + 2*pg, a + 5*pg, pR}, span{a + 5*pg, a + 10*pg, pRW})
	if err := s.Write(a+2*pg, []byte{1}); err != unix.EFAULT {
		t.Fatalf("write to read-only: %v", err)
	}
	if err := s.Write(a+5*pg, []byte{1}); err != nil {
		t.Fatalf("write after the read-only piece: %v", err)
	}
	expectBytes(t, s, a+2*pg, 3*pg, 0x33)

	// Inside one piece: three pieces become five.
	if err := s.Protect(a+6*pg, pg, ProtNone); err != nil {
		t.Fatal(err)
	}
	expectMappings(t, s, span{a, a + 2*pg, pRW}, span{a + 2*pg, a + 5*pg, pR}, span{a + 5*pg, a + 6*pg, pRW},
		span{a + 6*pg, a + 7*pg, ProtNone}, span{a + 7*pg, a + 10*pg, pRW})
	if err := s.Read(a+6*pg, make([]byte, 1)); err != unix.EFAULT {
		t.Fatalf("read of PROT_NONE: %v", err)
	}
	// Back to RW: the data survived PROT_NONE.
	if err := s.Protect(a+6*pg, pg, pRW); err != nil {
		t.Fatal(err)
	}
	expectBytes(t, s, a+6*pg, pg, 0x33)

	if err := s.Protect(a+100, pg, pR); err != unix.EINVAL {
		t.Fatalf("unaligned protect: %v", err)
	}
	if err := s.Protect(a+9*pg, 2*pg, pR); err != unix.ENOMEM {
		t.Fatalf("protect past the mapping: %v", err)
	}
	if err := s.Protect(a, 0, pR); err != nil {
		t.Fatalf("zero-length protect: %v", err)
	}

	// EXEC added or removed drops translated code; other changes only flush.
	r.inval = nil
	flushes := r.flushes
	if err := s.Protect(a, pg, pR); err != nil {
		t.Fatal(err)
	}
	if r.flushes != flushes+1 || len(r.inval) != 0 {
		t.Fatalf("RW->R: %d flushes, invalidations %v", r.flushes-flushes, r.inval)
	}
	if err := s.Protect(a, 2*pg, pRX); err != nil {
		t.Fatal(err)
	}
	if !r.invalidated(a, a+2*pg) {
		t.Fatalf("adding EXEC did not invalidate: %v", r.inval)
	}
	r.inval = nil
	if err := s.Protect(a, 2*pg, pRW); err != nil {
		t.Fatal(err)
	}
	if !r.invalidated(a, a+2*pg) {
		t.Fatalf("removing EXEC did not invalidate: %v", r.inval)
	}
}

func TestMapFixedReplaces(t *testing.T) {
	s, r := newSpace(t)
	a := mustMap(t, s, 0x100000, 4*pg, pRX)
	fill(t, s, a, 4*pg, 0xaa)
	r.inval = nil
	flushes := r.flushes
	mustMap(t, s, a+pg, 2*pg, pRW)
	expectMappings(t, s, span{a, a + pg, pRX}, span{a + pg, a + 3*pg, pRW}, span{a + 3*pg, a + 4*pg, pRX})
	expectBytes(t, s, a, pg, 0xaa)
	expectBytes(t, s, a+pg, 2*pg, 0)
	expectBytes(t, s, a+3*pg, pg, 0xaa)
	if r.flushes == flushes {
		t.Fatal("replacing a mapping did not flush the TLB")
	}
	if !r.invalidated(a+pg, a+3*pg) {
		t.Fatalf("replaced code not invalidated: %v", r.inval)
	}
}

func TestMapNoReplace(t *testing.T) {
	s, _ := newSpace(t)
	a := mustMap(t, s, 0x100000, 2*pg, pRW)
	fill(t, s, a, 2*pg, 7)
	for _, at := range []GuestAddr{a, a + pg, a - pg} {
		if _, err := s.Map(MapRequest{Addr: at, Length: 2 * pg, Prot: pRW, Fixed: true, NoReplace: true, FD: -1}); err != unix.EEXIST {
			t.Fatalf("NoReplace at %#x: %v, want EEXIST", at, err)
		}
	}
	if got, err := s.Map(MapRequest{Addr: a + 2*pg, Length: pg, Prot: pRW, Fixed: true, NoReplace: true, FD: -1}); err != nil || got != a+2*pg {
		t.Fatalf("NoReplace next to it: %#x %v", got, err)
	}
	expectBytes(t, s, a, 2*pg, 7)
	if s.Count() != 2 {
		t.Fatalf("Count = %d", s.Count())
	}
}

func TestMapTopDown(t *testing.T) {
	s, _ := newSpace(t)
	const top = 0x7f0000000000
	s.SetMmapTop(top + 123) // rounded down
	a := mustMap(t, s, 0, 2*pg, pRW)
	if a != top-2*pg {
		t.Fatalf("first map at %#x, want %#x", a, top-2*pg)
	}
	b := mustMap(t, s, 0, pg, pRW)
	if b != top-3*pg {
		t.Fatalf("second map at %#x, want %#x", b, top-3*pg)
	}
	if err := s.Unmap(a, 2*pg); err != nil {
		t.Fatal(err)
	}
	// The highest gap that fits.
	if c := mustMap(t, s, 0, pg, pRW); c != top-pg {
		t.Fatalf("map into the hole at %#x, want %#x", c, top-pg)
	}
	// Too big for the one-page hole left: below everything.
	if d := mustMap(t, s, 0, 2*pg, pRW); d != top-5*pg {
		t.Fatalf("two pages at %#x, want %#x", d, top-5*pg)
	}
	// A free hint is taken, an occupied one is not.
	if h, err := s.Map(MapRequest{Addr: 0x40000000, Length: pg, Prot: pRW, FD: -1}); err != nil || h != 0x40000000 {
		t.Fatalf("free hint: %#x %v", h, err)
	}
	// (it goes to the highest gap: the page left between c and b)
	if h, err := s.Map(MapRequest{Addr: 0x40000000, Length: pg, Prot: pRW, FD: -1}); err != nil || h != top-2*pg {
		t.Fatalf("occupied hint: %#x %v, want %#x", h, err, top-2*pg)
	}
	if h, err := s.Map(MapRequest{Addr: 0x40000123, Length: pg, Prot: pRW, FD: -1}); err != nil || h != 0x40001000 {
		t.Fatalf("unaligned hint: %#x %v, want 0x40001000", h, err)
	}
	// Below starts the search lower.
	if h, err := s.Map(MapRequest{Length: pg, Prot: pRW, FD: -1, Below: 0x50000000}); err != nil || h != 0x50000000-pg {
		t.Fatalf("Below: %#x %v", h, err)
	}
}

func TestMapTopDownExhausted(t *testing.T) {
	s, err := New(Layout{Limit: 0x100000, MinAddr: 0x10000, ArenaSize: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a, err := s.Map(MapRequest{Length: 0x100000 - 0x10000, Prot: pRW, FD: -1}); err != nil || a != 0x10000 {
		t.Fatalf("map of all of user space: %#x %v", a, err)
	}
	if _, err := s.Map(MapRequest{Length: pg, Prot: pRW, FD: -1}); err != unix.ENOMEM {
		t.Fatalf("map with no room: %v, want ENOMEM", err)
	}
}

func TestRemapGrowInPlace(t *testing.T) {
	s, _ := newSpace(t)
	a := mustMap(t, s, 0x100000, 2*pg, pRW)
	fill(t, s, a, 2*pg, 0x11)
	phys := s.Mappings()[0].Phys
	got, err := s.Remap(a, 2*pg, 4*pg, false, false, 0)
	if err != nil || got != a {
		t.Fatalf("grow in place: %#x %v", got, err)
	}
	expectMappings(t, s, span{a, a + 4*pg, pRW})
	if s.Mappings()[0].Phys != phys {
		t.Fatal("growing in place moved the arena slot")
	}
	expectBytes(t, s, a, 2*pg, 0x11)
	expectBytes(t, s, a+2*pg, 2*pg, 0)
	if err := s.Write(a+4*pg-1, []byte{9}); err != nil {
		t.Fatalf("write to the grown part: %v", err)
	}
}

// The guest range after the mapping is free but its arena slot is not: the
// mapping keeps its address and moves to a bigger slot.
func TestRemapGrowNewSlot(t *testing.T) {
	s, _ := newSpace(t)
	a := mustMap(t, s, 0x100000, 2*pg, pRW)
	fill(t, s, a, 2*pg, 0x22)
	other := mustMap(t, s, 0x900000, pg, pRW) // takes the slot right after a's
	fill(t, s, other, pg, 0x44)
	phys := s.Mappings()[0].Phys
	got, err := s.Remap(a, 2*pg, 3*pg, false, false, 0)
	if err != nil || got != a {
		t.Fatalf("grow: %#x %v", got, err)
	}
	m, _ := s.Find(a)
	if m.Start != a || m.End != a+3*pg || m.Phys == phys {
		t.Fatalf("after grow: %+v (old phys %#x)", m, phys)
	}
	expectBytes(t, s, a, 2*pg, 0x22)
	expectBytes(t, s, a+2*pg, pg, 0)
	expectBytes(t, s, other, pg, 0x44)
}

func TestRemapMove(t *testing.T) {
	s, r := newSpace(t)
	s.SetMmapTop(0x7f0000000000)
	a := mustMap(t, s, 0x100000, 2*pg, pRX)
	fill(t, s, a, 2*pg, 0x66)
	block := mustMap(t, s, a+2*pg, pg, pRW)
	fill(t, s, block, pg, 0x77)
	if _, err := s.Remap(a, 2*pg, 4*pg, false, false, 0); err != unix.ENOMEM {
		t.Fatalf("grow without room or MAYMOVE: %v, want ENOMEM", err)
	}
	r.inval = nil
	got, err := s.Remap(a, 2*pg, 4*pg, true, false, 0)
	if err != nil || got == a {
		t.Fatalf("move: %#x %v", got, err)
	}
	if _, ok := s.Find(a); ok {
		t.Fatal("old range still mapped")
	}
	m, _ := s.Find(got)
	if m.Start != got || m.End != got+4*pg || m.Prot != pRX {
		t.Fatalf("moved mapping %+v", m)
	}
	expectBytes(t, s, got, 2*pg, 0x66)
	expectBytes(t, s, got+2*pg, 2*pg, 0)
	expectBytes(t, s, block, pg, 0x77)
	if !r.invalidated(a, a+2*pg) {
		t.Fatalf("code at the old address not invalidated: %v", r.inval)
	}

	// Moving the middle of a mapping leaves both ends.
	b := mustMap(t, s, 0x300000, 4*pg, pRW)
	for i := 0; i < 4; i++ {
		fill(t, s, b+GuestAddr(i*pg), pg, byte(0x80+i))
	}
	got, err = s.Remap(b+pg, 2*pg, 3*pg, true, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	expectBytes(t, s, b, pg, 0x80)
	expectBytes(t, s, b+3*pg, pg, 0x83)
	expectBytes(t, s, got, pg, 0x81)
	expectBytes(t, s, got+pg, pg, 0x82)
	if _, ok := s.Find(b + pg); ok {
		t.Fatal("moved middle still mapped")
	}
}

func TestRemapShrinkAndFixed(t *testing.T) {
	s, _ := newSpace(t)
	a := mustMap(t, s, 0x100000, 4*pg, pRW)
	fill(t, s, a, 4*pg, 0x12)
	got, err := s.Remap(a, 4*pg, pg+1, false, false, 0) // rounds up to 2 pages
	if err != nil || got != a {
		t.Fatalf("shrink: %#x %v", got, err)
	}
	expectMappings(t, s, span{a, a + 2*pg, pRW})
	expectBytes(t, s, a, 2*pg, 0x12)

	// MREMAP_FIXED onto an existing mapping replaces it.
	dst := mustMap(t, s, 0x500000, 3*pg, pRW)
	fill(t, s, dst, 3*pg, 0x34)
	got, err = s.Remap(a, 2*pg, 2*pg, true, true, dst)
	if err != nil || got != dst {
		t.Fatalf("fixed: %#x %v", got, err)
	}
	expectMappings(t, s, span{dst, dst + 2*pg, pRW}, span{dst + 2*pg, dst + 3*pg, pRW})
	expectBytes(t, s, dst, 2*pg, 0x12)
	expectBytes(t, s, dst+2*pg, pg, 0x34)

	for _, c := range []struct {
		name string
		err  error
		f    func() error
	}{
		{"fixed without MAYMOVE", unix.EINVAL, func() error { _, e := s.Remap(dst, pg, pg, false, true, 0x700000); return e }},
		{"overlapping fixed", unix.EINVAL, func() error { _, e := s.Remap(dst, 2*pg, 2*pg, true, true, dst+pg); return e }},
		{"unmapped", unix.EFAULT, func() error { _, e := s.Remap(0x900000, pg, 2*pg, true, false, 0); return e }},
		{"past the mapping", unix.EFAULT, func() error { _, e := s.Remap(dst, 4*pg, 5*pg, true, false, 0); return e }},
		{"unaligned", unix.EINVAL, func() error { _, e := s.Remap(dst+1, pg, 2*pg, true, false, 0); return e }},
		{"zero new length", unix.EINVAL, func() error { _, e := s.Remap(dst, pg, 0, true, false, 0); return e }},
	} {
		if err := c.f(); err != c.err {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
}

// A shared file mapping grows into more of the file.
func TestRemapFileGrows(t *testing.T) {
	s, _ := newSpace(t)
	fd := memfd(t, 3*pg)
	defer unix.Close(fd)
	if _, err := unix.Pwrite(fd, bytes.Repeat([]byte{0xc3}, pg), 2*pg); err != nil {
		t.Fatal(err)
	}
	a, err := s.Map(MapRequest{Addr: 0x100000, Length: 2 * pg, Prot: pRW, Fixed: true, Shared: true, FD: fd})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Remap(a, 2*pg, 3*pg, true, false, 0)
	if err != nil || got != a {
		t.Fatalf("grow: %#x %v", got, err)
	}
	expectBytes(t, s, a+2*pg, pg, 0xc3)
	// Still the file: a write shows in it.
	if err := s.Write(a, []byte{0x5e}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := unix.Pread(fd, b, 0); err != nil || b[0] != 0x5e {
		t.Fatalf("file byte %#x %v", b[0], err)
	}
}

func TestBrk(t *testing.T) {
	s, _ := newSpace(t)
	const start = 0x600123
	s.SetBrk(start)
	if got := s.Brk(0); got != start {
		t.Fatalf("Brk(0) = %#x", got)
	}
	if got := s.Brk(start + 10000); got != start+10000 {
		t.Fatalf("grow: %#x", got)
	}
	heapLo := GuestAddr(0x601000)
	m, ok := s.Find(heapLo)
	if !ok || m.Start != heapLo || m.End != GuestAddr(pageUp(start+10000)) || m.Prot != pRW || m.Name != "[heap]" {
		t.Fatalf("heap mapping %+v %v", m, ok)
	}
	fill(t, s, heapLo, int(m.End-heapLo), 0x9)
	for i := 1; i <= 5; i++ {
		want := GuestAddr(start + 10000 + i*3*pg)
		if got := s.Brk(want); got != want {
			t.Fatalf("grow %d: %#x", i, got)
		}
	}
	// Growth in steps stays one mapping, with the data in place.
	if s.Count() != 1 {
		t.Fatalf("heap is %d mappings: %+v", s.Count(), s.Mappings())
	}
	expectBytes(t, s, heapLo, int(pageUp(start+10000))-int(heapLo), 0x9)
	lo, hi := s.BrkRange()
	if lo != start || hi != start+10000+15*pg {
		t.Fatalf("BrkRange = %#x %#x", lo, hi)
	}

	// Shrink: the pages above the new end go.
	if got := s.Brk(start + 100); got != start+100 {
		t.Fatalf("shrink: %#x", got)
	}
	if _, ok := s.Find(heapLo); ok {
		t.Fatal("heap page above the new break still mapped")
	}
	// Below the start: refused, the end is unchanged.
	if got := s.Brk(start - 1); got != start+100 {
		t.Fatalf("Brk below start = %#x", got)
	}
	// Blocked by another mapping: the old end comes back.
	mustMap(t, s, 0x604000, pg, pR)
	if got := s.Brk(0x606000); got != start+100 {
		t.Fatalf("Brk into a mapping = %#x", got)
	}
	if got := s.Brk(0x603000); got != 0x603000 {
		t.Fatalf("Brk up to the mapping = %#x", got)
	}
}

func TestReadWriteFaults(t *testing.T) {
	s, _ := newSpace(t)
	const a = 0x100000
	mustMap(t, s, a, pg, pRW)            // a: RW
	mustMap(t, s, a+pg, pg, pR)          // a+1p: R
	mustMap(t, s, a+3*pg, pg, ProtNone)  // a+3p: none (a+2p unmapped)
	mustMap(t, s, a+5*pg, pg, ProtWrite) // a+5p: write-only
	mustMap(t, s, a+6*pg, 2*pg, pRW)     // a+6p, a+7p: RW
	fill(t, s, a, 2*pg, 0x11)

	for _, c := range []struct {
		name string
		at   GuestAddr
		n    int
		err  error
	}{
		{"RW then R", a, 2 * pg, nil},
		{"into unmapped", a + pg + 10, pg, unix.EFAULT},
		{"unmapped", a + 2*pg, 1, unix.EFAULT},
		{"PROT_NONE", a + 3*pg, 1, unix.EFAULT},
		{"write-only", a + 5*pg, 1, unix.EFAULT},
		{"past the limit", 1<<47 - 4, 8, unix.EFAULT},
		{"wrapping", ^GuestAddr(0) - 4, 8, unix.EFAULT},
		{"empty", a + 2*pg, 0, nil},
	} {
		if err := s.Read(c.at, make([]byte, c.n)); err != c.err {
			t.Errorf("Read %s: %v, want %v", c.name, err, c.err)
		}
	}

	for _, c := range []struct {
		name string
		at   GuestAddr
		n    int
	}{
		{"read-only", a + pg, 1},
		{"RW into R", a + pg - 4, 8},
		{"RW into unmapped", a + 7*pg + pg - 4, 8},
		{"PROT_NONE", a + 3*pg, 1},
		{"unmapped", a + 2*pg, 1},
		{"past the limit", 1<<47 - 4, 8},
	} {
		if err := s.Write(c.at, bytes.Repeat([]byte{0xee}, c.n)); err != unix.EFAULT {
			t.Errorf("Write %s: %v, want EFAULT", c.name, err)
		}
	}
	// The failed writes changed nothing, not even their valid first part.
	expectBytes(t, s, a, 2*pg, 0x11)
	expectBytes(t, s, a+6*pg, 2*pg, 0)

	if err := s.Write(a+5*pg, []byte{1, 2, 3}); err != nil {
		t.Fatalf("write to write-only: %v", err)
	}
	if err := s.Write(a+6*pg+pg-2, []byte{1, 2, 3, 4}); err != nil {
		t.Fatalf("write across two pages of one mapping: %v", err)
	}
	// Poke ignores protection but not holes.
	if err := s.Poke(a+pg, []byte{0x22}); err != nil {
		t.Fatalf("poke read-only: %v", err)
	}
	if err := s.Poke(a+2*pg-1, []byte{1, 2}); err != unix.EFAULT {
		t.Fatalf("poke into unmapped: %v", err)
	}
	b := make([]byte, 2)
	if err := s.Read(a+pg-1, b); err != nil || b[0] != 0x11 || b[1] != 0x22 {
		t.Fatalf("read across RW/R: %x %v", b, err)
	}

	if err := s.Check(a, 2*pg, ProtRead); err != nil {
		t.Errorf("Check read: %v", err)
	}
	if err := s.Check(a, 2*pg, ProtWrite); err != unix.EFAULT {
		t.Errorf("Check write over R: %v", err)
	}
	if got := s.Accessible(a+100, 3*pg, ProtRead); got != 2*pg-100 {
		t.Errorf("Accessible read = %#x, want %#x", got, 2*pg-100)
	}
	if got := s.Accessible(a+100, 3*pg, ProtWrite); got != pg-100 {
		t.Errorf("Accessible write = %#x, want %#x", got, pg-100)
	}
	if got := s.Accessible(a+100, 10, ProtRead); got != 10 {
		t.Errorf("Accessible short = %d", got)
	}
}

func TestSlice(t *testing.T) {
	s, r := newSpace(t)
	const a = 0x100000
	mustMap(t, s, a, pg, pRW)
	other := mustMap(t, s, 0x900000, pg, pRW) // takes the arena slot after a's
	mustMap(t, s, a+pg, pg, pRW)              // so a+1p lives elsewhere in the arena
	_ = other

	b, err := s.Slice(a+10, 100, ProtWrite)
	if err != nil || len(b) != 100 {
		t.Fatalf("Slice: %d %v", len(b), err)
	}
	copy(b, "through the slice")
	got := make([]byte, 17)
	if err := s.Read(a+10, got); err != nil || string(got) != "through the slice" {
		t.Fatalf("read back %q %v", got, err)
	}
	if _, err := s.Slice(a+pg-10, 20, ProtRead); !errors.Is(err, ErrSplit) {
		t.Fatalf("Slice across separate arena slots: %v, want ErrSplit", err)
	}
	// Read and Write handle the same range piecewise.
	if err := s.Write(a+pg-10, bytes.Repeat([]byte{3}, 20)); err != nil {
		t.Fatal(err)
	}
	expectBytes(t, s, a+pg-10, 20, 3)
	if _, err := s.Slice(a+2*pg-10, 20, ProtRead); err != unix.EFAULT {
		t.Fatalf("Slice into unmapped: %v", err)
	}
	if err := s.Protect(a, pg, pR); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Slice(a, 10, ProtWrite); err != unix.EFAULT {
		t.Fatalf("writable Slice of read-only: %v", err)
	}
	if b, err := s.Slice(a+5*pg, 0, ProtRead); err != nil || len(b) != 0 {
		t.Fatalf("empty Slice: %v %v", b, err)
	}

	// Contiguous slots (a mapping grown next to its neighbour) are one slice.
	c := mustMap(t, s, 0x200000, pg, pRW)
	mustMap(t, s, c+pg, pg, pRW)
	if b, err := s.Slice(c+pg-10, 20, ProtRead); err != nil || len(b) != 20 {
		t.Fatalf("Slice over neighbouring slots: %d %v", len(b), err)
	}

	// Wrote invalidates code written through a slice.
	x := mustMap(t, s, 0x300000, pg, pRWX)
	r.inval = nil
	b, err = s.Slice(x+8, 8, ProtWrite)
	if err != nil {
		t.Fatal(err)
	}
	copy(b, "12345678")
	s.Wrote(x+8, 8)
	if !r.invalidated(x+8, x+16) {
		t.Fatalf("Wrote did not invalidate: %v", r.inval)
	}
}

func TestWriteInvalidatesCode(t *testing.T) {
	s, r := newSpace(t)
	x := mustMap(t, s, 0x100000, 2*pg, pRWX)
	d := mustMap(t, s, 0x200000, pg, pRW)
	c := mustMap(t, s, 0x300000, pg, pRX)
	r.inval = nil
	if err := s.Write(d, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if len(r.inval) != 0 {
		t.Fatalf("data write invalidated code: %v", r.inval)
	}
	if err := s.Write(x+pg-2, []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if !r.invalidated(x+pg-2, x+pg+2) {
		t.Fatalf("code write not invalidated: %v", r.inval)
	}
	if err := s.Poke(c+4, []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if !r.invalidated(c+4, c+8) {
		t.Fatalf("poke into code not invalidated: %v", r.inval)
	}
}

func TestReadString(t *testing.T) {
	s, _ := newSpace(t)
	const a = 0x100000
	mustMap(t, s, a, pg, pRW)
	mustMap(t, s, 0x900000, pg, pRW) // a+1p's slot is not contiguous with a's
	mustMap(t, s, a+pg, pg, pRW)
	if err := s.Write(a+pg-3, []byte("hello\x00")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadString(a+pg-3, 100); err != nil || got != "hello" {
		t.Fatalf("across pages: %q %v", got, err)
	}
	if _, err := s.ReadString(a+pg-3, 4); err != unix.ENAMETOOLONG {
		t.Fatalf("longer than max: %v", err)
	}
	if got, err := s.ReadString(a+pg-3, 6); err != nil || got != "hello" {
		t.Fatalf("max including the NUL: %q %v", got, err)
	}
	// No NUL before the end of the mapping.
	fill(t, s, a+pg, pg, 'x')
	if _, err := s.ReadString(a+2*pg-5, 100); err != unix.EFAULT {
		t.Fatalf("running into unmapped: %v", err)
	}
	// NUL as the last byte before unmapped memory.
	if err := s.Write(a+2*pg-1, []byte{0}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadString(a+2*pg-4, 100); err != nil || got != "xxx" {
		t.Fatalf("NUL at the edge: %q %v", got, err)
	}
	if _, err := s.ReadString(0x5000000, 10); err != unix.EFAULT {
		t.Fatalf("unmapped: %v", err)
	}
	if got, err := s.ReadString(a+2*pg-1, 10); err != nil || got != "" {
		t.Fatalf("empty string: %q %v", got, err)
	}
}

func memfd(t *testing.T, size int64) int {
	t.Helper()
	fd, err := unix.MemfdCreate("mem-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		t.Fatal(err)
	}
	return fd
}

func TestAliases(t *testing.T) {
	s, _ := newSpace(t)
	fd := memfd(t, 2*pg)
	defer unix.Close(fd)
	const rw, rx = 0x100000, 0x200000
	if _, err := s.Map(MapRequest{Addr: rw, Length: 2 * pg, Prot: pRW, Fixed: true, Shared: true, FD: fd}); err != nil {
		t.Fatal(err)
	}
	// Only the file's second page, executable.
	if _, err := s.Map(MapRequest{Addr: rx, Length: pg, Prot: pRX, Fixed: true, Shared: true, FD: fd, Offset: pg}); err != nil {
		t.Fatal(err)
	}
	if al := s.Aliases(rw + pg + 8); len(al) != 1 || al[0] != rx+8 {
		t.Fatalf("Aliases(rw+1p+8) = %#x", al)
	}
	if al := s.Aliases(rx + 8); len(al) != 1 || al[0] != rw+pg+8 {
		t.Fatalf("Aliases(rx+8) = %#x", al)
	}
	if al := s.Aliases(rw + 8); len(al) != 0 {
		t.Fatalf("Aliases of a byte only one view maps = %#x", al)
	}
	// The views share their bytes.
	if err := s.Write(rw+pg+8, []byte("jit")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 3)
	if err := s.Read(rx+8, got); err != nil || string(got) != "jit" {
		t.Fatalf("read through the other view: %q %v", got, err)
	}
	// The RX view is read-only on the host too.
	if err := s.Write(rx, []byte{1}); err != unix.EFAULT {
		t.Fatalf("write to the RX view: %v", err)
	}

	// A split keeps the file offsets right.
	if err := s.Protect(rw+pg, pg, pR); err != nil {
		t.Fatal(err)
	}
	if al := s.Aliases(rx + 16); len(al) != 1 || al[0] != rw+pg+16 {
		t.Fatalf("Aliases after a split = %#x", al)
	}

	// Private and anonymous memory has no aliases.
	a := mustMap(t, s, 0x300000, pg, pRW)
	if al := s.Aliases(a); al != nil {
		t.Fatalf("anonymous Aliases = %#x", al)
	}
	if _, err := s.Map(MapRequest{Addr: 0x400000, Length: pg, Prot: pRW, Fixed: true, FD: fd}); err != nil {
		t.Fatal(err)
	}
	if al := s.Aliases(0x400000); al != nil {
		t.Fatalf("private file Aliases = %#x", al)
	}
	if al := s.Aliases(0x5000000); al != nil {
		t.Fatalf("unmapped Aliases = %#x", al)
	}
}

// TestPageTable checks the entries the C fill callback reads.
func TestPageTable(t *testing.T) {
	s, _ := newSpace(t)
	a := mustMap(t, s, 0xfff000, 3*pg, pRW) // crosses a leaf boundary (16 MiB)
	m, _ := s.Find(a)
	for i := uint64(0); i < 3; i++ {
		pte := s.pt.lookup(uint64(a) + i*pg)
		if pte&ptePhysMask != m.Phys+i*pg || Prot(pte&7) != pRW || pte&ptePresent == 0 || pte&pteShared != 0 {
			t.Fatalf("pte %d = %#x (phys %#x)", i, pte, m.Phys)
		}
	}
	if err := s.Protect(a+pg, pg, ProtNone); err != nil {
		t.Fatal(err)
	}
	if pte := s.pt.lookup(uint64(a) + pg); pte&ptePresent == 0 || pte&7 != 0 {
		t.Fatalf("PROT_NONE pte = %#x: want present without permissions", pte)
	}
	if err := s.Unmap(a, 3*pg); err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 3; i++ {
		if pte := s.pt.lookup(uint64(a) + i*pg); pte != 0 {
			t.Fatalf("pte %d after unmap = %#x", i, pte)
		}
	}
	if s.pt.lookup(1<<48) != 0 {
		t.Fatal("lookup above 48 bits")
	}
}

// Many mappings: the tree keeps order and lookups right.
func TestManyMappings(t *testing.T) {
	s, _ := newSpace(t)
	const n = 10000
	const base = 0x10000000
	for i := 0; i < n; i++ {
		prot := pRW
		if i%2 == 1 {
			prot = pR
		}
		mustMap(t, s, base+GuestAddr(2*i)*pg, pg, prot)
	}
	if s.Count() != n {
		t.Fatalf("Count = %d", s.Count())
	}
	for i := 0; i < n; i += 3 {
		if err := s.Unmap(base+GuestAddr(2*i)*pg, pg); err != nil {
			t.Fatal(err)
		}
	}
	want := n - (n+2)/3
	if s.Count() != want {
		t.Fatalf("Count after unmapping = %d, want %d", s.Count(), want)
	}
	for i := 0; i < n; i++ {
		va := base + GuestAddr(2*i)*pg
		m, ok := s.Find(va + 5)
		if i%3 == 0 {
			if ok {
				t.Fatalf("%d still mapped", i)
			}
			continue
		}
		if !ok || m.Start != va || (m.Prot == pR) != (i%2 == 1) {
			t.Fatalf("%d: %+v %v", i, m, ok)
		}
		if _, ok := s.Find(va + pg); ok {
			t.Fatalf("gap after %d mapped", i)
		}
	}
}

// At the mapping limit, an unmap (or a fixed map) that splits one mapping in
// three is ENOMEM and changes nothing; one that only trims a mapping works
// (mm/vma.c vms_gather_munmap_vmas).
func TestSplitAtMapLimit(t *testing.T) {
	s, _ := newSpace(t)
	const base = 0x10000000
	big := mustMap(t, s, base, 4*pg, pRW)
	mustMap(t, s, base+8*pg, pg, pR)
	s.maxMaps = s.Count()
	if err := s.Unmap(big+pg, pg); err != unix.ENOMEM {
		t.Fatalf("unmap of the middle at the limit: %v, want ENOMEM", err)
	}
	if _, err := s.Map(MapRequest{Addr: big + pg, Length: pg, Prot: pR, Fixed: true, FD: -1}); err != unix.ENOMEM {
		t.Fatalf("fixed map over the middle at the limit: %v, want ENOMEM", err)
	}
	expectMappings(t, s, span{big, big + 4*pg, pRW}, span{base + 8*pg, base + 9*pg, pR})
	if err := s.Unmap(big+3*pg, pg); err != nil {
		t.Fatalf("unmap of the last page at the limit: %v", err)
	}
	if err := s.Unmap(big, pg); err != nil {
		t.Fatalf("unmap of the first page at the limit: %v", err)
	}
	expectMappings(t, s, span{big + pg, big + 3*pg, pRW}, span{base + 8*pg, base + 9*pg, pR})
	s.maxMaps++
	if err := s.Unmap(big+pg, pg); err != nil {
		t.Fatalf("unmap of the first of two pages below the limit: %v", err)
	}
}

// Page-table nodes emptied by unmapping are freed: mapping and unmapping
// large ranges at ever new addresses leaves the table as it was, while a
// leaf still holding another mapping's pages stays.
func TestPageTableFreesNodes(t *testing.T) {
	s, _ := newSpace(t)
	base := s.pt.nodes()
	for i := GuestAddr(0); i < 8; i++ {
		a := mustMap(t, s, 0x100000000000+i*0x1000000000, 4<<30, ProtNone)
		if n := s.pt.nodes(); n < base+256 {
			t.Fatalf("round %d: %d nodes for 4 GiB mapped, want at least %d", i, n, base+256)
		}
		if err := s.Unmap(a, 4<<30); err != nil {
			t.Fatal(err)
		}
		if n := s.pt.nodes(); n != base {
			t.Fatalf("round %d: %d nodes after unmapping, want %d", i, n, base)
		}
	}
	// Two mappings in one leaf: the leaf goes with the second.
	a := mustMap(t, s, 0x200000000000, pg, pRW)
	b := mustMap(t, s, 0x200000000000+2*pg, pg, pR)
	fill(t, s, b, pg, 0x42)
	if err := s.Unmap(a, pg); err != nil {
		t.Fatal(err)
	}
	expectBytes(t, s, b, pg, 0x42)
	if n := s.pt.nodes(); n != base+2 {
		t.Fatalf("%d nodes with one page mapped, want %d", n, base+2)
	}
	if err := s.Unmap(b, pg); err != nil {
		t.Fatal(err)
	}
	if n := s.pt.nodes(); n != base || len(s.pt.retired) != 0 {
		t.Fatalf("%d nodes (%d retired) after unmapping all, want %d", n, len(s.pt.retired), base)
	}
	// A wrapped-around mremap and a partial munmap keep what is left.
	c := mustMap(t, s, 0x300000000000-pg, 3*pg, pRW) // crosses a 64 GiB boundary
	fill(t, s, c, 3*pg, 7)
	if err := s.Unmap(c, pg); err != nil {
		t.Fatal(err)
	}
	expectBytes(t, s, c+pg, 2*pg, 7)
	if _, err := s.Remap(c+pg, 2*pg, 2*pg, true, true, 0x400000000000); err != nil {
		t.Fatal(err)
	}
	expectBytes(t, s, 0x400000000000, 2*pg, 7)
	if n := s.pt.nodes(); n != base+2 {
		t.Fatalf("%d nodes with one mapping left, want %d", n, base+2)
	}
}

// Readers walk the table while another goroutine maps and unmaps next to
// what they read, emptying and freeing nodes (run with -race too).
func TestPageTableFreeConcurrentReads(t *testing.T) {
	s, _ := newSpace(t)
	const stable = GuestAddr(0x500000000000)
	mustMap(t, s, stable, pg, pRW)
	fill(t, s, stable, pg, 9)
	stop := make(chan struct{})
	errs := make(chan error, 2)
	for r := 0; r < 2; r++ {
		go func() {
			b := make([]byte, 8)
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if err := s.Read(stable, b); err != nil || b[0] != 9 {
					errs <- errors.New("stable page unreadable")
					return
				}
				// Pages that come and go: EFAULT or zeroes, never a crash.
				s.Read(stable+16<<20, b)
				s.Read(stable+64<<30, b)
			}
		}()
	}
	for i := 0; i < 200; i++ {
		a := mustMap(t, s, stable+16<<20, 32<<20, pRW)
		c := mustMap(t, s, stable+64<<30, pg, pRW)
		if err := s.Unmap(a, 32<<20); err != nil {
			t.Fatal(err)
		}
		if err := s.Unmap(c, pg); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	for r := 0; r < 2; r++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// mremap at the mapping limit: a shrink that splits is ENOMEM (as munmap),
// and a move needs room for four more mappings (mm/mremap.c move_vma), a
// fixed one for six before it unmaps the destination (mremap_to).
func TestRemapAtMapLimit(t *testing.T) {
	s, _ := newSpace(t)
	const base = 0x10000000
	a := mustMap(t, s, base, 4*pg, pRW)
	dst := mustMap(t, s, base+16*pg, 2*pg, pR)
	fill(t, s, dst, 2*pg, 3)
	s.maxMaps = s.Count()
	// Shrinking [a+pg, a+3pg) to one page unmaps a+2pg: the mapping is split in three.
	if _, err := s.Remap(a+pg, 2*pg, pg, false, false, 0); err != unix.ENOMEM {
		t.Fatalf("shrink that splits at the limit: %v, want ENOMEM", err)
	}
	if _, err := s.Remap(a, pg, 2*pg, true, false, 0); err != unix.ENOMEM {
		t.Fatalf("move at the limit: %v, want ENOMEM", err)
	}
	if _, err := s.Remap(a, pg, pg, true, true, dst); err != unix.ENOMEM {
		t.Fatalf("fixed move at the limit: %v, want ENOMEM", err)
	}
	expectMappings(t, s, span{a, a + 4*pg, pRW}, span{dst, dst + 2*pg, pR})
	expectBytes(t, s, dst, 2*pg, 3)
	if _, err := s.Remap(a, 4*pg, 3*pg, false, false, 0); err != nil {
		t.Fatalf("shrink from the end at the limit: %v", err)
	}
	s.maxMaps += 6
	if _, err := s.Remap(a, pg, pg, true, true, dst); err != nil {
		t.Fatalf("fixed move below the limit: %v", err)
	}
}
