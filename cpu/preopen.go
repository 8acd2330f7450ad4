package cpu

// #include <stdlib.h>
// #include "engine.h"
import "C"

import "unsafe"

// The engine preopen.c opens while the Go runtime starts, seen from Go: for
// tests, and for the check that its defaults are Open's.

// preopenGuess is the architecture preopen.c guesses from xemu's arguments
// args (args[0] is the program name), or nil.
func preopenGuess(args []string) *Arch {
	argv, free := cStringArray(args)
	defer free()
	switch C.xemu_preopen_guess(C.int(len(args)), &argv[0]) {
	case 0:
		return AArch64
	case 1:
		return ARM
	}
	return nil
}

// preopenStart opens an engine of a on another thread for the next Open of
// the same kind to take.
func preopenStart(a *Arch) { C.xemu_preopen_start(C.int(a.id)) }

// preopenTaken counts the engines Open took from preopen.c.
func preopenTaken() uint64 { return uint64(C.xemu_preopen_taken) }

// preopenParams are what preopen.c opens an engine of a with.
func preopenParams(a *Arch) (model int, trapBase uint64, codeBuffer uint32) {
	var m C.int
	var tb C.uint64_t
	var cb C.uint32_t
	C.xemu_preopen_params(C.int(a.id), &m, &tb, &cb)
	return int(m), uint64(tb), uint32(cb)
}

// cStringArray is s as a C array of strings ending in NULL, as argv and
// environ are, and what frees it.
func cStringArray(s []string) ([]*C.char, func()) {
	a := make([]*C.char, len(s)+1)
	for i, str := range s {
		a[i] = C.CString(str)
	}
	return a, func() {
		for _, p := range a[:len(s)] {
			C.free(unsafe.Pointer(p))
		}
	}
}
