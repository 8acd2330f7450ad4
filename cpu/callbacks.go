package cpu

// #include <stdint.h>
import "C"

import "xemu/cpu/mem"

// The C hooks call these: one call into Go per system call or rare event.

//export xemuGoSyscall
func xemuGoSyscall(id C.int) {
	e := registry[id].Load()
	e.handler.Syscall(e)
}

//export xemuGoInterrupt
func xemuGoInterrupt(id C.int, intno C.uint32_t) C.int {
	e := registry[id].Load()
	if e.handler.Exception(e, uint32(intno)) {
		return 1
	}
	return 0
}

// xemuGoCodeAlias: the guest ran IC IVAU on a line of shared memory; drop the
// code translated from every other mapping of the same bytes.
//
//export xemuGoCodeAlias
func xemuGoCodeAlias(id C.int, va C.uint64_t) {
	e := registry[id].Load()
	line := mem.GuestAddr(va)
	if h, ok := e.handler.(CodeHandler); ok {
		h.CodeWritten(e, line, line+64)
		return
	}
	e.InvalidateCode(line, line+64)
	for _, a := range e.space.Aliases(line) {
		e.InvalidateCode(a, a+64)
	}
}
