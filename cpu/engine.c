#include "engine.h"

#include <stdlib.h>
#include <string.h>

// Exported from Go (callbacks.go).
extern void xemuGoSyscall(int id);
extern int xemuGoInterrupt(int id, uint32_t intno);
extern void xemuGoCodeAlias(int id, uint64_t va);

// The same walk as cpu/mem's pageTable.lookup: three levels of 4096 entries over a
// 48-bit guest address.
static inline uint64_t pt_lookup(const uint64_t *root, uint64_t va) {
  if (va >> 48)
    return 0;
  const uint64_t *l2 = (const uint64_t *)(uintptr_t)root[(va >> 36) & 0xfff];
  if (!l2)
    return 0;
  const uint64_t *l3 = (const uint64_t *)(uintptr_t)l2[(va >> 24) & 0xfff];
  if (!l3)
    return 0;
  return l3[(va >> 12) & 0xfff];
}

static int access_of(uc_mem_type type) {
  switch (type) {
  case UC_MEM_WRITE:
  case UC_MEM_WRITE_UNMAPPED:
  case UC_MEM_WRITE_PROT:
    return XACC_WRITE;
  case UC_MEM_FETCH:
  case UC_MEM_FETCH_UNMAPPED:
  case UC_MEM_FETCH_PROT:
    return XACC_EXEC;
  default:
    return XACC_READ;
  }
}

// Unicorn restores the state of the instruction that missed before it calls the
// fill hook (unicorn_vtlb.c), ARM's IT-block state included, and the block then
// goes on. QEMU keeps condexec_bits at zero while a block runs (written only
// when a block ends inside an IT block), so a value restored here would become
// the IT state of the next block: an instruction after the IT block would run
// conditionally, or be refused (a conditional branch). Clear it again, after a
// data access only (see tlb_fill).
static void clear_restored_it_state(uc_engine *uc) {
  const uint32_t it_bits = 0x0600fc00; // CPSR IT[1:0] 26:25, IT[7:2] 15:10
  uint32_t cpsr;
  if (uc_reg_read(uc, UC_ARM_REG_CPSR, &cpsr) == UC_ERR_OK && (cpsr & it_bits)) {
    cpsr &= ~it_bits;
    uc_reg_write(uc, UC_ARM_REG_CPSR, &cpsr);
  }
}

// Answers Unicorn's TLB misses from xemu's page table. Data pages are answered
// without EXEC so that stores to them take QEMU's fast path; a page the guest may
// not touch the way it tries is sent to a trap slot.
static bool tlb_fill(uc_engine *uc, uint64_t va, uc_mem_type type,
                     uc_tlb_entry *e, void *user) {
  xemu_engine *x = user;
  x->tlb_fills++;
  // QEMU grows its TLB only when it is flushed while mostly full, and
  // Unicorn never flushes on its own. Flushing here, after a doubling number
  // of misses, lets it double each time while misses keep coming. (QEMU
  // recomputes the entry it fills after this callback returns, so a flush
  // here is safe; stopping emulation from another thread to flush is not:
  // 2.1.4 then re-executes the last load or store.)
  if (x->grow_left > 0 && x->tlb_fills - x->fills_at_flush >= x->grow_every) {
    x->grow_left--;
    x->grow_every *= 2;
    x->fills_at_flush = x->tlb_fills;
    x->grow_flushes++;
    uc_ctl_flush_tlb(uc);
  }
  // Only for loads and stores, which miss inside a block. An instruction
  // fetch misses between blocks (translation, or the lookup of the next
  // block): nothing was restored, and the IT state in env is the real one,
  // which the block about to be looked up or translated must start with.
  if (x->arch == 1 && access_of(type) != XACC_EXEC)
    clear_restored_it_state(uc);
  uint64_t pte = pt_lookup(x->pt_root, va);
  int need = x->fill_any ? 0 : access_of(type);
  if ((pte & XPTE_PRESENT) && (pte & need) == (uint64_t)need) {
    e->paddr = pte & XPTE_PHYS_MASK;
    e->perms = (uc_prot)(pte & XPTE_PROT_MASK);
    if (x->fill_any) {
      // This entry grants more than the guest may do; flushed after use.
      e->perms = UC_PROT_ALL;
      x->fill_any = 2;
    }
    return true;
  }
  if (need == XACC_WRITE && xemu_exact_store[x->arch]) {
    // Refused: Unicorn stops at the store itself, with exact PC and registers
    // in every mode (IT blocks included), and nothing written. A trap slot
    // would not do for writes: once the per-access exit check is gone the
    // instructions after the store run before the fault is seen, and an
    // atomic on a trap slot livelocks in parallel mode (EXCP_ATOMIC, no
    // cpu_exec_step_atomic in Unicorn).
    x->wfault = 1;
    x->wfault_page = va & ~0xfffULL;
    x->wfault_mapped = (pte & XPTE_PRESENT) != 0;
    return false;
  }
  unsigned slot = x->trap_next++ % XTRAP_SLOTS;
  x->trap_page[slot] = va & ~0xfffULL;
  e->paddr = x->trap_base + (uint64_t)slot * 4096;
  // Only the access that missed: a write to a page read through a trap slot
  // must miss again and be refused, never reach the trap (see above).
  e->perms = need == XACC_EXEC    ? UC_PROT_EXEC
             : need == XACC_WRITE ? UC_PROT_WRITE
             : need == XACC_READ  ? UC_PROT_READ
                                  : UC_PROT_ALL;
  return true;
}

// Bound only to the trap slots, never to guest memory (a memory hook over guest
// memory would put every store back on the slow path).
static bool trap_hook(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
                      int64_t value, void *user) {
  xemu_engine *x = user;
  (void)uc;
  (void)size;
  (void)value;
  uint64_t off = addr - x->trap_base;
  unsigned slot = (unsigned)(off / 4096) % XTRAP_SLOTS;
  x->fault_addr = x->trap_page[slot] | (off & 0xfff);
  x->fault_access = access_of(type);
  x->fault_mapped = (pt_lookup(x->pt_root, x->fault_addr) & XPTE_PRESENT) != 0;
  x->stop = XSTOP_FAULT;
  return false;
}

// Around a call into Go from a hook: a host SIGBUS while Go runs is Go's
// (busfault.c), and what an exception left noted is forgotten (the helper or
// translation it interrupted is over).
static inline void go_call_begin(void) {
  xemu_guest_reset();
  xemu_guest.in_guest = 0;
}
static inline void go_call_end(void) { xemu_guest.in_guest = 1; }

static void intr_hook(uc_engine *uc, uint32_t intno, void *user) {
  xemu_engine *x = user;
  if (intno == 2) {
    x->syscalls++;
    // One batch read of the number and the arguments the last call with
    // this number needed (a guess that is right for loops of one call); a
    // call that needs more reads the rest.
    x->sc_nr = 0;
    void *ptrs[8] = {&x->sc_nr};
    for (int i = 0; i < 7; i++) {
      x->sc_args[i] = 0; // 32-bit registers fill only the low half
      ptrs[i + 1] = &x->sc_args[i];
    }
    int guess = x->sc_guess;
    uc_reg_read_batch(uc, x->sc_batch_regs, ptrs, guess + 1);
    if (x->arch == 1)
      x->sc_nr &= 0xffffffffULL;
    int n = x->sc_nr < XSC_TABLE ? x->sc_nargs_by_nr[x->sc_nr] : x->sc_nargs;
    if (n > guess)
      uc_reg_read_batch(uc, x->sc_arg_regs + guess, ptrs + 1 + guess, n - guess);
    for (int i = n; i < guess; i++)
      x->sc_args[i] = 0;
    x->sc_guess = n;
    x->sc_keep_regs = 0;
    go_call_begin();
    xemuGoSyscall(x->id);
    go_call_end();
    if (!x->sc_keep_regs)
      uc_reg_write(uc, x->sc_ret_reg, &x->sc_ret);
    // An Interrupt sent while the handler ran is reported right after it
    // (xemu_run takes the flag), with the PC past the svc.
    if (x->stop != XSTOP_NONE ||
        __atomic_load_n(&x->interrupt_pending, __ATOMIC_SEQ_CST))
      uc_emu_stop(uc);
    return;
  }
  x->intno = intno;
  go_call_begin();
  int stop = xemuGoInterrupt(x->id, intno);
  go_call_end();
  if (stop) {
    if (x->stop == XSTOP_NONE)
      x->stop = XSTOP_INTERRUPT;
    uc_emu_stop(uc);
  } else if (__atomic_load_n(&x->interrupt_pending, __ATOMIC_SEQ_CST)) {
    uc_emu_stop(uc);
  }
}

// AArch64 SYS instructions: IC IVAU (op1 3, CRn 7, CRm 5, op2 1) names a line of
// code the guest has rewritten. Stores through the same address are seen by QEMU
// already; stores through another mapping of the same memory are not, so shared
// pages go to Go, which knows their aliases.
static uint32_t sys_hook(uc_engine *uc, uc_arm64_reg reg,
                         const uc_arm64_cp_reg *cp, void *user) {
  xemu_engine *x = user;
  (void)reg;
  if (cp->crn == 7 && cp->crm == 5 && cp->op1 == 3 && cp->op2 == 1) {
    uint64_t va = cp->val & ~63ULL;
    uint64_t pte = pt_lookup(x->pt_root, va);
    if ((pte & XPTE_SHARED) || ((pte & XPTE_PRESENT) && x->ivau_to_go)) {
      go_call_begin();
      xemuGoCodeAlias(x->id, va);
      go_call_end();
    }
    else if (pte & XPTE_PRESENT)
      xemu_invalidate_code(x, va, va + 64);
  }
  return 0; // let the instruction run as usual (DC ZVA must still zero)
}

// AArch64 SCTLR_EL1 bits that decide what EL0 may do (arch/arm64/include/asm/
// sysreg.h). Linux sets UCI, UCT, DZE, nTWE, SA0 and SED for user space
// (INIT_SCTLR_EL1_MMU_ON) and leaves UMA (DAIF at EL0), nTWI (WFI traps, and
// is skipped by the kernel), E0E/EE (little-endian) and the pointer
// authentication, BTI and MTE enables clear: xemu advertises none of those.
#define SCTLR_SA0 (1ULL << 4)
#define SCTLR_SED (1ULL << 8)
#define SCTLR_UMA (1ULL << 9)
#define SCTLR_ENDB (1ULL << 13)
#define SCTLR_DZE (1ULL << 14)
#define SCTLR_UCT (1ULL << 15)
#define SCTLR_NTWI (1ULL << 16)
#define SCTLR_NTWE (1ULL << 18)
#define SCTLR_E0E (1ULL << 24)
#define SCTLR_EE (1ULL << 25)
#define SCTLR_UCI (1ULL << 26)
#define SCTLR_ENDA (1ULL << 27)
#define SCTLR_ENIB (1ULL << 30)
#define SCTLR_ENIA (1ULL << 31)
#define SCTLR_BT0 (1ULL << 35)
#define SCTLR_TCF0 (3ULL << 38)
#define SCTLR_ATA0 (1ULL << 42)
#define SCTLR_USER_SET                                                         \
  (SCTLR_SA0 | SCTLR_SED | SCTLR_DZE | SCTLR_UCT | SCTLR_NTWE | SCTLR_UCI)
#define SCTLR_USER_CLEAR                                                       \
  (SCTLR_UMA | SCTLR_NTWI | SCTLR_E0E | SCTLR_EE | SCTLR_ENIA | SCTLR_ENIB |   \
   SCTLR_ENDA | SCTLR_ENDB | SCTLR_BT0 | SCTLR_TCF0 | SCTLR_ATA0)

static uc_err a64_sysreg(uc_engine *uc, int op0, int op1, int crn, int crm,
                         int op2, uint64_t set, uint64_t clear) {
  uc_arm64_cp_reg r = {.crn = crn, .crm = crm, .op0 = op0, .op1 = op1,
                       .op2 = op2};
  uc_err err = uc_reg_read(uc, UC_ARM64_REG_CP_REG, &r);
  if (err)
    return err;
  r.val = (r.val & ~clear) | set;
  // Unicorn rebuilds the cached translation flags after a CP_REG write.
  return uc_reg_write(uc, UC_ARM64_REG_CP_REG, &r);
}

// Puts the engine where Linux runs user code: AArch64 EL0 (EL0t) or ARM USR
// mode. Privileged instructions then raise an exception instead of running;
// it reaches xemu's interrupt hook (Unicorn never vectors through VBAR).
static uc_err enter_user_mode(xemu_engine *x) {
  uc_err err;
  if (x->arch == 0) {
    // PSTATE: EL0t, DAIF clear. pstate_write does not rebuild the cached
    // flags; the CP_REG writes after it do.
    uint32_t pstate = 0;
    if ((err = uc_reg_write(x->uc, UC_ARM64_REG_PSTATE, &pstate)))
      return err;
    // CPACR_EL1.FPEN = 0b11: FP/SIMD without trapping at EL0 and EL1.
    if ((err = a64_sysreg(x->uc, 3, 0, 1, 0, 2, 3ULL << 20, 0)))
      return err;
    // CNTKCTL_EL1.EL0VCTEN: CNTVCT_EL0 and CNTFRQ_EL0 readable at EL0, as
    // arch_timer's arch_counter_set_user_access leaves them.
    if ((err = a64_sysreg(x->uc, 3, 0, 14, 1, 0, 1ULL << 1, 0x3fdULL)))
      return err;
    return a64_sysreg(x->uc, 3, 0, 1, 0, 0, SCTLR_USER_SET, SCTLR_USER_CLEAR);
  }
  // CPACR cp10 and cp11 full access: VFP and NEON at PL0 (FPEXC.EN is set
  // by the caller).
  uint32_t cpacr = 0;
  if ((err = uc_reg_read(x->uc, UC_ARM_REG_C1_C0_2, &cpacr)))
    return err;
  cpacr |= 0xfu << 20;
  if ((err = uc_reg_write(x->uc, UC_ARM_REG_C1_C0_2, &cpacr)))
    return err;
  // CNTKCTL.PL0VCTEN (cp15 c14 c1 0): the virtual counter at PL0.
  uc_arm_cp_reg k = {.cp = 15, .crn = 14, .crm = 1, .opc1 = 0, .opc2 = 0};
  if (uc_reg_read(x->uc, UC_ARM_REG_CP_REG, &k) == UC_ERR_OK) {
    k.val = (k.val & ~0x3fdULL) | (1ULL << 1);
    uc_reg_write(x->uc, UC_ARM_REG_CP_REG, &k);
  }
  // CPSR: USR mode (0x10), interrupts unmasked, ARM state. Unicorn's CPSR
  // write switches register banks and rebuilds the cached flags.
  uint32_t cpsr = 0x10;
  return uc_reg_write(x->uc, UC_ARM_REG_CPSR, &cpsr);
}

xemu_engine *xemu_open(int arch, int cpu_model, int id, uintptr_t pt_root,
                       uint64_t trap_base, uintptr_t arena, uint64_t arena_size,
                       uint32_t code_buffer, uc_err *err) {
  xemu_engine *x = xemu_open_unbound(arch, cpu_model, trap_base, code_buffer, err);
  if (!x)
    return NULL;
  if ((*err = xemu_bind(x, id, pt_root, arena, arena_size))) {
    xemu_close(x);
    return NULL;
  }
  return x;
}

uc_err xemu_bind(xemu_engine *x, int id, uintptr_t pt_root, uintptr_t arena,
                 uint64_t arena_size) {
  x->id = id;
  x->pt_root = (uint64_t *)pt_root;
  x->arena = arena;
  x->arena_size = arena_size;
  return uc_mem_map_ptr(x->uc, 0, arena_size, UC_PROT_ALL, (void *)arena);
}

xemu_engine *xemu_open_unbound(int arch, int cpu_model, uint64_t trap_base,
                               uint32_t code_buffer, uc_err *err) {
  xemu_engine *x = calloc(1, sizeof *x);
  if (!x) {
    *err = UC_ERR_NOMEM;
    return NULL;
  }
  x->arch = arch;
  x->cpu_model = cpu_model;
  x->code_buffer = code_buffer;
  x->grow_every = 512;
  x->grow_left = 16;
  x->trap_base = trap_base;
  uc_arch a = arch == 0 ? UC_ARCH_ARM64 : UC_ARCH_ARM;
  *err = uc_open(a, UC_MODE_ARM, &x->uc);
  if (*err)
    goto fail;
  // ARM's default target page is 1 KiB: the TLB would cover a quarter of the
  // memory and never grow usefully. 2.1.4 takes 4096 as meant on both.
  if ((*err = uc_ctl_set_page_size(x->uc, 4096)))
    goto fail;
  if ((*err = uc_ctl_set_cpu_model(x->uc, cpu_model)))
    goto fail;
  // Before the engine's first use, which allocates the buffer.
  if (code_buffer &&
      (*err = uc_ctl_set_tcg_buffer_size(x->uc, code_buffer)))
    goto fail;
  if ((*err = uc_ctl_tlb_mode(x->uc, UC_TLB_VIRTUAL)))
    goto fail;
  if ((*err = uc_hook_add(x->uc, &x->hooks[0], UC_HOOK_TLB_FILL, tlb_fill, x, 1,
                          0)))
    goto fail;
  if ((*err = uc_hook_add(x->uc, &x->hooks[1], UC_HOOK_MEM_INVALID, trap_hook,
                          x, trap_base,
                          trap_base + (uint64_t)XTRAP_SLOTS * 4096 - 1)))
    goto fail;
  if ((*err = uc_hook_add(x->uc, &x->hooks[2], UC_HOOK_INTR, intr_hook, x, 1,
                          0)))
    goto fail;
  if (arch == 0) {
    if ((*err = uc_hook_add(x->uc, &x->hooks[3], UC_HOOK_INSN, sys_hook, x, 1,
                            0, UC_ARM64_INS_SYS)))
      goto fail;
    xemu_set_dczva(x);
    x->sc_nr_reg = UC_ARM64_REG_X8;
    x->sc_ret_reg = UC_ARM64_REG_X0;
    x->sc_nargs = 6;
    memset(x->sc_nargs_by_nr, 6, XSC_TABLE);
    x->sc_batch_regs[0] = UC_ARM64_REG_X8;
    for (int i = 0; i < 6; i++)
      x->sc_arg_regs[i] = x->sc_batch_regs[i + 1] = UC_ARM64_REG_X0 + i;
  } else {
    // VFP and NEON instructions are undefined until FPEXC.EN is set.
    uint32_t fpexc = 0x40000000;
    if ((*err = uc_reg_write(x->uc, UC_ARM_REG_FPEXC, &fpexc)))
      goto fail;
    x->sc_nr_reg = UC_ARM_REG_R7;
    x->sc_ret_reg = UC_ARM_REG_R0;
    x->sc_nargs = 7;
    memset(x->sc_nargs_by_nr, 7, XSC_TABLE);
    x->sc_batch_regs[0] = UC_ARM_REG_R7;
    for (int i = 0; i < 7; i++)
      x->sc_arg_regs[i] = x->sc_batch_regs[i + 1] = UC_ARM_REG_R0 + i;
  }
  if ((*err = enter_user_mode(x)))
    goto fail;
  return x;
fail:
  if (x->uc)
    uc_close(x->uc);
  free(x);
  return NULL;
}

void xemu_close(xemu_engine *x) {
  if (!x)
    return;
  uc_close(x->uc);
  free(x);
}

__thread xemu_engine *xemu_current;
int xemu_exact_store[2] = {1, 1};

// The address to restart at after a stop: on ARM the Thumb bit comes back from
// CPSR (only bit 0 of the start address selects Thumb).
static uint64_t resume_pc(xemu_engine *x) {
  uint64_t pc = 0;
  if (x->arch == 0) {
    uc_reg_read(x->uc, UC_ARM64_REG_PC, &pc);
    return pc;
  }
  uint32_t pc32 = 0, cpsr = 0;
  uc_reg_read(x->uc, UC_ARM_REG_PC, &pc32);
  uc_reg_read(x->uc, UC_ARM_REG_CPSR, &cpsr);
  return (pc32 & ~1u) | ((cpsr >> 5) & 1);
}

int xemu_range_writable(xemu_engine *x, uint64_t start, uint64_t length) {
  for (uint64_t va = start & ~0xfffULL; va < start + length; va += 4096)
    if (pt_lookup(x->pt_root, va) & UC_PROT_WRITE)
      return 1;
  return 0;
}

int xemu_take_interrupt(xemu_engine *x) {
  return __atomic_exchange_n(&x->interrupt_pending, 0, __ATOMIC_SEQ_CST);
}

uc_err xemu_run(xemu_engine *x, uint64_t pc) {
  x->stop = XSTOP_NONE;
  x->wfault = 0;
  x->fault_bus = 0;
  if (xemu_take_interrupt(x)) {
    // Pending from before this run: report it having executed nothing.
    x->stop = XSTOP_INTERRUPTED;
    return x->arch == 0 ? uc_reg_write(x->uc, UC_ARM64_REG_PC, &pc)
                        : uc_reg_write(x->uc, UC_ARM_REG_PC, &pc);
  }
  // An address no instruction can sit at, so emulation ends only when asked.
  uint64_t until = x->arch == 0 ? ~0ULL : 0xffffffffULL;
  for (;;) {
    xemu_current = x;
    xemu_guest_reset();
    xemu_guest.in_guest = 1;
    __atomic_store_n(&x->running, 1, __ATOMIC_SEQ_CST);
    uc_err err = uc_emu_start(x->uc, pc, until, 0, 0);
    __atomic_store_n(&x->running, 0, __ATOMIC_SEQ_CST);
    xemu_guest.in_guest = 0;
    xemu_guest_reset();
    xemu_current = NULL;
    if (err == UC_ERR_EXCEPTION && x->wfault) {
      // A refused write: Unicorn kept the exact address (tcgwrap.c).
      uint64_t a = xemu_invalid_addr(x->uc);
      if ((a & ~0xfffULL) != x->wfault_page)
        a = x->wfault_page;
      x->stop = XSTOP_FAULT;
      x->fault_addr = a;
      x->fault_access = XACC_WRITE;
      x->fault_mapped = x->wfault_mapped;
      return UC_ERR_OK;
    }
    if (x->stop != XSTOP_NONE || err != UC_ERR_OK)
      return err;
    if (xemu_take_interrupt(x)) {
      x->stop = XSTOP_INTERRUPTED;
      return UC_ERR_OK;
    }
    // Nothing explains the return: it was a stop another thread sent for an
    // interrupt that was then cleared (ClearInterrupt). Nobody wants it, so
    // carry on from where it landed. The stop can land in a later
    // uc_emu_start than the one it was sent to (xemu_interrupt counts it,
    // then this thread starts again, then the stop arrives), so counting
    // stops cannot tell stale ones from others; and there are no others.
    pc = resume_pc(x);
  }
}

void xemu_interrupt(xemu_engine *x) {
  __atomic_store_n(&x->interrupt_pending, 1, __ATOMIC_SEQ_CST);
  // uc_emu_stop from another thread is safe only without the per-access exit
  // check (then the stop lands at a block start); with it, the engine is told
  // at its next system call or run instead.
  if (!xemu_wrap_no_access_check[x->arch])
    return;
  if (__atomic_load_n(&x->running, __ATOMIC_SEQ_CST)) {
    uc_emu_stop(x->uc);
  }
}

static void watch_hook(uc_engine *uc, uc_mem_type type, uint64_t addr,
                       int size, int64_t value, void *user) {
  (void)uc, (void)type, (void)addr, (void)size, (void)value;
  (*(uint64_t *)user)++;
}

uc_err xemu_watch_writes(xemu_engine *x, uint64_t begin, uint64_t end,
                         uint64_t *calls) {
  // Unicorn bounds memory hooks by the physical (arena) address.
  uint64_t phys = (pt_lookup(x->pt_root, begin) & XPTE_PHYS_MASK) | (begin & 0xfff);
  uc_err err = uc_hook_add(x->uc, &x->hooks[4], UC_HOOK_MEM_WRITE, watch_hook,
                           calls, phys, phys + (end - begin));
  // Entries filled before the hook skip it: refill them.
  return err ? err : uc_ctl_flush_tlb(x->uc);
}

uc_err xemu_unwatch_writes(xemu_engine *x) {
  if (!x->hooks[4])
    return UC_ERR_OK;
  uc_err err = uc_hook_del(x->uc, x->hooks[4]);
  x->hooks[4] = 0;
  // Entries filled under the hook would call it: refill them.
  return err ? err : uc_ctl_flush_tlb(x->uc);
}

uc_err xemu_reg_read(xemu_engine *x, int reg, uint64_t *v) {
  *v = 0;
  return uc_reg_read(x->uc, reg, v);
}

uc_err xemu_reg_write(xemu_engine *x, int reg, uint64_t v) {
  return uc_reg_write(x->uc, reg, &v);
}

uc_err xemu_reg_read_bytes(xemu_engine *x, int reg, void *buf) {
  return uc_reg_read(x->uc, reg, buf);
}

uc_err xemu_reg_write_bytes(xemu_engine *x, int reg, const void *buf) {
  return uc_reg_write(x->uc, reg, buf);
}

uc_err xemu_flush_tlb(xemu_engine *x) { return uc_ctl_flush_tlb(x->uc); }

// Drops translated code for guest [start, end). Unicorn translates only the
// first address of a range and takes the rest as physically contiguous, so the
// range goes in runs of contiguous arena pages; fill_any lets it translate pages
// that are mapped but not (or no longer) executable.
uc_err xemu_invalidate_code(xemu_engine *x, uint64_t start, uint64_t end) {
  uc_err err = UC_ERR_OK;
  x->fill_any = 1;
  uint64_t va = start;
  while (va < end) {
    uint64_t pte = pt_lookup(x->pt_root, va);
    uint64_t next = (va & ~0xfffULL) + 4096;
    if (!(pte & XPTE_PRESENT)) {
      va = next;
      continue;
    }
    uint64_t run_end = next, phys = pte & XPTE_PHYS_MASK;
    while (run_end < end) {
      uint64_t p2 = pt_lookup(x->pt_root, run_end);
      if (!(p2 & XPTE_PRESENT) || (p2 & XPTE_PHYS_MASK) != phys + (run_end - (va & ~0xfffULL)))
        break;
      run_end += 4096;
    }
    if (run_end > end)
      run_end = end;
    // Unicorn's remove_cache masks the arena offset with the target's
    // target_ulong: on ARM (32 bits) a run at or past 4 GiB of the arena is
    // truncated or taken as a wrap, and the code stays. Drop all translated
    // code instead; the arena only gets that far when it is badly fragmented.
    if (x->arch == 1 && phys + (run_end - (va & ~0xfffULL)) >= (1ULL << 32)) {
      err = uc_ctl_flush_tb(x->uc);
      break;
    }
    err = uc_ctl_remove_cache(x->uc, va, run_end);
    if (err)
      break;
    va = run_end;
  }
  int widened = x->fill_any == 2;
  x->fill_any = 0;
  if (widened)
    uc_ctl_flush_tlb(x->uc);
  return err;
}

uc_err xemu_flush_code(xemu_engine *x) { return uc_ctl_flush_tb(x->uc); }

void xemu_request_stop(xemu_engine *x) {
  if (x->stop == XSTOP_NONE)
    x->stop = XSTOP_REQUESTED;
  uc_emu_stop(x->uc);
}



uc_err xemu_read_cp_reg(xemu_engine *x, int op0, int op1, int crn, int crm,
                        int op2, uint64_t *v) {
  uc_arm64_cp_reg r = {.crn = crn, .crm = crm, .op0 = op0, .op1 = op1,
                       .op2 = op2};
  uc_err err = uc_reg_read(x->uc, UC_ARM64_REG_CP_REG, &r);
  *v = r.val;
  return err;
}

uc_err xemu_read_arm_cp_reg(xemu_engine *x, int cp, int opc1, int crn, int crm,
                            int opc2, uint64_t *v) {
  uc_arm_cp_reg r = {.cp = cp, .crn = crn, .crm = crm, .opc1 = opc1,
                     .opc2 = opc2};
  uc_err err = uc_reg_read(x->uc, UC_ARM_REG_CP_REG, &r);
  *v = r.val;
  return err;
}

// Register batches in xemu_regs order: one uc_reg_read_batch each way.
static int regs_list(xemu_engine *x, const xemu_regs *r, int *regs,
                     void **ptrs) {
  int n = 0;
  xemu_regs *w = (xemu_regs *)r;
  if (x->arch == 0) {
    for (int i = 0; i < 29; i++) {
      regs[n] = UC_ARM64_REG_X0 + i;
      ptrs[n++] = &w->x[i];
    }
    regs[n] = UC_ARM64_REG_X29, ptrs[n++] = &w->x[29];
    regs[n] = UC_ARM64_REG_X30, ptrs[n++] = &w->x[30];
    regs[n] = UC_ARM64_REG_SP, ptrs[n++] = &w->sp;
    regs[n] = UC_ARM64_REG_PC, ptrs[n++] = &w->pc;
    regs[n] = UC_ARM64_REG_NZCV, ptrs[n++] = &w->pstate;
    for (int i = 0; i < 32; i++) {
      regs[n] = UC_ARM64_REG_Q0 + i;
      ptrs[n++] = &w->v[i][0];
    }
    regs[n] = UC_ARM64_REG_FPSR, ptrs[n++] = &w->fpsr;
    regs[n] = UC_ARM64_REG_FPCR, ptrs[n++] = &w->fpcr;
    regs[n] = UC_ARM64_REG_TPIDR_EL0, ptrs[n++] = &w->tls;
  } else {
    for (int i = 0; i < 13; i++) {
      regs[n] = UC_ARM_REG_R0 + i;
      ptrs[n++] = &w->x[i];
    }
    regs[n] = UC_ARM_REG_LR, ptrs[n++] = &w->x[14];
    regs[n] = UC_ARM_REG_SP, ptrs[n++] = &w->sp;
    regs[n] = UC_ARM_REG_CPSR, ptrs[n++] = &w->pstate;
    for (int i = 0; i < 32; i++) {
      regs[n] = UC_ARM_REG_D0 + i;
      ptrs[n++] = &w->v[i / 2][i % 2];
    }
    regs[n] = UC_ARM_REG_FPSCR, ptrs[n++] = &w->fpsr;
    regs[n] = UC_ARM_REG_C13_C0_3, ptrs[n++] = &w->tls;
    // PC last: on restore, CPSR (with its T bit) must be in place first.
    regs[n] = UC_ARM_REG_PC, ptrs[n++] = &w->pc;
  }
  return n;
}

uc_err xemu_save_regs(xemu_engine *x, xemu_regs *r) {
  int regs[80];
  void *ptrs[80];
  memset(r, 0, sizeof *r);
  int n = regs_list(x, r, regs, ptrs);
  uc_err err = uc_reg_read_batch(x->uc, regs, ptrs, n);
  if (x->arch == 1) {
    for (int i = 0; i < 13; i++)
      r->x[i] &= 0xffffffffULL;
    r->x[14] &= 0xffffffffULL;
    r->sp &= 0xffffffffULL;
    r->pc &= 0xfffffffeULL;
    r->pstate &= 0xffffffffULL;
    r->fpsr &= 0xffffffffULL;
    r->tls &= 0xffffffffULL;
  } else {
    r->fpsr &= 0xffffffffULL;
    r->fpcr &= 0xffffffffULL;
    r->pstate &= 0xf0000000ULL;
  }
  return err;
}

uc_err xemu_restore_regs(xemu_engine *x, const xemu_regs *r) {
  int regs[80];
  void *ptrs[80];
  xemu_regs c = *r;
  if (x->arch == 1 && (c.pstate & (1u << 5)))
    c.pc |= 1; // Unicorn takes Thumb state from bit 0 of the PC
  int n = regs_list(x, &c, regs, ptrs);
  return uc_reg_write_batch(x->uc, regs, ptrs, n);
}
