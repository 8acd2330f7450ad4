package mem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Page-table entry bits; cpu/engine.h reads the same layout from C.
const (
	ptePresent  = 1 << 3
	pteShared   = 1 << 4
	ptePhysMask = ^uint64(PageSize - 1)
)

const (
	ptBits    = 12
	ptEntries = 1 << ptBits
	nodeBytes = ptEntries * 8
)

// pageTable maps guest pages to arena offsets and permissions: three levels of
// 4096 entries over a 48-bit guest address. Its nodes live outside the Go heap so
// that the C TLB-fill callback may read them while Go writes them (the guest runs
// on one thread, so the two never race). The C side follows the raw addresses in
// the nodes; Go keeps typed pointers to the same nodes beside them.
type pageTable struct {
	root  *[ptEntries]uint64
	mid   [ptEntries]*midLevel
	nodes [][]byte
}

type midLevel struct {
	node   *[ptEntries]uint64
	leaves [ptEntries]*[ptEntries]uint64
}

func newPageTable() (*pageTable, error) {
	pt := &pageTable{}
	root, err := pt.newNode()
	if err != nil {
		return nil, err
	}
	pt.root = root
	return pt, nil
}

func (pt *pageTable) newNode() (*[ptEntries]uint64, error) {
	b, err := unix.Mmap(-1, 0, nodeBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	pt.nodes = append(pt.nodes, b)
	return (*[ptEntries]uint64)(unsafe.Pointer(&b[0])), nil
}

// RootAddr is the host address of the top level, for the C side.
func (pt *pageTable) RootAddr() uintptr { return uintptr(unsafe.Pointer(pt.root)) }

func (pt *pageTable) lookup(va uint64) uint64 {
	if va>>48 != 0 {
		return 0
	}
	m := pt.mid[(va>>36)&0xfff]
	if m == nil {
		return 0
	}
	l := m.leaves[(va>>24)&0xfff]
	if l == nil {
		return 0
	}
	return l[(va>>12)&0xfff]
}

// leaf returns the last-level node covering va, creating it when create is set.
func (pt *pageTable) leaf(va uint64, create bool) (*[ptEntries]uint64, error) {
	i1, i2 := (va>>36)&0xfff, (va>>24)&0xfff
	m := pt.mid[i1]
	if m == nil {
		if !create {
			return nil, nil
		}
		n, err := pt.newNode()
		if err != nil {
			return nil, unix.ENOMEM
		}
		m = &midLevel{node: n}
		pt.mid[i1] = m
		pt.root[i1] = uint64(uintptr(unsafe.Pointer(n)))
	}
	if m.leaves[i2] == nil {
		if !create {
			return nil, nil
		}
		n, err := pt.newNode()
		if err != nil {
			return nil, unix.ENOMEM
		}
		m.leaves[i2] = n
		m.node[i2] = uint64(uintptr(unsafe.Pointer(n)))
	}
	return m.leaves[i2], nil
}

// set writes entries for [start, end): page i gets phys+i*PageSize with bits.
// An entry of 0 (unmapped) or without the needed permission bits (PROT_NONE
// is present with none) is what the fill callback refuses.
func (pt *pageTable) set(start, end uint64, phys uint64, bits uint64) error {
	for va := start; va < end; {
		l, err := pt.leaf(va, bits != 0)
		if err != nil {
			return err
		}
		next := (va | (1<<24 - 1)) + 1
		if next > end {
			next = end
		}
		if l == nil {
			phys += next - va
			va = next
			continue
		}
		for ; va < next; va += PageSize {
			if bits == 0 {
				l[(va>>12)&0xfff] = 0
			} else {
				l[(va>>12)&0xfff] = phys | bits
			}
			phys += PageSize
		}
	}
	return nil
}

func (pt *pageTable) free() {
	for _, n := range pt.nodes {
		unix.Munmap(n)
	}
	pt.nodes = nil
	pt.root = nil
	pt.mid = [ptEntries]*midLevel{}
}
