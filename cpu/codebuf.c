// Translated code within a call's reach of xemu's own code.
//
// TCG calls a helper (the lookup of an indirect branch's target, the slow
// paths of loads and stores, most NEON and floating-point operations) with a
// direct `call rel32` when the helper is within ±2 GiB of the code calling
// it, and otherwise through a pointer in a constant pool (tcg/i386
// tcg_out_branch). Unicorn maps its code buffer wherever the kernel puts it
// (translate-all.c alloc_code_gen_buffer: mmap64 with no hint), far above
// this static binary at 0x400000, so every helper call was indirect. Placed
// in the low 2 GiB, next to the binary, they are direct. Measured (minimum
// of 8 alternating runs): a shell loop 1.6% faster, an interpreter kernel
// unchanged; a first measurement of 10% was this VM's two CPUs running at
// different speeds, which unpinned runs land on at random.
//
// The link wraps mmap64, which only Unicorn calls in this program; an
// executable anonymous mapping the size of a code buffer goes to the highest
// free slot between the end of the C heap's room and 2 GiB past the start of
// the binary, or, with none free, wherever the kernel puts it (as before).
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

extern char __executable_start[], end[];

enum {
  min_code_buffer = 16 << 20,
  slot_step = 16 << 20,
  // Left free above the binary for the C heap (brk), which Unicorn's
  // allocations grow; beyond it glibc's malloc maps memory elsewhere.
  heap_room = 256 << 20,
  // rel32 reaches ±2 GiB; the binary's text is under 32 MiB.
  reach = 0x7e000000,
};

void *__real_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);

void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  if (addr != NULL || !(prot & PROT_EXEC) || fd != -1 || len < min_code_buffer ||
      flags != (MAP_PRIVATE | MAP_ANONYMOUS))
    return __real_mmap64(addr, len, prot, flags, fd, off);
  uintptr_t lo = ((uintptr_t)end + heap_room + slot_step - 1) & ~(uintptr_t)(slot_step - 1);
  uintptr_t hi = (uintptr_t)__executable_start + reach;
  // Slots of the buffer's own size, down from the top: an execve's new
  // engine finds the next one free without trying every step between.
  uintptr_t step = (len + slot_step - 1) & ~(uintptr_t)(slot_step - 1);
  for (uintptr_t at = (hi - len) & ~(uintptr_t)(slot_step - 1); hi > lo + len && at >= lo; at -= step) {
    void *p = __real_mmap64((void *)at, len, prot, flags | MAP_FIXED_NOREPLACE, fd, off);
    if (p == (void *)at)
      return p;
    if (p != MAP_FAILED) // a kernel without MAP_FIXED_NOREPLACE took it as a hint
      munmap(p, len);
    if (at < lo + step)
      break; // the next slot would be below lo, or wrap around
  }
  return __real_mmap64(addr, len, prot, flags, fd, off);
}
