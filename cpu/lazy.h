// Memory of a vfork child read from its parent as the child touches it:
// the parent waits, stopped, until the child executes or exits, so its
// memory is the child's snapshot for that long. The child's private
// memory is registered with a userfaultfd; a thread of the child's reads
// each page it faults on from the parent's /proc/PID/mem and installs it
// (UFFDIO_COPY).
#ifndef XEMU_LAZY_H
#define XEMU_LAZY_H

#include <stdint.h>

typedef struct xemu_lazy xemu_lazy;

// xemu_uffd_usable says whether this process may have a userfaultfd that
// also takes the kernel's own faults on its memory (system calls reading
// or writing guest buffers), 1 or 0.
int32_t xemu_uffd_usable(void);

// xemu_lazy_start opens a userfaultfd and starts the thread that serves
// its faults from parent_mem at the faulting address plus delta. It takes
// parent_mem over. The descriptors it opens are at fd_base or above
// (xemu_lazy_fds). *err is the errno of a failure (NULL returned).
xemu_lazy *xemu_lazy_start(int32_t parent_mem, uint64_t delta, int32_t fd_base, int32_t *err);

// xemu_lazy_fds stores the descriptors l holds: the userfaultfd, the
// eventfd that stops its thread, parent_mem.
void xemu_lazy_fds(xemu_lazy *l, int32_t fds[3]);

// xemu_lazy_register registers [host, host+len) for missing-page faults:
// 0 or -errno.
int64_t xemu_lazy_register(xemu_lazy *l, uint64_t host, uint64_t len);

// xemu_lazy_fetch installs every page of [host, host+len) not there yet
// (registered pieces only): 0 or -errno.
int64_t xemu_lazy_fetch(xemu_lazy *l, uint64_t host, uint64_t len);

// xemu_lazy_same says whether the page at host holds what the parent's
// holds: 1, 0, or 0 when the parent's cannot be read.
int32_t xemu_lazy_same(xemu_lazy *l, uint64_t host);

// xemu_lazy_pages is how many pages were installed so far.
uint64_t xemu_lazy_pages(xemu_lazy *l);

// xemu_lazy_stop ends the thread, closes the userfaultfd (its ranges are
// plain memory again) and parent_mem, and frees l.
void xemu_lazy_stop(xemu_lazy *l);

#endif
