package mem

import "sort"

// physAllocator hands out ranges of the arena. Free space is a sorted list of
// ranges; guest mappings are few enough compared to pages that first fit is fine.
type physAllocator struct {
	ranges []physRange // sorted by start, never adjacent
}

type physRange struct{ start, end uint64 }

func (a *physAllocator) init(size uint64) {
	// Arena offset 0 is never handed out, so a zero Phys always means "none".
	a.ranges = []physRange{{PageSize, size}}
}

// alloc takes length bytes, at hint when that space is free, else first fit.
func (a *physAllocator) alloc(length, hint uint64) (uint64, bool) {
	if hint != ^uint64(0) && a.allocAt(hint, length) {
		return hint, true
	}
	for i, r := range a.ranges {
		if r.end-r.start >= length {
			a.ranges[i].start += length
			if a.ranges[i].start == a.ranges[i].end {
				a.ranges = append(a.ranges[:i], a.ranges[i+1:]...)
			}
			return r.start, true
		}
	}
	return 0, false
}

// allocAt takes [at, at+length) if it is entirely free.
func (a *physAllocator) allocAt(at, length uint64) bool {
	i := sort.Search(len(a.ranges), func(i int) bool { return a.ranges[i].end > at })
	if i == len(a.ranges) || a.ranges[i].start > at || a.ranges[i].end < at+length {
		return false
	}
	r := a.ranges[i]
	var repl []physRange
	if r.start < at {
		repl = append(repl, physRange{r.start, at})
	}
	if at+length < r.end {
		repl = append(repl, physRange{at + length, r.end})
	}
	a.ranges = append(a.ranges[:i], append(repl, a.ranges[i+1:]...)...)
	return true
}

func (a *physAllocator) free(start, length uint64) {
	end := start + length
	i := sort.Search(len(a.ranges), func(i int) bool { return a.ranges[i].start >= end })
	// Merge with the range after and the one before when they touch.
	if i < len(a.ranges) && a.ranges[i].start == end {
		end = a.ranges[i].end
		a.ranges = append(a.ranges[:i], a.ranges[i+1:]...)
	}
	if i > 0 && a.ranges[i-1].end == start {
		a.ranges[i-1].end = end
		return
	}
	a.ranges = append(a.ranges, physRange{})
	copy(a.ranges[i+1:], a.ranges[i:])
	a.ranges[i] = physRange{start, end}
}
