// The C half of xemu's Unicorn binding. Everything that runs per TLB miss or more
// often lives here; Go is called only for system calls, faults and other rare events.
#ifndef XEMU_ENGINE_H
#define XEMU_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

// Page-table entry bits, shared with cpu/mem (pagetable.go). The table itself is
// owned by Go (allocated outside the Go heap) and only read here.
#define XPTE_PROT_MASK 7ULL      // UC_PROT_READ|WRITE|EXEC, also PROT_* on Linux
#define XPTE_PRESENT (1ULL << 3) // the guest has a mapping here
#define XPTE_SHARED (1ULL << 4)  // memory that another mapping may alias
#define XPTE_PHYS_MASK (~0xfffULL)

// Trap slots: a refused page is answered with a physical address in a region that
// Unicorn has no memory for, so the access stops emulation with its exact address.
#define XTRAP_SLOTS 16
#define XSC_TABLE 512

enum xemu_stop {
  XSTOP_NONE = 0,
  XSTOP_FAULT = 1,     // a memory access the guest may not make
  XSTOP_REQUESTED = 2, // a handler asked to stop (exit, exec, signal)
  XSTOP_INTERRUPT = 3, // an exception Go must look at (undefined insn, brk, ...)
  XSTOP_INTERRUPTED = 4, // xemu_interrupt: stopped at a block start or syscall
};

enum xemu_access { XACC_READ = 1, XACC_WRITE = 2, XACC_EXEC = 4 };

typedef struct xemu_engine {
  uc_engine *uc;
  int id;
  int arch; // 0 = AArch64, 1 = ARM
  // Every IC IVAU goes to Go (other engines of the process must see it),
  // not only those on shared pages.
  int ivau_to_go;
  uint64_t *pt_root;
  uint64_t trap_base;
  uint64_t trap_page[XTRAP_SLOTS];
  unsigned trap_next;

  // The host memory behind guest pages (uc_mem_map_ptr'd whole).
  uintptr_t arena;
  uint64_t arena_size;

  // Why the last uc_emu_start returned.
  int stop;
  int fault_access; // enum xemu_access
  int fault_mapped; // the page is mapped but lacks the permission
  // The host raised SIGBUS for the access (a file page past the end of a
  // file truncated after it was mapped; busfault.c).
  int fault_bus;
  uint64_t fault_addr;
  uint32_t intno;

  // System call registers: the number, up to 7 arguments and the result,
  // read and written in C so that a system call costs one call into Go.
  int sc_nr_reg, sc_ret_reg;
  int sc_arg_regs[7];
  int sc_batch_regs[8]; // the number register, then sc_arg_regs
  int sc_guess;         // how many arguments the previous call read
  int sc_nargs;
  // How many argument registers each call number reads (the rest read as 0),
  // from the syscall table's argument kinds; numbers past the table read all.
  uint8_t sc_nargs_by_nr[XSC_TABLE];
  uint64_t sc_nr;
  uint64_t sc_args[7];
  uint64_t sc_ret;
  int sc_keep_regs; // the handler set registers itself (sigreturn, exec)

  // A write fill the callback refused: Unicorn stops at the store itself and
  // keeps the exact address in a private field (tcgwrap.c).
  int wfault;
  uint64_t wfault_page;
  int wfault_mapped;

  // Interrupt: pending is set from any thread and taken by the engine's own
  // thread when it reports StopInterrupted; running says uc_emu_start is
  // under way (only then may another thread call uc_emu_stop).
  int interrupt_pending;
  int running;

  int fill_any; // answer any present page, whatever the access (invalidation)
  uint64_t tlb_fills;
  // TLB growth: flush after grow_every more misses, grow_left more times.
  uint64_t fills_at_flush, grow_every, grow_flushes;
  int grow_left;
  uint64_t syscalls;
  uc_hook hooks[5];
  int cpu_model;
  uint32_t code_buffer;
} xemu_engine;

xemu_engine *xemu_open(int arch, int cpu_model, int id, uintptr_t pt_root,
                       uint64_t trap_base, uintptr_t arena, uint64_t arena_size,
                       uint32_t code_buffer, uc_err *err);
// The two halves of xemu_open: an engine of its own, which may be opened on
// another thread (preopen.c), then bound to an address space (engine id, page
// table, arena).
xemu_engine *xemu_open_unbound(int arch, int cpu_model, uint64_t trap_base,
                               uint32_t code_buffer, uc_err *err);
uc_err xemu_bind(xemu_engine *x, int id, uintptr_t pt_root, uintptr_t arena,
                 uint64_t arena_size);
// The engine preopen.c opened for this architecture, model, trap base and
// code buffer while the Go runtime started, waited for; NULL when there is
// none (a different guess is closed).
xemu_engine *xemu_take_preopened(int arch, int cpu_model, uint64_t trap_base,
                                 uint32_t code_buffer);
void xemu_close(xemu_engine *x);
// preopen.c's guess of the program's architecture from xemu's arguments (0
// AArch64, 1 ARM, -1 none), its start of an engine's opening, the defaults
// it opens with, and how many of its engines were taken.
int xemu_preopen_guess(int argc, char **argv);
void xemu_preopen_start(int arch);
void xemu_preopen_params(int arch, int *model, uint64_t *trap_base, uint32_t *code_buffer);
extern uint64_t xemu_preopen_taken;
uc_err xemu_run(xemu_engine *x, uint64_t pc);
uc_err xemu_reg_read(xemu_engine *x, int reg, uint64_t *v);
uc_err xemu_reg_write(xemu_engine *x, int reg, uint64_t v);
uc_err xemu_reg_read_bytes(xemu_engine *x, int reg, void *buf);
uc_err xemu_reg_write_bytes(xemu_engine *x, int reg, const void *buf);
uc_err xemu_flush_tlb(xemu_engine *x);
uc_err xemu_invalidate_code(xemu_engine *x, uint64_t start, uint64_t end);
uc_err xemu_flush_code(xemu_engine *x);
// Stops emulation from inside a hook. Stock Unicorn 2.1.4 must never be
// stopped from another thread: its per-access exit check leaves translated code
// right after a load or store but resumes at that same instruction, running it
// twice (a load into its own base register then reads a wild address). Only
// xemu_interrupt does, and only when tcgwrap.c has removed that check.
void xemu_request_stop(xemu_engine *x);
// Asks the engine to stop at its next block start (or after the system call
// being handled) from any thread; see engine.go's Interrupt.
void xemu_interrupt(xemu_engine *x);
int xemu_take_interrupt(xemu_engine *x);
// The engine running uc_emu_start on this thread (tcgwrap.c's cpu_exec wrapper).
extern __thread xemu_engine *xemu_current;

// busfault.c: a host SIGBUS on guest memory, taken where the guest made the
// access, becomes the guest's fault.
//
// What this thread is doing while uc_emu_start runs, for the signal handler:
// in_guest is set while Unicorn runs guest code or translates it, and clear
// while a hook calls Go (Go reads guest memory itself, and its own faults
// become EFAULT there); helper_ra is the host return address into translated
// code of the memory helper running now (0: none), helper_addr the guest
// address it was given; translating is set while a block is translated.
struct xemu_guest_state {
  int in_guest;
  int translating;
  uintptr_t helper_ra;
  uint64_t helper_addr;
};
extern __thread struct xemu_guest_state xemu_guest;
// Forgets what an exception (a longjmp out of a helper or the translator)
// may have left set.
void xemu_guest_reset(void);
// Per target: a host SIGBUS on guest memory is turned into the guest's fault
// (1), or goes to the Go runtime, which ends xemu (0: the self-test failed).
extern int xemu_bus_recover[2];
// Called by the host signal handler for a kernel-raised SIGBUS: returns 0 if
// it is not a fault of guest code on guest memory; otherwise it never
// returns (the engine stops with a fault at the guest instruction).
int xemu_guest_bus_fault(siginfo_t *si, void *ucontext);
// Stops the engine and leaves to cpu_exec (a longjmp, as every guest
// exception does) from a helper, the translator or the SIGBUS handler: x's
// stop fields say why, and uc_emu_start returns.
void xemu_leave_guest(xemu_engine *x, void *cpu) __attribute__((noreturn));
// tcgwrap.c: a block about to be translated at a misaligned PC (AArch64: not
// a multiple of 4; ARM state: bit 1 set) stops the engine with the PC
// alignment fault Linux reports (XSTOP_INTERRUPT, intno 3), per target;
// Unicorn 2.1.4 (QEMU 5.0) would decode the bytes there.
extern int xemu_pc_align[2];
// tcgwrap.c: the engine's CPUState, from a private offset that
// xemu_wrap_verify checks.
void *xemu_uc_cpu(uc_engine *uc);

// tcgwrap.c: the link-time wrappers' switches and counters, per target (0 =
// AArch64, 1 = ARM), and the private facts they rely on.
extern int xemu_wrap_no_access_check[2];
extern int xemu_wrap_inline_block_check[2];
extern int xemu_wrap_parallel[2];
extern int xemu_wrap_xchg[2];
extern uint64_t xemu_wrap_xchg_calls[2];
extern int xemu_wrap_reset_skip[2];
extern uint64_t xemu_wrap_skipped[2], xemu_wrap_block_checks[2],
    xemu_wrap_parallel_blocks[2], xemu_wrap_mismatch[2],
    xemu_wrap_resets_skipped[2], xemu_wrap_resets[2];
// Whether any page of guest [start, start+length) is writable.
int xemu_range_writable(xemu_engine *x, uint64_t start, uint64_t length);
// Refused writes stop with UC_ERR_EXCEPTION and the exact address (1), or go to
// a trap slot as reads do (0: stock, when the private offset is not trusted).
extern int xemu_exact_store[2];
const char *xemu_wrap_verify(xemu_engine *x);
uint64_t xemu_invalid_addr(uc_engine *uc);
// AArch64: DC ZVA zeroes 512-byte blocks, as under qemu's `max` CPU.
extern int xemu_dczva_512;
void xemu_set_dczva(xemu_engine *x);
// The self-test's watch: a UC_HOOK_MEM_WRITE over [begin, end] counting calls.
uc_err xemu_watch_writes(xemu_engine *x, uint64_t begin, uint64_t end,
                         uint64_t *calls);
uc_err xemu_unwatch_writes(xemu_engine *x);

// xemu_regs is every register a Linux thread saves and restores (signal
// frames, fork, new threads), in one layout for both architectures; cpu.Regs
// mirrors it. AArch64: x[0..30], sp, pc, pstate = NZCV, v = Q0..Q31 (low,
// high), fpsr, fpcr, tls = TPIDR_EL0. ARM: x[0..12] = R0..R12, x[14] = LR,
// sp = R13, pc = R15 (Thumb bit clear), pstate = CPSR, v[n/2][n%2] = Dn,
// fpsr = FPSCR, tls = TPIDRURO.
typedef struct xemu_regs {
  uint64_t x[31];
  uint64_t sp, pc, pstate;
  uint64_t v[32][2];
  uint64_t fpsr, fpcr, tls;
} xemu_regs;

uc_err xemu_save_regs(xemu_engine *x, xemu_regs *r);
uc_err xemu_restore_regs(xemu_engine *x, const xemu_regs *r);
uc_err xemu_read_cp_reg(xemu_engine *x, int op0, int op1, int crn, int crm,
                        int op2, uint64_t *v);
// Reads an ARM (32-bit) coprocessor register: the ID registers that say what
// the CPU implements.
uc_err xemu_read_arm_cp_reg(xemu_engine *x, int cp, int opc1, int crn, int crm,
                            int opc2, uint64_t *v);

#endif
