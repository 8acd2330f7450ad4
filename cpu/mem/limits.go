package mem

import "golang.org/x/sys/unix"

// Limits are the guest's RLIMIT_AS and RLIMIT_DATA in bytes (Unlimited:
// none), checked as mm/mmap.c may_expand_vm checks them when a mapping
// grows the address space: mmap, brk and a growing mremap fail with ENOMEM
// when all the guest's mappings (total_vm) or its private writable ones
// (data_vm, the stack aside) would pass them.
type Limits struct {
	AS, Data uint64
}

// Unlimited is RLIM64_INFINITY.
const Unlimited = ^uint64(0)

// SetLimits sets the limits later growth is checked against.
func (s *AddressSpace) SetLimits(l Limits) {
	s.lock()
	defer s.unlock()
	s.limits = l
	s.limitsSet = l.AS != Unlimited || l.Data != Unlimited
}

// SetReadImpliesExec is the READ_IMPLIES_EXEC personality: a mapping, a
// protection change or the heap that may be read may also be executed
// (mm/mmap.c do_mmap, mm/mprotect.c, VM_DATA_FLAGS_TSK_EXEC).
func (s *AddressSpace) SetReadImpliesExec(on bool) {
	s.lock()
	defer s.unlock()
	s.readImpliesExec = on
}

func (s *AddressSpace) impliedProt(p Prot) Prot {
	if s.readImpliesExec && p&ProtRead != 0 {
		p |= ProtExec
	}
	return p
}

// isData: is_data_mapping, private and writable, not the stack.
func isData(prot Prot, shared bool, name string) bool {
	return prot&ProtWrite != 0 && !shared && name != "[stack]"
}

// vmPages counts the guest's pages, all and data, as total_vm and data_vm
// do (pages above Limit are the kernel's gate pages).
func (s *AddressSpace) vmPages() (total, data uint64) {
	s.maps.each(func(m *Mapping) bool {
		if m.Start < s.Limit {
			n := uint64(m.End-m.Start) / PageSize
			total += n
			if isData(m.Prot, m.Shared, m.Name) {
				data += n
			}
		}
		return true
	})
	return total, data
}

// mayExpand is may_expand_vm for pages more of a mapping of this kind.
func (s *AddressSpace) mayExpand(prot Prot, shared bool, name string, pages uint64) bool {
	if !s.limitsSet {
		return true
	}
	total, data := s.vmPages()
	if total+pages > s.limits.AS/PageSize {
		return false
	}
	return !isData(prot, shared, name) || data+pages <= s.limits.Data/PageSize
}

// checkGrowth is mmap_region's check for a new mapping of length bytes at
// addr: what MAP_FIXED replaces is not counted.
func (s *AddressSpace) checkGrowth(addr GuestAddr, length uint64, prot Prot, shared bool, name string, fixed bool) error {
	pages := length / PageSize
	if s.mayExpand(prot, shared, name, pages) {
		return nil
	}
	if fixed {
		var replaced uint64
		for _, m := range s.maps.overlapping(addr, addr+GuestAddr(length)) {
			replaced += uint64(min(m.End, addr+GuestAddr(length))-max(m.Start, addr)) / PageSize
		}
		if s.mayExpand(prot, shared, name, pages-replaced) {
			return nil
		}
	}
	return unix.ENOMEM
}
