// A host SIGBUS on guest memory, made the guest's fault.
//
// A guest page of a file mapping whose file was truncated after it was mapped
// is still in xemu's page table (the guest may extend the file again, and the
// page is then valid once more), so the TLB-fill callback answers it and the
// access reaches the host page, where the host kernel raises SIGBUS. Linux
// gives the guest SIGBUS/BUS_ADRERR at that instruction; here the signal
// arrives in one of four places, and each tells where the guest was:
//  - translated code (the inline TLB hit of a load or store): the host PC is
//    in the code buffer;
//  - a memory helper called from translated code (a TLB miss, a page whose
//    stores take the slow path, atomics, DC ZVA): the wrappers below note the
//    return address into translated code that the helper was given or called
//    from, as QEMU's helpers pass it on (GETPC);
//  - the translator reading the guest's instructions: __wrap_gen_intermediate_code
//    notes it; the guest registers are those of the block's start, which is the
//    instruction whose fetch faulted (a block never runs onto a page it did
//    not start on, except for the first instruction's second half).
// Then, as QEMU's linux-user does (accel/tcg/user-exec.c handle_cpu_signal):
// the guest state is rebuilt for the host PC (cpu_restore_state), the signal
// mask is set back from the ucontext, and the handler leaves through
// cpu_loop_exit, the longjmp to cpu_exec that every guest exception takes,
// with the engine told to stop (uc_emu_stop): uc_emu_start returns with
// XSTOP_FAULT and fault_bus set, and Go delivers the guest's SIGBUS. The
// guest address comes from xemu's own page table (the page whose arena
// offset faulted). Anywhere else (Go code reading guest memory for a system
// call, which turns the fault into EFAULT; a bug in xemu), the handler
// leaves the signal to the Go runtime as before.
//
// Relied on, of this build (see tcgwrap.c's list): cpu_restore_state_* and
// cpu_loop_exit_* (exported; translate-all.c, cpu-exec-common.c), uc->cpu,
// and the signatures of the helpers wrapped. The start-up self-test
// (selftest.go) truncates a mapped memfd under a running engine and turns
// xemu_bus_recover off for an architecture on which the guest does not get
// the exact fault.
#define _GNU_SOURCE
#include "engine.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

__thread struct xemu_guest_state xemu_guest;
// DC ZVA's helper takes its return address itself (GETPC); its wrapper is a
// jump that notes the return address and where it lies on the stack, which
// is valid while that stack slot still holds it below the faulting frame.
__thread uintptr_t xemu_zva_ra, xemu_zva_slot;
int xemu_bus_recover[2] = {1, 1};

bool cpu_restore_state_aarch64(void *cpu, uintptr_t host_pc, bool will_exit);
bool cpu_restore_state_arm(void *cpu, uintptr_t host_pc, bool will_exit);
void cpu_loop_exit_aarch64(void *cpu) __attribute__((noreturn));
void cpu_loop_exit_arm(void *cpu) __attribute__((noreturn));

void xemu_guest_reset(void) {
  xemu_guest.translating = 0;
  xemu_guest.helper_ra = 0;
  xemu_zva_slot = 0;
}

// The guest page whose arena offset is phys: the helper's address or the
// page after it (an access crossing a page) first, then the whole table.
static int guest_page_of(xemu_engine *x, uint64_t phys, uint64_t hint,
                         uint64_t *va) {
  const uint64_t want = XPTE_PRESENT;
  for (int i = 0; i < 2 && hint; i++) {
    uint64_t a = (hint & ~0xfffULL) + (uint64_t)i * 4096;
    const uint64_t *root = x->pt_root;
    if (a >> 48)
      break;
    const uint64_t *l2 = (const uint64_t *)(uintptr_t)root[(a >> 36) & 0xfff];
    const uint64_t *l3 = l2 ? (const uint64_t *)(uintptr_t)l2[(a >> 24) & 0xfff] : 0;
    uint64_t pte = l3 ? l3[(a >> 12) & 0xfff] : 0;
    if ((pte & want) && (pte & XPTE_PHYS_MASK) == phys) {
      *va = a;
      return 1;
    }
  }
  for (uint64_t i1 = 0; i1 < 4096; i1++) {
    const uint64_t *l2 = (const uint64_t *)(uintptr_t)x->pt_root[i1];
    if (!l2)
      continue;
    for (uint64_t i2 = 0; i2 < 4096; i2++) {
      const uint64_t *l3 = (const uint64_t *)(uintptr_t)l2[i2];
      if (!l3)
        continue;
      for (uint64_t i3 = 0; i3 < 4096; i3++) {
        uint64_t pte = l3[i3];
        if ((pte & want) && (pte & XPTE_PHYS_MASK) == phys) {
          *va = i1 << 36 | i2 << 24 | i3 << 12;
          return 1;
        }
      }
    }
  }
  return 0;
}

static bool restore(xemu_engine *x, void *cpu, uintptr_t host_pc) {
  if (!host_pc)
    return false;
  return x->arch == 0 ? cpu_restore_state_aarch64(cpu, host_pc, true)
                      : cpu_restore_state_arm(cpu, host_pc, true);
}

int xemu_guest_bus_fault(siginfo_t *si, void *ucontext) {
  xemu_engine *x = xemu_current;
  if (!x || !xemu_guest.in_guest || !xemu_bus_recover[x->arch] ||
      si->si_code != BUS_ADRERR)
    return 0;
  uintptr_t host = (uintptr_t)si->si_addr;
  if (host < x->arena || host - x->arena >= x->arena_size)
    return 0;
  ucontext_t *uc = ucontext;
  greg_t *regs = uc->uc_mcontext.gregs;
  uintptr_t rip = (uintptr_t)regs[REG_RIP], rsp = (uintptr_t)regs[REG_RSP];
  uint64_t phys = (host - x->arena) & ~0xfffULL, va;
  uint64_t hint = xemu_guest.helper_ra ? xemu_guest.helper_addr : 0;
  if (!guest_page_of(x, phys, hint, &va))
    return 0;
  void *cpu = xemu_uc_cpu(x->uc);
  if (!cpu)
    return 0;
  // The x86 page-fault error code the kernel leaves in the frame: bit 1, a
  // write (arch/x86/mm/fault.c do_sigbus keeps it in thread.error_code).
  int access = (regs[REG_ERR] & 2) ? XACC_WRITE : XACC_READ;
  uintptr_t zva = 0;
  if (xemu_zva_slot && rsp <= xemu_zva_slot &&
      *(const uintptr_t *)xemu_zva_slot == xemu_zva_ra)
    zva = xemu_zva_ra;
  if (restore(x, cpu, rip) || restore(x, cpu, xemu_guest.helper_ra) ||
      restore(x, cpu, zva)) {
    // The guest registers are those before the faulting instruction.
  } else if (xemu_guest.translating) {
    access = XACC_EXEC; // registers: the block's start, as they are
  } else {
    return 0;
  }
  x->stop = XSTOP_FAULT;
  x->fault_addr = va | (host & 0xfff);
  x->fault_access = access;
  x->fault_mapped = 1;
  x->fault_bus = 1;
  // The handler runs with every signal blocked; cpu_exec's sigsetjmp keeps
  // no mask, so the one the fault interrupted comes back from the frame.
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &uc->uc_sigmask, NULL, 8);
  xemu_leave_guest(x, cpu);
}

void xemu_leave_guest(xemu_engine *x, void *cpu) {
  xemu_guest_reset();
  uc_emu_stop(x->uc);
  if (x->arch == 0)
    cpu_loop_exit_aarch64(cpu);
  cpu_loop_exit_arm(cpu);
}

// The memory helpers translated code calls, each given the return address
// into translated code (QEMU's retaddr) by the code that calls it.
typedef uint64_t target_ulong_aarch64;
typedef uint32_t target_ulong_arm;

#define NOTE_HELPER(ra, addr)                                                  \
  uintptr_t outer = xemu_guest.helper_ra;                                      \
  if (!outer) {                                                                \
    xemu_guest.helper_ra = (ra);                                               \
    xemu_guest.helper_addr = (addr);                                           \
  }
#define END_HELPER() xemu_guest.helper_ra = outer

#define LOAD_WRAPPER(T, NAME)                                                  \
  uint64_t __real_helper_##NAME##_mmu_##T(void *env, target_ulong_##T addr,    \
                                          uint32_t oi, uintptr_t ra);          \
  uint64_t __wrap_helper_##NAME##_mmu_##T(void *env, target_ulong_##T addr,    \
                                          uint32_t oi, uintptr_t ra) {         \
    NOTE_HELPER(ra, addr);                                                     \
    uint64_t v = __real_helper_##NAME##_mmu_##T(env, addr, oi, ra);            \
    END_HELPER();                                                              \
    return v;                                                                  \
  }

#define STORE_WRAPPER(T, NAME, TYPE)                                           \
  void __real_helper_##NAME##_mmu_##T(void *env, target_ulong_##T addr,        \
                                      TYPE val, uint32_t oi, uintptr_t ra);    \
  void __wrap_helper_##NAME##_mmu_##T(void *env, target_ulong_##T addr,        \
                                      TYPE val, uint32_t oi, uintptr_t ra) {   \
    NOTE_HELPER(ra, addr);                                                     \
    __real_helper_##NAME##_mmu_##T(env, addr, val, oi, ra);                    \
    END_HELPER();                                                              \
  }

// Atomics called from translated code take their return address themselves
// (GETPC, atomic_common.inc.c); the wrapper calls the same operation's _mmu
// variant with the address it was called from, which is what GETPC gives.
#define CMPXCHG_WRAPPER(T, SFX, TYPE)                                          \
  TYPE helper_atomic_cmpxchg##SFX##_mmu_##T(void *env, target_ulong_##T addr,  \
                                            TYPE cmpv, TYPE newv, uint32_t oi, \
                                            uintptr_t ra);                     \
  TYPE __wrap_helper_atomic_cmpxchg##SFX##_##T(                                \
      void *env, target_ulong_##T addr, TYPE cmpv, TYPE newv, uint32_t oi) {   \
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);                     \
    NOTE_HELPER(ra, addr);                                                     \
    TYPE v = helper_atomic_cmpxchg##SFX##_mmu_##T(env, addr, cmpv, newv, oi,   \
                                                  ra);                         \
    END_HELPER();                                                              \
    return v;                                                                  \
  }

#define RMW_WRAPPER(T, OP, SFX, TYPE)                                          \
  TYPE helper_atomic_##OP##SFX##_mmu_##T(void *env, target_ulong_##T addr,     \
                                         TYPE val, uint32_t oi, uintptr_t ra); \
  TYPE __wrap_helper_atomic_##OP##SFX##_##T(void *env, target_ulong_##T addr,  \
                                            TYPE val, uint32_t oi) {           \
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);                     \
    NOTE_HELPER(ra, addr);                                                     \
    TYPE v = helper_atomic_##OP##SFX##_mmu_##T(env, addr, val, oi, ra);        \
    END_HELPER();                                                              \
    return v;                                                                  \
  }

#define MMU_WRAPPERS(T)                                                        \
  LOAD_WRAPPER(T, ret_ldub)                                                    \
  LOAD_WRAPPER(T, le_lduw)                                                     \
  LOAD_WRAPPER(T, be_lduw)                                                     \
  LOAD_WRAPPER(T, le_ldul)                                                     \
  LOAD_WRAPPER(T, be_ldul)                                                     \
  LOAD_WRAPPER(T, le_ldq)                                                      \
  LOAD_WRAPPER(T, be_ldq)                                                      \
  STORE_WRAPPER(T, ret_stb, uint8_t)                                           \
  STORE_WRAPPER(T, le_stw, uint16_t)                                           \
  STORE_WRAPPER(T, be_stw, uint16_t)                                           \
  STORE_WRAPPER(T, le_stl, uint32_t)                                           \
  STORE_WRAPPER(T, be_stl, uint32_t)                                           \
  STORE_WRAPPER(T, le_stq, uint64_t)                                           \
  STORE_WRAPPER(T, be_stq, uint64_t)                                           \
  CMPXCHG_WRAPPER(T, b, uint32_t)                                              \
  CMPXCHG_WRAPPER(T, w_le, uint32_t)                                           \
  CMPXCHG_WRAPPER(T, l_le, uint32_t)                                           \
  CMPXCHG_WRAPPER(T, q_le, uint64_t)

MMU_WRAPPERS(aarch64)
MMU_WRAPPERS(arm)

// AArch64's LSE read-modify-write instructions (LDADD, LDCLR, LDEOR, LDSET,
// LD{S,U}{MAX,MIN}); ARM has none.
#define RMW_SIZES(OP)                                                          \
  RMW_WRAPPER(aarch64, OP, b, uint32_t)                                        \
  RMW_WRAPPER(aarch64, OP, w_le, uint32_t)                                     \
  RMW_WRAPPER(aarch64, OP, l_le, uint32_t)                                     \
  RMW_WRAPPER(aarch64, OP, q_le, uint64_t)
RMW_SIZES(fetch_add)
RMW_SIZES(fetch_and)
RMW_SIZES(fetch_or)
RMW_SIZES(fetch_xor)
RMW_SIZES(fetch_smin)
RMW_SIZES(fetch_smax)
RMW_SIZES(fetch_umin)
RMW_SIZES(fetch_umax)

// CASP and the exclusive pairs (LDAXP/STLXP) in parallel mode: helper-a64.c's
// helpers pass their GETPC on to the 128-bit compare-and-swap.
#define CMPXCHGO_WRAPPER(SFX)                                                  \
  __int128 __real_helper_atomic_cmpxchgo_##SFX##_mmu_aarch64(                  \
      void *env, uint64_t addr, __int128 cmpv, __int128 newv, uint32_t oi,     \
      uintptr_t ra);                                                           \
  __int128 __wrap_helper_atomic_cmpxchgo_##SFX##_mmu_aarch64(                  \
      void *env, uint64_t addr, __int128 cmpv, __int128 newv, uint32_t oi,     \
      uintptr_t ra) {                                                          \
    NOTE_HELPER(ra, addr);                                                     \
    __int128 v = __real_helper_atomic_cmpxchgo_##SFX##_mmu_aarch64(            \
        env, addr, cmpv, newv, oi, ra);                                        \
    END_HELPER();                                                              \
    return v;                                                                  \
  }
CMPXCHGO_WRAPPER(le)
CMPXCHGO_WRAPPER(be)

// DC ZVA (helper-a64.c) zeroes the block with memset through the TLB's host
// pointer, and passes its own GETPC on to the store helper for a miss: its
// wrapper must leave the return address where it is, so it is a jump.
__asm__(".text\n"
        ".globl __wrap_helper_dc_zva_aarch64\n"
        ".type __wrap_helper_dc_zva_aarch64, @function\n"
        "__wrap_helper_dc_zva_aarch64:\n"
        "  movq (%rsp), %rax\n"
        "  movq xemu_zva_ra@gottpoff(%rip), %r11\n"
        "  movq %rax, %fs:(%r11)\n"
        "  movq xemu_zva_slot@gottpoff(%rip), %r11\n"
        "  movq %rsp, %fs:(%r11)\n"
        "  jmp __real_helper_dc_zva_aarch64\n"
        ".size __wrap_helper_dc_zva_aarch64, .-__wrap_helper_dc_zva_aarch64\n");
