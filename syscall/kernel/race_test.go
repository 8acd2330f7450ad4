package kernel

import (
	"slices"
	"sync"
	"testing"
)

// TestReservedConcurrent: descriptors reserved and given back on one thread
// while others check them (every system call does) and list them; run with
// -race. The list is always sorted, so close_range skips each one.
func TestReservedConcurrent(t *testing.T) {
	p := &Process{}
	p.Reserve(900)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !p.reservedFD(900) || p.reservedFD(3) {
					t.Error("reserved set wrong")
					return
				}
				if fds := p.ReservedFDs(); !slices.IsSorted(fds) {
					t.Errorf("not sorted: %v", fds)
					return
				}
			}
		}()
	}
	for i := range 2000 {
		fd := 1000 + i%50
		p.Reserve(fd)
		if i%3 == 0 {
			p.Unreserve(fd)
		}
	}
	close(stop)
	wg.Wait()
	if p.reservedFD(1000+2) != true || p.reservedFD(1000+0) {
		// 1002 was last reserved at i=1952 (not a multiple of 3), 1000 at
		// i=1950 and then given back.
		t.Errorf("final set: 1002 %v, 1000 %v", p.reservedFD(1002), p.reservedFD(1000))
	}
}

// TestTaskNameConcurrent: a thread's comm set by one thread (prctl, a write
// to comm) while another reads it (/proc, the guest-view server).
func TestTaskNameConcurrent(t *testing.T) {
	tk := &Task{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 10000 {
			n := tk.Name()
			if n != ([16]byte{}) && n != [16]byte{'a', 'b'} && n != [16]byte{'c', 'd', 'e'} {
				t.Errorf("torn name %q", n)
				return
			}
		}
	}()
	for i := range 10000 {
		if i%2 == 0 {
			tk.SetName([16]byte{'a', 'b'})
		} else {
			tk.SetName([16]byte{'c', 'd', 'e'})
		}
	}
	wg.Wait()
}
