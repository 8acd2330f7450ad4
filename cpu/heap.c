// The C heap starts on transparent huge pages.
//
// Creating an engine makes thousands of small allocations (Unicorn's CPU state,
// TLBs, the coprocessor-register tables of ARM: about 1.7 MB for an ARM engine,
// written as it is allocated), and xemu creates two at start-up (the self-test's
// and the program's). On 4 KiB pages that is one page fault per page, each
// costing microseconds, tens of them on a virtual machine with shadow page
// tables: measured, 1,460 page faults for an ARM program that does nothing,
// 580 with the heap below on huge pages (aarch64: 950 and 560), and a third
// less CPU time. What glibc's tunables glibc.malloc.hugetlb=1, arena_max=1,
// top_pad and mmap_threshold would do, set here before the Go runtime starts:
//  - one arena, the main one, for every thread (the self-test's engine is
//    created on another thread, which would get a heap of its own);
//  - allocations below 32 MiB from that heap, not from mmap;
//  - the heap grown by 8 MiB at once, and that stretch advised to use huge
//    pages (MADV_HUGEPAGE: the system's THP mode "madvise" honours it).
// Later growth of the heap is a separate mapping on ordinary pages.
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

enum {
  heap_start_size = 8 << 20,
  heap_mmap_threshold = 32 << 20,
  huge_page = 2 << 20,
};

__attribute__((constructor(120))) static void xemu_huge_heap(void) {
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, heap_mmap_threshold);
  mallopt(M_TOP_PAD, heap_start_size);
  uintptr_t before = (uintptr_t)sbrk(0);
  // More than the heap has left, so that it grows now: by this and the pad,
  // of which the pad stays after the free.
  // (volatile: a compiler may drop a malloc whose memory is never used).
  void *volatile grow = malloc(heap_start_size);
  free(grow);
  uintptr_t after = (uintptr_t)sbrk(0);
  uintptr_t start = (before + huge_page - 1) & ~(uintptr_t)(huge_page - 1);
  if (before == (uintptr_t)-1 || after <= start)
    return;
  madvise((void *)start, after - start, MADV_HUGEPAGE);
  // Allocations are carved from the heap's low end up, and the heap began
  // on a page boundary, not a huge-page one: what lies below start is on
  // 4 KiB pages, up to 2 MiB of them, which the first allocations would
  // fault in one by one (about 210 faults, 2.5 ms on this VM, at every
  // start). An allocation that spans them and is never freed nor touched
  // past its header keeps the others above start; it costs address space
  // only.
  void *probe = malloc(64);
  uintptr_t at = (uintptr_t)probe;
  free(probe);
  if (at < start && start - at < huge_page) {
    void *volatile filler = malloc(start - at - 64);
    (void)filler;
  }
}

// The Go heap on transparent huge pages too.
//
// With cgo the runtime maps memory through the C library's mmap (runtime/cgo
// gcc_mmap.c), which the link wraps (engine.go: --wrap=mmap). The runtime
// commits heap memory in chunks of 4 MiB, each a fixed private anonymous
// read-write mapping over its reservation (runtime/mem_linux.go sysMapOS);
// advised MADV_HUGEPAGE, each 2 MiB of such a chunk costs one page fault on
// first touch instead of up to 512. An empty static guest's start touches
// about 1.2 MiB of heap (goroutine stacks included): measured, 584 page faults
// instead of 296 and 4 ms less CPU time (a 4 KiB fault costs about 12 µs on
// this VM with shadow page tables, a 2 MiB one about 150 µs), for 3 MiB more
// peak RSS. It is what the runtime itself did up to Go 1.21, and what THP mode
// "always" does; GODEBUG=disablethp=1 still wins (the runtime advises
// NOHUGEPAGE after the mapping returns).
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  void *p = __real_mmap(addr, len, prot, flags, fd, off);
  if (p != MAP_FAILED && flags == (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) &&
      prot == (PROT_READ | PROT_WRITE) && len >= huge_page && len % huge_page == 0 &&
      (uintptr_t)p % huge_page == 0)
    madvise(p, len, MADV_HUGEPAGE);
  return p;
}
