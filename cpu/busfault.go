package cpu

// #include <signal.h>
// #include "engine.h"
// #include "hostsig.h"
import "C"

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"xemu/cpu/mem"
)

// The bus-fault self-test's programs: each entry point makes one access
// through x0/r0 and exits. The exec page holds only an exit.
var busTestCode = [2]struct {
	words                 []uint32
	load, store, zva, cas uint64 // zva, cas: 0 where the instruction set has none
	exit                  []uint32
}{
	{[]uint32{
		0xf9400001, // load: ldr x1, [x0]
		0xd2800ba8, // mov x8, #93
		0xd4000001, // svc #0
		0xf9000001, // store: str x1, [x0]
		0xd2800ba8, // mov x8, #93
		0xd4000001, // svc #0
		0xd50b7420, // zva: dc zva, x0
		0xd2800ba8, // mov x8, #93
		0xd4000001, // svc #0
		0x88e1fc02, // cas: casal w1, w2, [x0]
		0xd2800ba8, // mov x8, #93
		0xd4000001, // svc #0
	}, 0, 0xc, 0x18, 0x24, []uint32{0xd2800ba8, 0xd4000001}},
	{[]uint32{
		0xe5901000, // load: ldr r1, [r0]
		0xe3a07001, // mov r7, #1
		0xef000000, // svc 0
		0xe5801000, // store: str r1, [r0]
		0xe3a07001, // mov r7, #1
		0xef000000, // svc 0
	}, 0, 0xc, 0, 0, []uint32{0xe3a07001, 0xef000000}},
}

const (
	busTestCodeAt = 0x40000
	busTestData   = 0x50000 // three pages of a memfd, shared
	busTestExec   = 0x60000 // the memfd's fourth page, executable
)

// selfTestBus checks that a host SIGBUS on guest memory becomes the guest's
// fault at its instruction (busfault.c): a memfd mapped under the engine is
// truncated, and loads, stores, DC ZVA, CAS and an instruction fetch on its
// pages must each stop the engine with the exact PC and address, through
// translated code (a page already in the TLB), the memory helpers (a page
// not yet in it) and the translator; once the memfd grows again the access
// must simply work. It returns what failed, or "".
func selfTestBus(a *Arch, e *Engine, s *mem.AddressSpace) string {
	id := a.id
	// The handler that recovers must be the one installed (the kernel
	// installs it for every signal later; this may run first).
	if C.xemu_catch_signal(C.SIGBUS) != 0 {
		return "catching SIGBUS"
	}
	prog := busTestCode[id]
	code := make([]byte, 4*len(prog.words))
	for i, w := range prog.words {
		binary.LittleEndian.PutUint32(code[4*i:], w)
	}
	fd, err := unix.MemfdCreate("xemu-selftest", unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Sprintf("memfd: %v", err)
	}
	defer unix.Close(fd)
	exit := make([]byte, 8)
	binary.LittleEndian.PutUint32(exit, prog.exit[0])
	binary.LittleEndian.PutUint32(exit[4:], prog.exit[1])
	if err := unix.Ftruncate(fd, 4*mem.PageSize); err != nil {
		return fmt.Sprintf("memfd size: %v", err)
	}
	if _, err := unix.Pwrite(fd, exit, 3*mem.PageSize); err != nil {
		return fmt.Sprintf("memfd write: %v", err)
	}
	for _, m := range []mem.MapRequest{
		{Addr: busTestCodeAt, Length: mem.PageSize, Prot: mem.ProtRead | mem.ProtExec, FD: -1},
		{Addr: busTestData, Length: 3 * mem.PageSize, Prot: mem.ProtRead | mem.ProtWrite, Shared: true, FD: fd},
		{Addr: busTestExec, Length: mem.PageSize, Prot: mem.ProtRead | mem.ProtExec, Shared: true, FD: fd, Offset: 3 * mem.PageSize},
	} {
		m.Fixed, m.Name = true, "xemu-selftest"
		if _, err := s.Map(m); err != nil {
			return fmt.Sprintf("map: %v", err)
		}
	}
	defer e.FlushTLB()
	if err := s.Poke(busTestCodeAt, code); err != nil {
		return fmt.Sprintf("poke: %v", err)
	}
	run := func(entry, x0 uint64) Stop {
		e.SetReg(generalReg(a, 0), x0)
		return e.Run(entry)
	}
	// Both kinds of access to the first page while the file is whole: its
	// translation is in the TLB, so the next ones are made by translated
	// code itself.
	for _, entry := range []uint64{prog.load, prog.store} {
		if stop := run(busTestCodeAt+entry, busTestData); stop.Kind != StopRequested {
			return fmt.Sprintf("access before truncation: %+v", stop)
		}
	}
	if err := unix.Ftruncate(fd, 0); err != nil {
		return fmt.Sprintf("truncate: %v", err)
	}
	type check struct {
		what   string
		entry  uint64
		addr   uint64
		access mem.Prot // 0: either read or write
	}
	checks := []check{
		{"load in translated code", prog.load, busTestData + 8, mem.ProtRead},
		{"store in translated code", prog.store, busTestData + 16, mem.ProtWrite},
		{"load in a helper", prog.load, busTestData + mem.PageSize + 8, mem.ProtRead},
		{"store in a helper", prog.store, busTestData + 2*mem.PageSize + 24, mem.ProtWrite},
	}
	if prog.zva != 0 {
		// The page is in the TLB now: the helper zeroes it with memset.
		checks = append(checks, check{"DC ZVA", prog.zva, busTestData + 2*mem.PageSize + 0x200, mem.ProtWrite})
	}
	if prog.cas != 0 {
		checks = append(checks, check{"CAS", prog.cas, busTestData + mem.PageSize + 0x40, 0})
	}
	for _, c := range checks {
		stop := run(busTestCodeAt+c.entry, c.addr)
		f := stop.Fault
		if stop.Kind != StopFault || !f.Bus || !f.Mapped || f.PC != busTestCodeAt+c.entry || f.Addr != c.addr ||
			(c.access != 0 && f.Access != c.access) || (c.access == 0 && f.Access == mem.ProtExec) {
			return fmt.Sprintf("%s: got %+v", c.what, stop)
		}
	}
	// Nothing of the exec page was translated before: the translator's
	// fetch faults.
	if stop := run(busTestExec, 0); stop.Kind != StopFault ||
		stop.Fault != (Fault{PC: busTestExec, Addr: busTestExec, Access: mem.ProtExec, Mapped: true, Bus: true}) {
		return fmt.Sprintf("instruction fetch: got %+v", stop)
	}
	// The file grows back: the same accesses work.
	if err := unix.Ftruncate(fd, 4*mem.PageSize); err != nil {
		return fmt.Sprintf("grow: %v", err)
	}
	for _, c := range checks[:4] {
		if stop := run(busTestCodeAt+c.entry, c.addr); stop.Kind != StopRequested {
			return fmt.Sprintf("%s after the file grew: %+v", c.what, stop)
		}
	}
	return ""
}
