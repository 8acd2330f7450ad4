package loader

import (
	"encoding/binary"

	"xemu/cpu/mem"
)

// ARMVectors is where ARM Linux maps its vector page: above user space,
// readable and executable by every process, ending with the kuser helpers
// (Documentation/arch/arm/kernel_user_helpers.rst).
const ARMVectors = 0xffff0000

// The kuser helpers' fixed addresses, which programs call directly.
const (
	KuserCmpxchg64     = 0xffff0f60
	KuserMemoryBarrier = 0xffff0fa0
	KuserCmpxchg       = 0xffff0fc0
	KuserGetTLS        = 0xffff0fe0
	KuserHelperVersion = 0xffff0ffc
)

// kuserPoison fills the rest of the page: Linux's early_trap_init fills the
// vector page with this undefined instruction before copying code in.
const kuserPoison = 0xe7fddef1

// kuserHelpers is the end of the page from 0xffff0f60, as an SMP ARMv7
// kernel with the TLS register lays it out (arch/arm/kernel/entry-armv.S,
// __kuser_helper_start to __kuser_helper_end, after kuser_get_tls_init has
// copied the mrc over the software-TLS load). Each helper returns with bx lr,
// so Thumb callers get back to Thumb. Guest threads never run at the same
// time, so the ldrex/strex loops are atomic as they stand.
var kuserHelpers = [40]uint32{
	// __kuser_cmpxchg64 (0xffff0f60): r0 = &oldval, r1 = &newval, r2 = ptr;
	// r0 = 0 and C set if *ptr was oldval and is now newval.
	0xe92d00f0, // push    {r4, r5, r6, r7}
	0xe1c040d0, // ldrd    r4, r5, [r0]
	0xe1c160d0, // ldrd    r6, r7, [r1]
	0xf57ff05b, // dmb     ish
	0xe1b20f9f, // 1: ldrexd r0, r1, [r2]
	0xe0303004, // eors    r3, r0, r4
	0x00313005, // eorseq  r3, r1, r5
	0x01a23f96, // strexdeq r3, r6, r7, [r2]
	0x03330001, // teqeq   r3, #1
	0x0afffff9, // beq     1b
	0xf57ff05b, // dmb     ish
	0xe2730000, // rsbs    r0, r3, #0
	0xe8bd00f0, // pop     {r4, r5, r6, r7}
	0xe12fff1e, // bx      lr
	kuserPoison, kuserPoison,
	// __kuser_memory_barrier (0xffff0fa0).
	0xf57ff05b, // dmb     ish
	0xe12fff1e, // bx      lr
	kuserPoison, kuserPoison, kuserPoison, kuserPoison, kuserPoison, kuserPoison,
	// __kuser_cmpxchg (0xffff0fc0): r0 = oldval, r1 = newval, r2 = ptr;
	// r0 = 0 and C set if *ptr was oldval and is now newval.
	0xf57ff05b, // dmb     ish
	0xe1923f9f, // 1: ldrex r3, [r2]
	0xe0533000, // subs    r3, r3, r0
	0x01823f91, // strexeq r3, r1, [r2]
	0x03330001, // teqeq   r3, #1
	0x0afffffa, // beq     1b
	0xe2730000, // rsbs    r0, r3, #0
	0xeaffffef, // b       __kuser_memory_barrier
	// __kuser_get_tls (0xffff0fe0): r0 = TPIDRURO.
	0xee1d0f70, // mrc     p15, 0, r0, c13, c0, 3
	0xe12fff1e, // bx      lr
	0xee1d0f70, // mrc     p15, 0, r0, c13, c0, 3 (the hardware-TLS original)
	kuserPoison,
	0, 0, 0, // 0xffff0ff0: the software TLS word, unused with the TLS register
	// __kuser_helper_version (0xffff0ffc): (end - start) / 32 helper slots.
	5,
}

// ARMVectorPage is the contents of the vector page as user space sees it.
func ARMVectorPage() []byte {
	page := make([]byte, mem.PageSize)
	for i := 0; i < len(page); i += 4 {
		binary.LittleEndian.PutUint32(page[i:], kuserPoison)
	}
	start := KuserCmpxchg64 - ARMVectors
	for i, w := range kuserHelpers {
		binary.LittleEndian.PutUint32(page[start+4*i:], w)
	}
	return page
}

// MapARMVectors maps the vector page at 0xffff0000, read-only and
// executable, outside the guest's reach as on Linux ([vectors] in
// /proc/self/maps).
func MapARMVectors(s *mem.AddressSpace) error {
	return s.MapGate(ARMVectors, ARMVectorPage(), mem.ProtRead|mem.ProtExec, "[vectors]")
}
