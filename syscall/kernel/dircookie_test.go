package kernel

import (
	"encoding/binary"
	"testing"
)

// dirent64 makes struct linux_dirent64 records with the given d_off values.
func dirent64(offs ...int64) []byte {
	var b []byte
	for i, off := range offs {
		rec := make([]byte, 24)
		binary.LittleEndian.PutUint64(rec, uint64(100+i))
		binary.LittleEndian.PutUint64(rec[8:], uint64(off))
		binary.LittleEndian.PutUint16(rec[16:], 24)
		rec[18] = 8
		copy(rec[19:], "f")
		b = append(b, rec...)
	}
	return b
}

func offsOf(b []byte) []int64 {
	var out []int64
	for off := 0; off < len(b); off += int(binary.LittleEndian.Uint16(b[off+16:])) {
		out = append(out, int64(binary.LittleEndian.Uint64(b[off+8:])))
	}
	return out
}

// TestDirCookies: 64-bit host cookies become 1, 2, 3... per open
// directory; lseek takes them back; dup shares a stream, close drops it.
func TestDirCookies(t *testing.T) {
	abi, err := ForMachine(40)
	if err != nil {
		t.Fatal(err)
	}
	tk := &Task{P: &Process{ABI: abi}}
	host := []int64{0x7a3c1e0055aa1234, 0x1234567890abcdef, 0x7fffffffffffffff}
	buf := dirent64(host...)
	tk.RenumberDirents(5, buf)
	if got := offsOf(buf); got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("renumbered offsets %v, want 1 2 3", got)
	}
	d := tk.P.Dirs.Get(5)
	for i, h := range host {
		if d.ToHost(int64(i+1)) != h {
			t.Errorf("guest %d stands for %#x, want %#x", i+1, d.ToHost(int64(i+1)), h)
		}
	}
	if d.ToHost(0) != 0 || d.ToGuest(0) != 0 {
		t.Error("offset 0 (the start) must stand for itself")
	}
	// Reading the same entries again (after rewinddir) gives the same numbers.
	again := dirent64(host[1], host[2])
	tk.RenumberDirents(5, again)
	if got := offsOf(again); got[0] != 2 || got[1] != 3 {
		t.Errorf("second reading %v, want 2 3", got)
	}
	tk.P.Dirs.Dup(5, 9)
	if tk.P.Dirs.Get(9) != d {
		t.Error("a dup does not share the stream")
	}
	tk.P.Dirs.Close(5)
	if tk.P.Dirs.Get(5) != nil || tk.P.Dirs.Get(9) != d {
		t.Error("closing one descriptor must leave the other's stream")
	}
	tk.P.Dirs.Dup(7, 9) // 9 becomes a copy of a descriptor without a stream
	if tk.P.Dirs.Get(9) != nil {
		t.Error("dup onto a descriptor must drop its old stream")
	}
	tk.RenumberDirents(11, dirent64(1, 2))
	tk.P.Dirs.CloseRange(10, 20)
	if tk.P.Dirs.Get(11) != nil {
		t.Error("close_range must drop streams")
	}

	// A 64-bit ABI passes the host's offsets through.
	a64, _ := ForMachine(183)
	tk64 := &Task{P: &Process{ABI: a64}}
	raw := dirent64(host...)
	tk64.RenumberDirents(5, raw)
	if got := offsOf(raw); got[0] != host[0] || tk64.P.Dirs.Get(5) != nil {
		t.Errorf("aarch64 offsets changed: %v", got)
	}
}
