// Link-time wrappers around private functions of Debian's prebuilt Unicorn 2.1.4
// (libunicorn-dev 2.1.4-4, the archive whose sha256 .ci/unicorn pins). `ld
// --wrap=SYM` sends every call to SYM made from another object of the archive to
// __wrap_SYM here; the original stays reachable as __real_SYM. Each wrapper has a
// switch (xemu_wrap_*); off, it only calls __real_SYM (stock behaviour), and the
// start-up self-test (selftest.go) turns off any that does not prove itself.
//
// What they do:
//  1. tcg_gen_callN_{aarch64,arm}: drop the call to helper_check_exit_request
//     that check_exit_request() (qemu/tcg/tcg-op.c:2853-2873) emits after every
//     guest load and store (and after UC_HOOK_CODE callbacks). The helper has no
//     TCG flags (tcg-runtime.h:263), so TCG spills and reloads every guest
//     register around it: about 10 host instructions per guest access. It is also
//     what makes a cross-thread uc_emu_stop unsafe: it leaves right after a load
//     or store but restores the PC to that instruction, which then runs twice.
//     (The same function emits the check after UC_HOOK_CODE callbacks, and the
//     return address cannot tell those apart: with this wrapper on, a code
//     hook that stops emulation takes effect at the next block start. xemu
//     installs no code hooks.)
//  2. The same wrapper, for the call gen_tb_start() (gen-icount.h:33-46, inlined
//     into translator_loop_*) emits at every block start: emit QEMU's own
//     block-start check instead (ld_i32 of icount_decr.u32 from env, brcond LT 0
//     to a label), and tcg_gen_exit_tb_* places that label just before the
//     exit_tb(tb, TB_EXIT_REQUESTED) that gen_tb_end() emits. cpu_exit() (which
//     uc_emu_stop calls) sets icount_decr.u16.high = -1, so a stop takes effect
//     at the next block start, chained loops included; nothing of the block has
//     run, and cpu_tb_exec restores the PC from the block (cpu-exec.c:71-99).
//  3. gen_intermediate_code_{aarch64,arm}: translate with CF_PARALLEL set in
//     tb->cflags and tcg_ctx->tb_cflags, then clear both again (the block's hash,
//     taken after translation, must match lookups made with cflags 0). The
//     translators then emit host atomics for exclusives, LSE, CAS and fences for
//     barriers. Unicorn's curr_cflags() is the constant 0 (exec-all.h:378).
//  4. tlb_reset_dirty_by_vaddr_{aarch64,arm}: tb_gen_code calls it for every
//     new block (translate-all.c:1841-1845) to re-arm self-modifying-code
//     detection on write entries of the block's pages; it scans all 12 MMU
//     modes' TLBs and victim TLBs (cputlb.c:721-743), microseconds per call.
//     With xemu's fill callback a write entry exists only for a page that is
//     writable in xemu's page table (fill_any entries are flushed right after
//     use, and every mprotect flushes), so when no page of the range is
//     writable there is nothing to re-arm and the call is skipped.
//  5. cpu_exec_{aarch64,arm} (called from cpus.c per round of the run loop):
//     honour an Interrupt that arrived while uc_emu_start was resetting its stop
//     flags (engine.c), by stopping on the engine's own thread before any code
//     runs.
//  (busfault.c wraps the memory helpers, and gen_intermediate_code here notes
//  that a block is being translated, so that a host SIGBUS on guest memory
//  becomes the guest's fault at its instruction.)
//
// Private facts relied on, all of this build (x86-64 host), read in the 2.1.4
// source (tag v2.1.4, commit 8028ec43) and confirmed in `objdump -dr` of the
// archive:
//  - helper_check_exit_request_* is passed to tcg_gen_callN_* in exactly three
//    places per target: check_exit_request_* (tcg-op.c.o; return address
//    check_exit_request_*+0xbb) and twice in translator_loop_* (gen_tb_start,
//    the normal and the "until address" path). The wrapper tells them apart by
//    its return address: inside check_exit_request_* (0xf0 bytes both targets,
//    `nm -S`) or inside translator_loop_* (0x826 aarch64, 0x815 arm).
//  - tcg_gen_exit_tb_* is called with TB_EXIT_REQUESTED (3) once, from
//    gen_tb_end inlined in translator_loop_* (translator.c.o).
//  - TCG opcode numbers (tcg-opc.h): INDEX_op_set_label 1, INDEX_op_ld_i32 13
//    (the `mov $0xd,%esi` before tcg_gen_op3 calls that load from cpu_env);
//    TCG_COND_LT 2, TCG_TYPE_I32 0, TB_EXIT_REQUESTED 3, CF_PARALLEL 0x80000.
//  - The signatures of tcg_gen_callN, tcg_gen_exit_tb, tcg_temp_new_internal,
//    tcg_temp_free_internal, gen_new_label, tcg_gen_op1, tcg_gen_op3,
//    tcg_gen_brcondi_i32 (tcg.h, tcg-op.h), gen_intermediate_code,
//    tlb_reset_dirty_by_vaddr (target_ulong: 64 bits aarch64, 32 arm) and
//    cpu_exec (exec-all.h), all exported with the target suffix.
//  - A TCGv is the offset of its TCGTemp from the TCGContext; TCGArg of a temp is
//    the TCGTemp pointer; TCGTemp.name at +0x20 (so cpu_env's name, "env",
//    checks the offset below); TCGLabel.present is bit 0 of its first word.
//  - TCGContext: tb_cflags +0x64 (tb_gen_code: `mov %eax,0x64(%rbp)` before
//    gen_intermediate_code), cpu +0xe0, cpu_env +0xa8f0 aarch64 / +0x90f0 arm
//    (the TCGv loaded as base of every ld from env).
//  - TranslationBlock.cflags +0x18 aarch64 / +0x10 arm (tb_gen_code).
//  - CPUState.uc +0x81a8, CPUState.icount_decr_ptr +0x130 (cpu_exit); env at
//    +0xa350 aarch64 / +0xa2f0 arm (tb_gen_code's env_cpu: `lea -0xa350`), and
//    icount_decr.u32 at +0xa340 / +0xa2e0 (helper_check_exit_request_*), so
//    icount_decr is env-0x10 on both.
//  - uc_struct: cpu +0x1b8, tcg_ctx +0x300, invalid_addr +0x588, invalid_error
//    +0x590 (unicorn_fill_tlb_*: raise_mmu_exception stores the exact faulting
//    address there before leaving).
// xemu_wrap_verify() checks what can be checked at run time on a live engine.

#include "engine.h"

#include <stddef.h>
#include <string.h>

enum {
  CPU_UC = 0x81a8,
  CPU_ICOUNT_DECR_PTR = 0x130,
  UC_CPU = 0x1b8,
  UC_TCG_CTX = 0x300,
  UC_INVALID_ADDR = 0x588,
  TCG_TB_CFLAGS = 0x64,
  TEMP_NAME = 0x20,
  ICOUNT_FROM_ENV = -0x10,
  OP_SET_LABEL = 1,
  OP_LD_I32 = 13,
  COND_LT = 2,
  TYPE_I32 = 0,
  EXIT_REQUESTED = 3,
  CF_PARALLEL = 0x00080000,
  CHECK_EXIT_REQUEST_SIZE = 0xf0,
};

struct target_facts {
  size_t tcg_cpu_env, tb_cflags, cpu_env;
  uintptr_t check_exit_request, translator_loop, helper;
  size_t translator_loop_size;
};

typedef uint64_t target_ulong_aarch64;
typedef uint32_t target_ulong_arm;

// The archive's functions, each suffixed per target.
#define TARGET_DECLS(T)                                                        \
  void check_exit_request_##T(void *s);                                        \
  void translator_loop_##T(void);                                              \
  void helper_check_exit_request_##T(void *uc, uint32_t delay);                \
  void __real_tcg_gen_callN_##T(void *s, void *func, void *ret, int nargs,     \
                                void **args);                                  \
  void __real_tcg_gen_exit_tb_##T(void *s, void *tb, unsigned idx);            \
  void __real_gen_intermediate_code_##T(void *cpu, void *tb, int max_insns);   \
  void __real_tlb_reset_dirty_by_vaddr_##T(void *cpu, target_ulong_##T start,  \
                                           target_ulong_##T length);           \
  int __real_cpu_exec_##T(void *uc, void *cpu);                                \
  static void translate_##T(void *cpu, void *tb, int max_insns);               \
  void *tcg_temp_new_internal_##T(void *s, int type, bool local);              \
  void tcg_temp_free_internal_##T(void *s, void *temp);                        \
  void *gen_new_label_##T(void *s);                                            \
  void tcg_gen_op1_##T(void *s, int opc, uintptr_t a1);                        \
  void tcg_gen_op3_##T(void *s, int opc, uintptr_t a1, uintptr_t a2,           \
                       uintptr_t a3);                                          \
  void tcg_gen_brcondi_i32_##T(void *s, int cond, uintptr_t arg1,              \
                               int32_t arg2, void *label);
TARGET_DECLS(aarch64)
TARGET_DECLS(arm)

static const struct target_facts facts[2] = {
    {0xa8f0, 0x18, 0xa350, (uintptr_t)check_exit_request_aarch64,
     (uintptr_t)translator_loop_aarch64,
     (uintptr_t)helper_check_exit_request_aarch64, 0x826},
    {0x90f0, 0x10, 0xa2f0, (uintptr_t)check_exit_request_arm,
     (uintptr_t)translator_loop_arm, (uintptr_t)helper_check_exit_request_arm,
     0x815},
};

// Switches, per target (0 = AArch64, 1 = ARM). Set before engines translate.
int xemu_wrap_no_access_check[2] = {1, 1};
int xemu_wrap_inline_block_check[2] = {1, 1};
int xemu_wrap_parallel[2] = {1, 1};
int xemu_wrap_reset_skip[2] = {1, 1};
// Counters the self-test reads (relaxed atomics: engines translate on their
// own threads).
uint64_t xemu_wrap_skipped[2], xemu_wrap_block_checks[2],
    xemu_wrap_parallel_blocks[2], xemu_wrap_mismatch[2],
    xemu_wrap_resets_skipped[2], xemu_wrap_resets[2];

static __thread struct {
  void *ctx;
  void *label;
} block_exit; // the label of the block being translated on this thread

static inline int in_range(uintptr_t ra, uintptr_t start, size_t size) {
  return ra > start && ra < start + size;
}

static inline void *ptr_at(const void *base, size_t off) {
  return *(void **)((const char *)base + off);
}

static inline void count(uint64_t *c) {
  __atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

int xemu_pc_align[2] = {1, 1};

// QEMU 5.0 has no PC alignment check (QEMU 6.2 added it): a branch to a
// misaligned address runs whatever the bytes there decode to. Linux (arm64's
// do_sp_pc_abort, for AArch64 and AArch32 tasks alike) sends SIGBUS/
// BUS_ADRALN with the misaligned PC, and the branch has been taken. Every
// new PC is the start of a block, so checking each block before it is
// translated finds them; the engine stops with the PC there, as a prefetch
// abort (EXCP_PREFETCH_ABORT).
static void check_pc_alignment(void *cpu) {
  xemu_engine *x = xemu_current;
  if (!x || ptr_at(cpu, CPU_UC) != (void *)x->uc)
    return;
  uint64_t pc = 0;
  if (x->arch == 0) {
    uc_reg_read(x->uc, UC_ARM64_REG_PC, &pc);
    if (!(pc & 3))
      return;
  } else {
    uint32_t pc32 = 0, cpsr = 0;
    uc_reg_read(x->uc, UC_ARM_REG_PC, &pc32);
    if (!(pc32 & 2))
      return;
    uc_reg_read(x->uc, UC_ARM_REG_CPSR, &cpsr);
    if (cpsr & (1u << 5)) // Thumb: halfword instructions
      return;
  }
  x->stop = XSTOP_INTERRUPT;
  x->intno = 3;
  xemu_leave_guest(x, cpu);
}

#define TARGET_WRAPPERS(T, A)                                                  \
  void __wrap_tcg_gen_callN_##T(void *s, void *func, void *ret, int nargs,     \
                                void **args) {                                 \
    const struct target_facts *f = &facts[A];                                  \
    if ((uintptr_t)func == f->helper) {                                        \
      uintptr_t ra = (uintptr_t)__builtin_return_address(0);                   \
      if (in_range(ra, f->check_exit_request, CHECK_EXIT_REQUEST_SIZE)) {      \
        if (xemu_wrap_no_access_check[A]) {                                    \
          count(&xemu_wrap_skipped[A]);                                        \
          return;                                                              \
        }                                                                      \
      } else if (in_range(ra, f->translator_loop, f->translator_loop_size) &&  \
                 xemu_wrap_inline_block_check[A]) {                            \
        char *env = (char *)s + *(intptr_t *)((char *)s + f->tcg_cpu_env);     \
        void *t = tcg_temp_new_internal_##T(s, TYPE_I32, false);               \
        tcg_gen_op3_##T(s, OP_LD_I32, (uintptr_t)t, (uintptr_t)env,            \
                        (uintptr_t)(intptr_t)ICOUNT_FROM_ENV);                 \
        void *l = gen_new_label_##T(s);                                        \
        tcg_gen_brcondi_i32_##T(s, COND_LT, (uintptr_t)((char *)t - (char *)s), \
                                0, l);                                         \
        tcg_temp_free_internal_##T(s, t);                                      \
        block_exit.ctx = s;                                                    \
        block_exit.label = l;                                                  \
        count(&xemu_wrap_block_checks[A]);                                     \
        return;                                                                \
      }                                                                        \
    }                                                                          \
    __real_tcg_gen_callN_##T(s, func, ret, nargs, args);                       \
  }                                                                            \
                                                                               \
  void __wrap_tcg_gen_exit_tb_##T(void *s, void *tb, unsigned idx) {           \
    if (idx == EXIT_REQUESTED && block_exit.label && block_exit.ctx == s) {    \
      void *l = block_exit.label;                                              \
      block_exit.label = NULL;                                                 \
      *(uint32_t *)l |= 1; /* TCGLabel.present, as gen_set_label does */       \
      tcg_gen_op1_##T(s, OP_SET_LABEL, (uintptr_t)l);                          \
    }                                                                          \
    __real_tcg_gen_exit_tb_##T(s, tb, idx);                                    \
  }                                                                            \
                                                                               \
  void __wrap_gen_intermediate_code_##T(void *cpu, void *tb, int max_insns) {  \
    if (xemu_pc_align[A])                                                      \
      check_pc_alignment(cpu);                                                 \
    /* A host fault while translating is a fetch of the guest's code. */       \
    xemu_guest.translating = 1;                                                \
    translate_##T(cpu, tb, max_insns);                                         \
    xemu_guest.translating = 0;                                                \
  }                                                                            \
                                                                               \
  static void translate_##T(void *cpu, void *tb, int max_insns) {              \
    const struct target_facts *f = &facts[A];                                  \
    block_exit.label = NULL;                                                   \
    if (!xemu_wrap_parallel[A]) {                                              \
      __real_gen_intermediate_code_##T(cpu, tb, max_insns);                    \
      return;                                                                  \
    }                                                                          \
    char *s = ptr_at(ptr_at(cpu, CPU_UC), UC_TCG_CTX);                         \
    uint32_t *tbc = (uint32_t *)((char *)tb + f->tb_cflags);                   \
    uint32_t *ctxc = (uint32_t *)(s + TCG_TB_CFLAGS);                          \
    /* tb_gen_code has just copied the same cflags into both. */              \
    if (*tbc != *ctxc || (*tbc & CF_PARALLEL)) {                               \
      count(&xemu_wrap_mismatch[A]);                                           \
      __real_gen_intermediate_code_##T(cpu, tb, max_insns);                    \
      return;                                                                  \
    }                                                                          \
    *tbc |= CF_PARALLEL;                                                       \
    *ctxc |= CF_PARALLEL;                                                      \
    __real_gen_intermediate_code_##T(cpu, tb, max_insns);                      \
    *tbc &= ~CF_PARALLEL;                                                      \
    *ctxc &= ~CF_PARALLEL;                                                     \
    count(&xemu_wrap_parallel_blocks[A]);                                      \
  }                                                                            \
                                                                               \
  void __wrap_tlb_reset_dirty_by_vaddr_##T(void *cpu, target_ulong_##T start,  \
                                           target_ulong_##T length) {          \
    xemu_engine *x = xemu_current;                                             \
    if (xemu_wrap_reset_skip[A] && x && ptr_at(cpu, CPU_UC) == (void *)x->uc && \
        !xemu_range_writable(x, start, length)) {                              \
      count(&xemu_wrap_resets_skipped[A]);                                     \
      return;                                                                  \
    }                                                                          \
    count(&xemu_wrap_resets[A]);                                               \
    __real_tlb_reset_dirty_by_vaddr_##T(cpu, start, length);                   \
  }                                                                            \
                                                                               \
  int __wrap_cpu_exec_##T(void *uc, void *cpu) {                               \
    xemu_engine *x = xemu_current;                                             \
    if (x && (void *)x->uc == uc &&                                            \
        __atomic_load_n(&x->interrupt_pending, __ATOMIC_SEQ_CST))              \
      uc_emu_stop(uc);                                                         \
    return __real_cpu_exec_##T(uc, cpu);                                       \
  }

TARGET_WRAPPERS(aarch64, 0)
TARGET_WRAPPERS(arm, 1)

// 6. helper_atomic_xchg{b,w_le,l_le,q_le}_{aarch64,arm}: Unicorn's
//    atomic_template.h (lines 113-125 in 2.1.4) implements the exchange helper
//    that TCG's parallel mode calls for SWP as a plain load and store, not a
//    host atomic, so a SWP racing with a store of another engine loses one of
//    them (glibc's lock release is a SWP when the CPU has LSE: mutexes lose
//    wakeups and spinlocks let two threads in). The wrapper exchanges with
//    the archive's own compare-and-swap helper (a host cmpxchg, after the
//    same TLB lookup and alignment check), retried until it takes.
int xemu_wrap_xchg[2] = {1, 1};
uint64_t xemu_wrap_xchg_calls[2];

#define XCHG_WRAPPER(T, A, SFX, TYPE, ADDR)                                    \
  TYPE helper_atomic_xchg##SFX##_mmu_##T(void *env, ADDR addr, TYPE val,       \
                                         uint32_t oi, uintptr_t ra);           \
  TYPE helper_atomic_cmpxchg##SFX##_mmu_##T(void *env, ADDR addr, TYPE cmpv,   \
                                            TYPE newv, uint32_t oi,            \
                                            uintptr_t ra);                     \
  TYPE __wrap_helper_atomic_xchg##SFX##_##T(void *env, ADDR addr, TYPE val,    \
                                            uint32_t oi) {                     \
    /* What GETPC gives the helper called from translated code: a fault      \
       restores the guest state of the SWP itself (busfault.c). */             \
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);                     \
    uintptr_t outer = xemu_guest.helper_ra;                                    \
    if (!outer) {                                                              \
      xemu_guest.helper_ra = ra;                                               \
      xemu_guest.helper_addr = addr;                                           \
    }                                                                          \
    TYPE old = 0;                                                              \
    if (!xemu_wrap_xchg[A]) {                                                  \
      old = helper_atomic_xchg##SFX##_mmu_##T(env, addr, val, oi, ra);         \
      xemu_guest.helper_ra = outer;                                            \
      return old;                                                              \
    }                                                                          \
    count(&xemu_wrap_xchg_calls[A]);                                           \
    for (;;) {                                                                 \
      TYPE cur =                                                               \
          helper_atomic_cmpxchg##SFX##_mmu_##T(env, addr, old, val, oi, ra);   \
      if (cur == old)                                                          \
        break;                                                                 \
      old = cur;                                                               \
    }                                                                          \
    xemu_guest.helper_ra = outer;                                              \
    return old;                                                                \
  }

XCHG_WRAPPER(aarch64, 0, b, uint32_t, uint64_t)
XCHG_WRAPPER(aarch64, 0, w_le, uint32_t, uint64_t)
XCHG_WRAPPER(aarch64, 0, l_le, uint32_t, uint64_t)
XCHG_WRAPPER(aarch64, 0, q_le, uint64_t, uint64_t)
XCHG_WRAPPER(arm, 1, b, uint32_t, uint32_t)
XCHG_WRAPPER(arm, 1, w_le, uint32_t, uint32_t)
XCHG_WRAPPER(arm, 1, l_le, uint32_t, uint32_t)
XCHG_WRAPPER(arm, 1, q_le, uint64_t, uint32_t)

// DC ZVA block size. Unicorn's AArch64 CPUs report 64 bytes (DCZID_EL0 = 4,
// cpu64.c:81) where qemu's `max` reports 512; glibc's memset then issues 8x the
// DC ZVA instructions, each through xemu's SYS hook. ARMCPU.dcz_blocksize
// (uint32_t, log2 of the size in words) is at env+0x33b0: helper_dc_zva_aarch64
// reads `0x33b0(%rdi)` with rdi = env. Written only when it holds the expected 4.
int xemu_dczva_512 = 1;

void xemu_set_dczva(xemu_engine *x) {
  if (!xemu_dczva_512 || x->arch != 0)
    return;
  char *cpu = ptr_at(x->uc, UC_CPU);
  if (!cpu || ptr_at(cpu, CPU_UC) != (void *)x->uc)
    return;
  uint32_t *dcz = (uint32_t *)(cpu + facts[0].cpu_env + 0x33b0);
  if (*dcz == 4)
    *dcz = 7; // 4 << 7 = 512 bytes
}

void *xemu_uc_cpu(uc_engine *uc) {
  char *cpu = ptr_at(uc, UC_CPU);
  return cpu && ptr_at(cpu, CPU_UC) == (void *)uc ? cpu : NULL;
}

uint64_t xemu_invalid_addr(uc_engine *uc) {
  return *(uint64_t *)((char *)uc + UC_INVALID_ADDR);
}

// Checks the offsets that a live engine can confirm: uc->cpu->uc is uc, the
// CPU's icount_decr_ptr points at env-0x10, and tcg_ctx->cpu_env is the
// global named "env". Returns NULL or what failed.
const char *xemu_wrap_verify(xemu_engine *x) {
  const struct target_facts *f = &facts[x->arch];
  char *cpu = ptr_at(x->uc, UC_CPU);
  if (!cpu || ptr_at(cpu, CPU_UC) != (void *)x->uc)
    return "uc_struct.cpu or CPUState.uc offset";
  if (ptr_at(cpu, CPU_ICOUNT_DECR_PTR) !=
      (void *)(cpu + f->cpu_env + ICOUNT_FROM_ENV))
    return "icount_decr offset";
  char *s = ptr_at(x->uc, UC_TCG_CTX);
  if (!s)
    return "uc_struct.tcg_ctx offset";
  intptr_t env = *(intptr_t *)(s + f->tcg_cpu_env);
  if (env <= 0 || env > (intptr_t)f->tcg_cpu_env)
    return "TCGContext.cpu_env offset";
  const char *name = ptr_at(s + env, TEMP_NAME);
  if (!name || strcmp(name, "env") != 0)
    return "TCGContext.cpu_env offset (temp name)";
  return NULL;
}
