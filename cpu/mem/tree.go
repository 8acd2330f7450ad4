package mem

import "math/rand/v2"

// mappingTree keeps the guest's mappings ordered by start address: a treap, so
// that a process with tens of thousands of mappings still maps, unmaps and looks
// up in logarithmic time.
type mappingTree struct {
	root *treeNode
	n    int
	// freeCache and holeSize speed up top-down searches for free space
	// from the mmap top (the free_area_cache and cached_hole_size of Linux
	// before its gap tree): no free gap of more than holeSize bytes lies
	// between freeCache and the top. 0 means unknown. Only a removal can
	// make a gap, so a removal above freeCache forgets it.
	freeCache GuestAddr
	holeSize  uint64
}

type treeNode struct {
	m           *Mapping
	prio        uint32
	left, right *treeNode
}

// split divides t into the nodes with start < key and those with start >= key.
func split(t *treeNode, key GuestAddr) (l, r *treeNode) {
	if t == nil {
		return nil, nil
	}
	if t.m.Start < key {
		t.right, r = split(t.right, key)
		return t, r
	}
	l, t.left = split(t.left, key)
	return l, t
}

func merge(l, r *treeNode) *treeNode {
	if l == nil {
		return r
	}
	if r == nil {
		return l
	}
	if l.prio > r.prio {
		l.right = merge(l.right, r)
		return l
	}
	r.left = merge(l, r.left)
	return r
}

func (t *mappingTree) insert(m *Mapping) {
	l, r := split(t.root, m.Start)
	t.root = merge(merge(l, &treeNode{m: m, prio: rand.Uint32()}), r)
	t.n++
}

func (t *mappingTree) remove(m *Mapping) {
	if m.End > t.freeCache {
		t.freeCache = 0
	}
	l, r := split(t.root, m.Start)
	mid, r := split(r, m.Start+1)
	if mid != nil {
		t.n--
	}
	t.root = merge(l, r)
}

// floor is the mapping with the greatest start <= a.
func (t *mappingTree) floor(a GuestAddr) *Mapping {
	var best *Mapping
	for n := t.root; n != nil; {
		if n.m.Start <= a {
			best = n.m
			n = n.right
		} else {
			n = n.left
		}
	}
	return best
}

// ceil is the mapping with the least start >= a.
func (t *mappingTree) ceil(a GuestAddr) *Mapping {
	var best *Mapping
	for n := t.root; n != nil; {
		if n.m.Start >= a {
			best = n.m
			n = n.left
		} else {
			n = n.right
		}
	}
	return best
}

// find is the mapping containing a, or nil.
func (t *mappingTree) find(a GuestAddr) *Mapping {
	if m := t.floor(a); m != nil && a < m.End {
		return m
	}
	return nil
}

// each calls f on the mappings in address order until f returns false.
func (t *mappingTree) each(f func(*Mapping) bool) {
	var walk func(n *treeNode) bool
	walk = func(n *treeNode) bool {
		if n == nil {
			return true
		}
		return walk(n.left) && f(n.m) && walk(n.right)
	}
	walk(t.root)
}

// overlapping lists the mappings that intersect [start, end), in order.
func (t *mappingTree) overlapping(start, end GuestAddr) []*Mapping {
	var out []*Mapping
	m := t.floor(start)
	if m == nil || m.End <= start {
		m = t.ceil(start)
	}
	for m != nil && m.Start < end {
		out = append(out, m)
		m = t.ceil(m.End)
	}
	return out
}
