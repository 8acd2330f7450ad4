package kernel

import (
	"xemu/cpu/mem"
)

// ArgKind says what a system call argument is: how to decode it from the
// registers and how --strace prints it.
type ArgKind uint8

const (
	KInt       ArgKind = iota + 1 // C int: the low 32 bits, sign-extended
	KUint                         // C unsigned int: the low 32 bits
	KLong                         // C long: register width, sign-extended
	KULong                        // unsigned long / size_t: register width
	KHex                          // unsigned, printed in hex
	KFD                           // a descriptor (int)
	KDirFD                        // a directory descriptor (int; AT_FDCWD)
	KPtr                          // a guest address
	KPath                         // a guest address of a path
	KOff64                        // a 64-bit value (loff_t): a register pair on EABI
	KOpenFlags                    // open(2) flags (int)
	KProt                         // mmap protection (int)
	KMapFlags                     // mmap flags (int)
	KSignal                       // a signal number (int)
	KStrBuf                       // a guest buffer whose length is the next argument
	// KOffLo and KOffHi are a 64-bit offset passed as two unsigned longs,
	// low word first and unaligned (preadv, pwritev): a 32-bit ABI's pair
	// is joined into the KOffLo argument; a 64-bit ABI has it all there.
	KOffLo
	KOffHi
)

// RetKind says how --strace prints a result.
type RetKind uint8

const (
	RetInt  RetKind = iota // decimal
	RetHex                 // an address
	RetNone                // does not return (exit)
)

// Args are a system call's arguments, decoded: a 64-bit value split across
// two registers is one argument here.
type Args [7]uint64

func (a Args) Int(i int) int            { return int(int32(uint32(a[i]))) }
func (a Args) Uint(i int) uint32        { return uint32(a[i]) }
func (a Args) U64(i int) uint64         { return a[i] }
func (a Args) I64(i int) int64          { return int64(a[i]) }
func (a Args) Addr(i int) mem.GuestAddr { return mem.GuestAddr(a[i]) }
func (a Args) FD(i int) int             { return a.Int(i) }

// Decode turns raw registers into Args according to kinds.
func (abi *ABI) Decode(raw *[7]uint64, kinds []ArgKind, a *Args) {
	*a = Args{}
	r := 0
	for i, k := range kinds {
		if r >= len(raw) {
			break
		}
		switch k {
		case KOff64:
			if abi.PairedArgs {
				if r%2 == 1 {
					r++ // EABI aligns register pairs to an even register
				}
				if r+1 < len(raw) {
					a[i] = raw[r]&0xffffffff | raw[r+1]<<32
				}
				r += 2
				continue
			}
			a[i] = raw[r]
		case KOffLo:
			a[i] = raw[r]
			if abi.Class == 32 && r+1 < len(raw) {
				a[i] = raw[r]&0xffffffff | raw[r+1]<<32
			}
		case KLong:
			if abi.Class == 32 {
				a[i] = uint64(int64(int32(uint32(raw[r]))))
			} else {
				a[i] = raw[r]
			}
		case KInt, KFD, KDirFD, KSignal, KOpenFlags, KProt, KMapFlags:
			a[i] = uint64(int64(int32(uint32(raw[r]))))
		case KUint:
			a[i] = uint64(uint32(raw[r]))
		default:
			a[i] = raw[r]
		}
		r++
	}
	// Handlers without kinds for every argument see the rest as they came.
	for i := len(kinds); i < len(a) && r < len(raw); i++ {
		a[i] = raw[r]
		r++
	}
}

// argRegisters is how many argument registers a call with these kinds reads,
// as decode consumes them.
func (abi *ABI) argRegisters(kinds []ArgKind) int {
	r, top := 0, 0
	for _, k := range kinds {
		switch {
		case k == KOff64 && abi.PairedArgs:
			if r%2 == 1 {
				r++
			}
			r += 2
			top = max(top, r)
			continue
		case k == KOffLo && abi.Class == 32:
			top = max(top, r+2)
		}
		r++
		top = max(top, r)
	}
	return top
}
