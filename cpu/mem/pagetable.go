package mem

import (
	"sync"
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
// that the C TLB-fill callback may read them while Go writes them. The C side
// follows the raw addresses in the nodes; Go keeps typed pointers to the same
// nodes beside them.
//
// A node whose entries are all zero again is detached and freed, so that
// mapping and unmapping large ranges at new addresses does not leave the
// table growing (a leaf is 32 KiB per 16 MiB of guest space, a middle node
// per 64 GiB). Readers hold no lock on the entries, so freeing waits for
// them: Go readers (lookup) walk under mu's read lock, and a detached node
// is only retired; reclaim unmaps it once the engines have dropped their
// stale state (AddressSpace.settle, after the observer's FlushTLB: an engine
// that runs guest code again has walked from the root since the detach).
type pageTable struct {
	mu      sync.RWMutex // held for reading by lookup, for writing to attach and detach nodes
	root    *[ptEntries]uint64
	mid     [ptEntries]*midLevel
	mids    int                  // non-nil entries of mid
	retired []*[ptEntries]uint64 // detached nodes, unmapped by reclaim
}

type midLevel struct {
	node   *[ptEntries]uint64
	leaves [ptEntries]*[ptEntries]uint64
	used   [ptEntries]uint16 // non-zero entries of each leaf
	n      int               // non-nil leaves
}

func newPageTable() (*pageTable, error) {
	pt := &pageTable{}
	root, err := newNode()
	if err != nil {
		return nil, err
	}
	pt.root = root
	return pt, nil
}

func newNode() (*[ptEntries]uint64, error) {
	p, err := unix.MmapPtr(-1, 0, nil, nodeBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	return (*[ptEntries]uint64)(p), nil
}

func freeNode(n *[ptEntries]uint64) { unix.MunmapPtr(unsafe.Pointer(n), nodeBytes) }

func nodeAddr(n *[ptEntries]uint64) uintptr { return uintptr(unsafe.Pointer(n)) }

// RootAddr is the host address of the top level, for the C side.
func (pt *pageTable) RootAddr() uintptr { return nodeAddr(pt.root) }

func (pt *pageTable) lookup(va uint64) uint64 {
	if va>>48 != 0 {
		return 0
	}
	pt.mu.RLock()
	defer pt.mu.RUnlock()
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

// leaf returns the middle level and the last-level node covering va,
// creating them when create is set.
func (pt *pageTable) leaf(va uint64, create bool) (*midLevel, *[ptEntries]uint64, error) {
	i1, i2 := (va>>36)&0xfff, (va>>24)&0xfff
	m := pt.mid[i1]
	if m != nil && m.leaves[i2] != nil || !create {
		if m == nil {
			return nil, nil, nil
		}
		return m, m.leaves[i2], nil
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if m == nil {
		n, err := newNode()
		if err != nil {
			return nil, nil, unix.ENOMEM
		}
		m = &midLevel{node: n}
		pt.mid[i1] = m
		pt.mids++
		pt.root[i1] = uint64(nodeAddr(n))
	}
	n, err := newNode()
	if err != nil {
		return nil, nil, unix.ENOMEM
	}
	m.leaves[i2] = n
	m.n++
	m.node[i2] = uint64(nodeAddr(n))
	return m, n, nil
}

// set writes entries for [start, end): page i gets phys+i*PageSize with bits.
// An entry of 0 (unmapped) or without the needed permission bits (PROT_NONE
// is present with none) is what the fill callback refuses.
func (pt *pageTable) set(start, end uint64, phys uint64, bits uint64) error {
	for va := start; va < end; {
		m, l, err := pt.leaf(va, bits != 0)
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
		i2 := (va >> 24) & 0xfff
		used := int(m.used[i2])
		for ; va < next; va += PageSize {
			e := &l[(va>>12)&0xfff]
			old := *e
			if bits == 0 {
				*e = 0
			} else {
				*e = phys | bits
			}
			if old == 0 && *e != 0 {
				used++
			} else if old != 0 && *e == 0 {
				used--
			}
			phys += PageSize
		}
		m.used[i2] = uint16(used)
		if used == 0 {
			pt.detach(va-1, m)
		}
	}
	return nil
}

// detach takes the empty leaf covering va out of the table, and its middle
// node too if that is left empty; both are retired, not yet freed.
func (pt *pageTable) detach(va uint64, m *midLevel) {
	i1, i2 := (va>>36)&0xfff, (va>>24)&0xfff
	pt.mu.Lock()
	defer pt.mu.Unlock()
	m.node[i2] = 0
	pt.retired = append(pt.retired, m.leaves[i2])
	m.leaves[i2] = nil
	m.n--
	if m.n == 0 {
		pt.root[i1] = 0
		pt.mid[i1] = nil
		pt.mids--
		pt.retired = append(pt.retired, m.node)
	}
}

// reclaim frees the retired nodes: the caller knows no engine can still be
// walking them, and lookup cannot reach them once detached.
func (pt *pageTable) reclaim() {
	for i, n := range pt.retired {
		freeNode(n)
		pt.retired[i] = nil
	}
	pt.retired = pt.retired[:0]
}

// nodes is how many nodes the table holds, the root included.
func (pt *pageTable) nodes() int {
	n := 1 + pt.mids
	for _, m := range pt.mid {
		if m != nil {
			n += m.n
		}
	}
	return n
}

func (pt *pageTable) free() {
	pt.reclaim()
	for i, m := range pt.mid {
		if m == nil {
			continue
		}
		for _, l := range m.leaves {
			if l != nil {
				freeNode(l)
			}
		}
		freeNode(m.node)
		pt.mid[i] = nil
	}
	freeNode(pt.root)
	pt.root = nil
}
