// Package cpu is xemu's binding to the Unicorn engine (2.1.4, linked statically)
// and the per-architecture CPU state. cgo lives here and nowhere else.
package cpu

/*
#cgo CFLAGS: -O2 -I${SRCDIR}/../.cache/unicorn/usr/include
#cgo LDFLAGS: ${SRCDIR}/../.cache/unicorn/usr/lib/x86_64-linux-gnu/libunicorn.a -lm -lpthread -Wl,--no-relax
#cgo LDFLAGS: -Wl,--wrap=tcg_gen_callN_aarch64 -Wl,--wrap=tcg_gen_callN_arm
#cgo LDFLAGS: -Wl,--wrap=tcg_gen_exit_tb_aarch64 -Wl,--wrap=tcg_gen_exit_tb_arm
#cgo LDFLAGS: -Wl,--wrap=gen_intermediate_code_aarch64 -Wl,--wrap=gen_intermediate_code_arm
#cgo LDFLAGS: -Wl,--wrap=cpu_exec_aarch64 -Wl,--wrap=cpu_exec_arm
#cgo LDFLAGS: -Wl,--wrap=tlb_reset_dirty_by_vaddr_aarch64 -Wl,--wrap=tlb_reset_dirty_by_vaddr_arm
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_xchgb_aarch64 -Wl,--wrap=helper_atomic_xchgw_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_xchgl_le_aarch64 -Wl,--wrap=helper_atomic_xchgq_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_xchgb_arm -Wl,--wrap=helper_atomic_xchgw_le_arm
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_xchgl_le_arm -Wl,--wrap=helper_atomic_xchgq_le_arm
#cgo LDFLAGS: -Wl,--wrap=qht_init -Wl,--wrap=qht_reset_size
#cgo LDFLAGS: -Wl,--wrap=pthread_create -Wl,--wrap=sigaction -Wl,--wrap=mmap -Wl,--wrap=mmap64
// busfault.c: the memory helpers, for a host SIGBUS on guest memory.
#cgo LDFLAGS: -Wl,--wrap=helper_ret_ldub_mmu_aarch64 -Wl,--wrap=helper_le_lduw_mmu_aarch64 -Wl,--wrap=helper_be_lduw_mmu_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_le_ldul_mmu_aarch64 -Wl,--wrap=helper_be_ldul_mmu_aarch64 -Wl,--wrap=helper_le_ldq_mmu_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_be_ldq_mmu_aarch64 -Wl,--wrap=helper_ret_stb_mmu_aarch64 -Wl,--wrap=helper_le_stw_mmu_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_be_stw_mmu_aarch64 -Wl,--wrap=helper_le_stl_mmu_aarch64 -Wl,--wrap=helper_be_stl_mmu_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_le_stq_mmu_aarch64 -Wl,--wrap=helper_be_stq_mmu_aarch64 -Wl,--wrap=helper_atomic_cmpxchgb_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_cmpxchgw_le_aarch64 -Wl,--wrap=helper_atomic_cmpxchgl_le_aarch64 -Wl,--wrap=helper_atomic_cmpxchgq_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_addb_aarch64 -Wl,--wrap=helper_atomic_fetch_addw_le_aarch64 -Wl,--wrap=helper_atomic_fetch_addl_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_addq_le_aarch64 -Wl,--wrap=helper_atomic_fetch_andb_aarch64 -Wl,--wrap=helper_atomic_fetch_andw_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_andl_le_aarch64 -Wl,--wrap=helper_atomic_fetch_andq_le_aarch64 -Wl,--wrap=helper_atomic_fetch_orb_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_orw_le_aarch64 -Wl,--wrap=helper_atomic_fetch_orl_le_aarch64 -Wl,--wrap=helper_atomic_fetch_orq_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_xorb_aarch64 -Wl,--wrap=helper_atomic_fetch_xorw_le_aarch64 -Wl,--wrap=helper_atomic_fetch_xorl_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_xorq_le_aarch64 -Wl,--wrap=helper_atomic_fetch_sminb_aarch64 -Wl,--wrap=helper_atomic_fetch_sminw_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_sminl_le_aarch64 -Wl,--wrap=helper_atomic_fetch_sminq_le_aarch64 -Wl,--wrap=helper_atomic_fetch_smaxb_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_smaxw_le_aarch64 -Wl,--wrap=helper_atomic_fetch_smaxl_le_aarch64 -Wl,--wrap=helper_atomic_fetch_smaxq_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_uminb_aarch64 -Wl,--wrap=helper_atomic_fetch_uminw_le_aarch64 -Wl,--wrap=helper_atomic_fetch_uminl_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_uminq_le_aarch64 -Wl,--wrap=helper_atomic_fetch_umaxb_aarch64 -Wl,--wrap=helper_atomic_fetch_umaxw_le_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_fetch_umaxl_le_aarch64 -Wl,--wrap=helper_atomic_fetch_umaxq_le_aarch64 -Wl,--wrap=helper_dc_zva_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_cmpxchgo_le_mmu_aarch64 -Wl,--wrap=helper_atomic_cmpxchgo_be_mmu_aarch64
#cgo LDFLAGS: -Wl,--wrap=helper_ret_ldub_mmu_arm -Wl,--wrap=helper_le_lduw_mmu_arm -Wl,--wrap=helper_be_lduw_mmu_arm
#cgo LDFLAGS: -Wl,--wrap=helper_le_ldul_mmu_arm -Wl,--wrap=helper_be_ldul_mmu_arm -Wl,--wrap=helper_le_ldq_mmu_arm
#cgo LDFLAGS: -Wl,--wrap=helper_be_ldq_mmu_arm -Wl,--wrap=helper_ret_stb_mmu_arm -Wl,--wrap=helper_le_stw_mmu_arm
#cgo LDFLAGS: -Wl,--wrap=helper_be_stw_mmu_arm -Wl,--wrap=helper_le_stl_mmu_arm -Wl,--wrap=helper_be_stl_mmu_arm
#cgo LDFLAGS: -Wl,--wrap=helper_le_stq_mmu_arm -Wl,--wrap=helper_be_stq_mmu_arm -Wl,--wrap=helper_atomic_cmpxchgb_arm
#cgo LDFLAGS: -Wl,--wrap=helper_atomic_cmpxchgw_le_arm -Wl,--wrap=helper_atomic_cmpxchgl_le_arm -Wl,--wrap=helper_atomic_cmpxchgq_le_arm
#include "engine.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"xemu/cpu/mem"
)

// Error is a Unicorn error code.
type Error C.uc_err

func (e Error) Error() string { return "unicorn: " + C.GoString(C.uc_strerror(C.uc_err(e))) }

func check(err C.uc_err) error {
	if err != C.UC_ERR_OK {
		return Error(err)
	}
	return nil
}

// Handler receives the guest events that need Go: system calls and exceptions.
type Handler interface {
	// Syscall handles the system call in e.Syscall(); it sets the result with
	// SetSyscallResult (or registers itself, with KeepRegisters).
	Syscall(e *Engine)
	// Exception is any other CPU exception (undefined instruction, breakpoint,
	// alignment); returning true stops emulation so Run reports it.
	Exception(e *Engine, intno uint32) bool
}

// CodeHandler is a Handler that decides itself what an IC IVAU reaches: the
// line on every engine of the process and its aliases (see SetCodeBroadcast).
type CodeHandler interface {
	CodeWritten(e *Engine, start, end mem.GuestAddr)
}

// SetCodeBroadcast sends every IC IVAU to the handler's CodeWritten, not
// only those on shared pages: with several engines over one memory, code
// one engine translated is stale when another's thread rewrites it.
func (e *Engine) SetCodeBroadcast(on bool) {
	v := 0
	if on {
		v = 1
	}
	e.c.ivau_to_go = C.int(v)
}

// Config selects what an engine emulates.
type Config struct {
	Arch    *Arch
	Model   Model // zero: the architecture's default
	Space   *mem.AddressSpace
	Handler Handler
	// CodeBuffer is the size of the engine's buffer of translated code
	// (0: DefaultCodeBuffer).
	CodeBuffer uint32
}

// DefaultCodeBuffer is an engine's buffer of translated code unless its
// Config says otherwise: half of Unicorn's own default, so that two fit
// next to xemu's code (codebuf.c), the old program's engine and the new
// one's during an execve. When it fills, TCG drops the engine's
// translations and starts again.
const DefaultCodeBuffer = 512 << 20

// Engine is one Unicorn instance running one guest address space. It must be
// used from one locked OS thread.
type Engine struct {
	// mu keeps Close from freeing the engine under an Interrupt from
	// another thread; nothing on the run path takes it.
	mu      sync.Mutex
	c       *C.xemu_engine
	arch    *Arch
	space   *mem.AddressSpace
	handler Handler
	id      int
	// tested: the architecture's self-test has ended (Run waits for it).
	tested bool
}

// At most this many engines exist at once (the registry C callbacks index).
const maxEngines = 1024

var (
	registry   [maxEngines]atomic.Pointer[Engine]
	registryMu sync.Mutex
)

// Open creates an engine over the address space. The start-up self-test of
// its architecture (once per process) must end before the engine runs guest
// code: Run waits for it, SelfTest runs it on the new engine, StartSelfTest
// on an engine of its own, alongside what comes first.
func Open(cfg Config) (*Engine, error) {
	return open(cfg)
}

func open(cfg Config) (*Engine, error) {
	a := cfg.Arch
	model := cfg.Model
	if model.Name == "" {
		model = a.DefaultModel
	}
	e := &Engine{arch: a, space: cfg.Space, handler: cfg.Handler}
	registryMu.Lock()
	for i := 1; i < maxEngines; i++ {
		if registry[i].Load() == nil {
			e.id = i
			registry[i].Store(e)
			break
		}
	}
	registryMu.Unlock()
	if e.id == 0 {
		return nil, fmt.Errorf("cpu: too many engines")
	}
	arena, size := cfg.Space.Arena()
	if cfg.CodeBuffer == 0 {
		cfg.CodeBuffer = DefaultCodeBuffer
	}
	var uerr C.uc_err
	// The engine a constructor opened while the runtime started (preopen.c).
	e.c = C.xemu_take_preopened(C.int(a.id), C.int(model.uc), C.uint64_t(a.TrapBase), C.uint32_t(cfg.CodeBuffer))
	if e.c != nil {
		if uerr = C.xemu_bind(e.c, C.int(e.id), C.uintptr_t(cfg.Space.PageTableRoot()), C.uintptr_t(arena), C.uint64_t(size)); uerr != C.UC_ERR_OK {
			C.xemu_close(e.c)
			e.c = nil
		}
	}
	if e.c == nil {
		e.c = C.xemu_open(C.int(a.id), C.int(model.uc), C.int(e.id),
			C.uintptr_t(cfg.Space.PageTableRoot()), C.uint64_t(a.TrapBase),
			C.uintptr_t(arena), C.uint64_t(size), C.uint32_t(cfg.CodeBuffer), &uerr)
	}
	if e.c == nil {
		registry[e.id].Store(nil)
		return nil, check(uerr)
	}
	cfg.Space.SetObserver(e)
	return e, nil
}

// SetHandler gives the engine to another handler (an engine reused for a
// new thread). Call it while the engine does not run.
func (e *Engine) SetHandler(h Handler) { e.handler = h }

// Close releases the engine.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return
	}
	C.xemu_close(e.c)
	e.c = nil
	registry[e.id].Store(nil)
}

// Arch is the engine's guest architecture.
func (e *Engine) Arch() *Arch { return e.arch }

// Space is the engine's address space.
func (e *Engine) Space() *mem.AddressSpace { return e.space }

// StopKind says why Run returned.
type StopKind int

const (
	StopRequested   StopKind = iota + 1 // a handler called RequestStop
	StopFault                           // the guest touched memory it may not
	StopException                       // an exception the handler chose to stop on
	StopInvalid                         // an instruction Unicorn cannot execute
	StopInterrupted                     // Interrupt was called
)

// Fault is a memory access the guest may not make.
type Fault struct {
	PC     uint64
	Addr   uint64
	Access mem.Prot // ProtRead, ProtWrite or ProtExec
	Mapped bool     // the page is mapped but lacks the permission
	// Bus: the page is mapped and allowed, but the host raised SIGBUS for
	// it: a page of a file mapping wholly past the end of its file, which
	// was truncated after it was mapped (Mapped is set too).
	Bus bool
}

func (f Fault) String() string {
	kind := map[mem.Prot]string{mem.ProtRead: "read", mem.ProtWrite: "write", mem.ProtExec: "execute"}[f.Access]
	why := "unmapped"
	if f.Bus {
		why = "truncated file page"
	} else if f.Mapped {
		why = "protected"
	}
	return fmt.Sprintf("%s of %s address %#x at pc %#x", kind, why, f.Addr, f.PC)
}

// Stop is what ended a Run.
type Stop struct {
	Kind  StopKind
	Fault Fault  // StopFault
	Intno uint32 // StopException
	PC    uint64
	Err   error // StopInvalid: Unicorn's error
}

// Run executes guest code from pc until a handler asks to stop, the guest
// faults, or an exception stops it.
func (e *Engine) Run(pc uint64) Stop {
	if !e.tested {
		// The self-test decides how code is translated.
		selfTestOnce(e.arch)
		e.tested = true
	}
	uerr := C.xemu_run(e.c, C.uint64_t(pc))
	pc = e.PC()
	switch int(e.c.stop) {
	case C.XSTOP_FAULT:
		f := Fault{PC: pc, Addr: uint64(e.c.fault_addr), Mapped: e.c.fault_mapped != 0, Bus: e.c.fault_bus != 0}
		f.Access = mem.Prot(e.c.fault_access)
		// The refused page is in the TLB as a trap entry: drop it. (A page
		// the host refused has a real entry, which stays: the page is
		// valid again as soon as its file grows.)
		if !f.Bus {
			C.xemu_flush_tlb(e.c)
		}
		return Stop{Kind: StopFault, Fault: f, PC: pc}
	case C.XSTOP_REQUESTED:
		return Stop{Kind: StopRequested, PC: pc}
	case C.XSTOP_INTERRUPT:
		return Stop{Kind: StopException, Intno: uint32(e.c.intno), PC: pc}
	case C.XSTOP_INTERRUPTED:
		return Stop{Kind: StopInterrupted, PC: pc}
	}
	if uerr != C.UC_ERR_OK {
		return Stop{Kind: StopInvalid, PC: pc, Err: check(uerr)}
	}
	// Emulation ends only when asked; an unexplained return is reported
	// as a request so the caller looks at its own state.
	return Stop{Kind: StopRequested, PC: pc}
}

// RequestStop makes Run return StopRequested once the current hook returns.
func (e *Engine) RequestStop() { C.xemu_request_stop(e.c) }

// Interrupt asks the engine to stop soon at a safe point, from any goroutine
// or thread (signal delivery to a running guest thread, Ctrl-C). Run then
// returns StopInterrupted with exact registers: nothing half done, nothing to
// run twice.
//
// Where it lands: at the next block start, chained loops without memory
// accesses or system calls included, when the architecture's
// Capabilities().NoAccessCheck holds; right after the system call or
// exception hook that is running; or at once, having executed nothing, when
// Run has not started yet or is called later (the request stays pending
// until a Run reports it). Without NoAccessCheck
// (stock Unicorn: stopping it from another thread can run a load or store
// twice) the request waits, pending, for the engine's next system call,
// exception or Run, so a guest spinning without any never sees it.
//
// If a Run ends for another reason first (a fault, RequestStop), the request
// stays pending for the next Run.
func (e *Engine) Interrupt() {
	e.mu.Lock()
	if e.c != nil {
		C.xemu_interrupt(e.c)
	}
	e.mu.Unlock()
}

// Interrupted reports whether an Interrupt is pending: sent and not yet
// reported by Run as StopInterrupted (nor cleared).
func (e *Engine) Interrupted() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.c != nil && atomic.LoadInt32((*int32)(unsafe.Pointer(&e.c.interrupt_pending))) != 0
}

// ClearInterrupt withdraws a pending Interrupt and reports whether there was
// one: for a handler that acts on it itself (a system call that returns EINTR
// and delivers the signal in place). Call it on the engine's thread. A stop
// already on its way is absorbed: Run carries on where it landed.
func (e *Engine) ClearInterrupt() bool { return C.xemu_take_interrupt(e.c) != 0 }

// Syscall is the system call being handled: its number and arguments.
func (e *Engine) Syscall() (nr uint64, args [7]uint64) {
	return uint64(e.c.sc_nr), *e.SyscallArgs()
}

// SyscallNr is the number of the system call being handled.
func (e *Engine) SyscallNr() uint64 { return uint64(e.c.sc_nr) }

// SyscallArgs points at the argument registers of the system call being
// handled (valid until the handler returns), so the hot path copies nothing.
func (e *Engine) SyscallArgs() *[7]uint64 {
	return (*[7]uint64)(unsafe.Pointer(&e.c.sc_args[0]))
}

// SetSyscallResult sets the value the guest sees in its result register.
func (e *Engine) SetSyscallResult(v uint64) { e.c.sc_ret = C.uint64_t(v) }

// SetSyscallArgCount says how many argument registers call nr reads; the
// others read as zero. Reading fewer registers makes the round trip cheaper.
func (e *Engine) SetSyscallArgCount(nr uint64, n int) {
	if nr < C.XSC_TABLE && n >= 0 && n <= int(e.c.sc_nargs) {
		e.c.sc_nargs_by_nr[nr] = C.uint8_t(n)
	}
}

// KeepRegisters says the handler set the guest's registers itself (sigreturn,
// exec): the result register is not written.
func (e *Engine) KeepRegisters() { e.c.sc_keep_regs = 1 }

// Reg reads a register (a 32-bit guest's registers read zero-extended).
func (e *Engine) Reg(r Reg) uint64 {
	var v C.uint64_t
	C.xemu_reg_read(e.c, C.int(r), &v)
	if e.arch.Bits == 32 {
		v &= 0xffffffff
	}
	return uint64(v)
}

// SetReg writes a register.
func (e *Engine) SetReg(r Reg, v uint64) error {
	return check(C.xemu_reg_write(e.c, C.int(r), C.uint64_t(v)))
}

// RegBytes reads a wide register (a 128-bit vector register) into buf.
func (e *Engine) RegBytes(r Reg, buf []byte) error {
	tmp := (*C.char)(C.malloc(64))
	defer C.free(unsafe.Pointer(tmp))
	if err := check(C.xemu_reg_read_bytes(e.c, C.int(r), unsafe.Pointer(tmp))); err != nil {
		return err
	}
	copy(buf, unsafe.Slice((*byte)(unsafe.Pointer(tmp)), 64))
	return nil
}

// SetRegBytes writes a wide register from buf.
func (e *Engine) SetRegBytes(r Reg, buf []byte) error {
	tmp := (*C.char)(C.calloc(1, 64))
	defer C.free(unsafe.Pointer(tmp))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(tmp)), 64), buf)
	return check(C.xemu_reg_write_bytes(e.c, C.int(r), unsafe.Pointer(tmp)))
}

// PC is the guest's program counter (on ARM with the Thumb bit cleared).
func (e *Engine) PC() uint64 { return e.Reg(e.arch.PCReg) }

// SP is the guest's stack pointer.
func (e *Engine) SP() uint64 { return e.Reg(e.arch.SPReg) }

// FlushTLB drops every cached translation (mem.Observer).
func (e *Engine) FlushTLB() { C.xemu_flush_tlb(e.c) }

// InvalidateCode drops code translated from guest [start, end) (mem.Observer).
func (e *Engine) InvalidateCode(start, end mem.GuestAddr) {
	C.xemu_invalidate_code(e.c, C.uint64_t(start), C.uint64_t(end))
}

// FlushCode drops all translated code.
func (e *Engine) FlushCode() { C.xemu_flush_code(e.c) }

// Stats are counters for tests and benchmarks.
type Stats struct {
	TLBFills, Syscalls uint64
	// GrowFlushes counts the TLB flushes made so the TLB could grow.
	GrowFlushes uint64
}

func (e *Engine) Stats() Stats {
	return Stats{TLBFills: uint64(e.c.tlb_fills), Syscalls: uint64(e.c.syscalls), GrowFlushes: uint64(e.c.grow_flushes)}
}

// SetTLBGrowth sets how many times the TLB may be flushed so that it grows
// (0: never; for measuring what growth buys).
func (e *Engine) SetTLBGrowth(n int) { e.c.grow_left = C.int(n) }
