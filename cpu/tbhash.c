// The hash table of translated blocks starts small.
//
// Every engine's table of translated blocks (tb_htable_init,
// qemu/accel/tcg/translate-all.c:1107 in Unicorn 2.1.4) is created for
// CODE_GEN_HTABLE_SIZE = 1 << 15 entries: 8192 buckets of 64 bytes, 512 KiB
// that qht_map_create (qemu/util/qht.c) writes in full, so 128 pages are
// faulted in before the first instruction runs (each a few µs, more on a
// virtual machine). The table is created with QHT_MODE_AUTO_RESIZE and doubles
// itself once a fraction of its buckets has overflowed, so starting it at
// 1 << 10 entries costs a few doublings (a rehash each) in a program that
// translates thousands of blocks, and nothing in one that translates a few
// hundred. The same size comes back at every flush of translated code
// (tb_flush, translate-all.c:1374, qht_reset_size), uc_close's included, where
// the 512 KiB are written only to be freed: a flushed table starts small too.
// The signatures are QEMU's public ones (qemu/include/qemu/qht.h; Unicorn adds
// the engine to qht_reset_size); `ld --wrap` (engine.go) routes
// translate-all.c's calls here.
#include <stdbool.h>
#include <stddef.h>

struct qht;
struct uc_struct;
typedef int (*qht_cmp_func_t)(const void *a, const void *b);

void __real_qht_init(struct qht *ht, qht_cmp_func_t cmp, size_t n_elems,
                     unsigned int mode);
bool __real_qht_reset_size(struct uc_struct *uc, struct qht *ht,
                           size_t n_elems);

enum {
  code_gen_htable_size = 1 << 15, // CODE_GEN_HTABLE_SIZE (exec/tb-context.h)
  qht_mode_auto_resize = 0x1,     // QHT_MODE_AUTO_RESIZE (qemu/qht.h)
  initial_elems = 1 << 10,
};

void __wrap_qht_init(struct qht *ht, qht_cmp_func_t cmp, size_t n_elems,
                     unsigned int mode) {
  if (n_elems == code_gen_htable_size && (mode & qht_mode_auto_resize))
    n_elems = initial_elems;
  __real_qht_init(ht, cmp, n_elems, mode);
}

bool __wrap_qht_reset_size(struct uc_struct *uc, struct qht *ht,
                           size_t n_elems) {
  if (n_elems == code_gen_htable_size)
    n_elems = initial_elems;
  return __real_qht_reset_size(uc, ht, n_elems);
}
