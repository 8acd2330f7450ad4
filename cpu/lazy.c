#define _GNU_SOURCE
#include "lazy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096ULL
// How much xemu_lazy_fetch reads and installs at once.
#define CHUNK (256ULL << 10)

struct xemu_lazy {
  int uffd;
  int parent; // the parent's /proc/PID/mem
  int stop;   // an eventfd: the thread ends when it is readable
  uint64_t delta;
  pthread_t thread;
  _Atomic uint64_t pages;
};

// uffd_open opens a userfaultfd whose faults include the kernel's own
// accesses (no UFFD_USER_MODE_ONLY): userfaultfd(2) where the process may
// (CAP_SYS_PTRACE, or vm.unprivileged_userfaultfd), else /dev/userfaultfd
// where its mode lets the process open it (fs/userfaultfd.c).
static int uffd_open(void) {
  int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  if (fd < 0 && errno == EPERM) {
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    if (dev < 0) {
      errno = EPERM;
      return -1;
    }
    fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
    int err = errno;
    close(dev);
    errno = err;
  }
  if (fd < 0)
    return -1;
  struct uffdio_api api = {.api = UFFD_API, .features = 0};
  if (ioctl(fd, UFFDIO_API, &api) < 0 || !(api.ioctls & (1ULL << _UFFDIO_REGISTER))) {
    int err = errno ? errno : ENOSYS;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

int32_t xemu_uffd_usable(void) {
  int fd = uffd_open();
  if (fd < 0)
    return 0;
  close(fd);
  return 1;
}

// read_parent reads len bytes of the parent's memory at addr into buf; a
// short count where the parent's memory ends or is gone (0 once its memory
// is torn down: fs/proc/base.c mem_rw).
static int64_t read_parent(xemu_lazy *l, void *buf, uint64_t len, uint64_t addr) {
  uint64_t done = 0;
  while (done < len) {
    ssize_t n = pread(l->parent, (char *)buf + done, len - done, (off_t)(addr + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += (uint64_t)n;
  }
  return (int64_t)done;
}

// install copies len bytes at src to the registered pages at dst, skipping
// those already there: 0 or -errno (ENOENT: dst is not, or no longer, in a
// registered range).
static int64_t install(xemu_lazy *l, uint64_t dst, const void *src, uint64_t len) {
  while (len > 0) {
    struct uffdio_copy c = {.dst = dst, .src = (uint64_t)src, .len = len, .mode = 0};
    int r = ioctl(l->uffd, UFFDIO_COPY, &c);
    int err = r < 0 ? errno : 0;
    uint64_t done = r == 0 ? len : c.copy > 0 ? (uint64_t)c.copy : 0;
    atomic_fetch_add(&l->pages, done / PAGE);
    dst += done;
    src = (const char *)src + done;
    len -= done;
    if (r == 0 || err == EAGAIN || err == EINTR)
      continue;
    if (err != EEXIST)
      return -err;
    // Already there (the child's own since): skip it.
    dst += PAGE;
    src = (const char *)src + PAGE;
    len -= PAGE;
  }
  return 0;
}

static void *serve(void *arg) {
  xemu_lazy *l = arg;
  void *page = aligned_alloc(PAGE, PAGE);
  if (page == NULL)
    abort();
  struct pollfd fds[2] = {{.fd = l->uffd, .events = POLLIN}, {.fd = l->stop, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (fds[1].revents)
      break;
    struct uffd_msg msg;
    ssize_t n = read(l->uffd, &msg, sizeof msg);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n != (ssize_t)sizeof msg)
      break;
    if (msg.event != UFFD_EVENT_PAGEFAULT)
      continue;
    uint64_t addr = msg.arg.pagefault.address & ~(PAGE - 1);
    if (read_parent(l, page, PAGE, addr + l->delta) != (int64_t)PAGE) {
      // The parent is gone (killed while it waited): what the child has
      // not read yet is lost with it, and it cannot go on.
      kill(getpid(), SIGKILL);
      break;
    }
    int64_t r = install(l, addr, page, PAGE);
    if (r < 0 && r != -ENOENT) {
      kill(getpid(), SIGKILL);
      break;
    }
  }
  free(page);
  return NULL;
}

// above moves fd to fd_base or above.
static int above(int fd, int fd_base) {
  if (fd < 0 || fd >= fd_base)
    return fd;
  int h = fcntl(fd, F_DUPFD_CLOEXEC, fd_base);
  if (h < 0)
    return fd;
  close(fd);
  return h;
}

xemu_lazy *xemu_lazy_start(int32_t parent_mem, uint64_t delta, int32_t fd_base, int32_t *err) {
  xemu_lazy *l = calloc(1, sizeof *l);
  if (l == NULL) {
    *err = ENOMEM;
    return NULL;
  }
  l->parent = parent_mem;
  l->delta = delta;
  l->uffd = above(uffd_open(), fd_base);
  if (l->uffd < 0) {
    *err = errno;
    free(l);
    return NULL;
  }
  l->stop = above(eventfd(0, EFD_CLOEXEC), fd_base);
  if (l->stop < 0) {
    *err = errno;
    close(l->uffd);
    free(l);
    return NULL;
  }
  // The thread takes no signal (glibc's own, for setuid and the like,
  // stay unblocked): they are the guest's and Go's business.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int r = pthread_create(&l->thread, NULL, serve, l);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r != 0) {
    *err = r;
    close(l->stop);
    close(l->uffd);
    free(l);
    return NULL;
  }
  return l;
}

int64_t xemu_lazy_register(xemu_lazy *l, uint64_t host, uint64_t len) {
  struct uffdio_register reg = {.range = {.start = host, .len = len}, .mode = UFFDIO_REGISTER_MODE_MISSING};
  if (ioctl(l->uffd, UFFDIO_REGISTER, &reg) < 0)
    return -errno;
  if (!(reg.ioctls & (1ULL << _UFFDIO_COPY)))
    return -EINVAL;
  return 0;
}

int64_t xemu_lazy_fetch(xemu_lazy *l, uint64_t host, uint64_t len) {
  void *buf = aligned_alloc(PAGE, CHUNK);
  if (buf == NULL)
    return -ENOMEM;
  int64_t ret = 0;
  for (uint64_t off = 0; off < len && ret == 0; off += CHUNK) {
    uint64_t n = len - off < CHUNK ? len - off : CHUNK;
    int64_t got = read_parent(l, buf, n, host + off + l->delta);
    if (got == (int64_t)n) {
      ret = install(l, host + off, buf, n);
      if (ret != -ENOENT)
        continue;
    }
    // Not one registered range, or not all of it the parent's: page by
    // page, skipping pages that are neither.
    ret = 0;
    for (uint64_t p = 0; p < n && ret == 0; p += PAGE) {
      if (read_parent(l, buf, PAGE, host + off + p + l->delta) != (int64_t)PAGE)
        continue;
      ret = install(l, host + off + p, buf, PAGE);
      if (ret == -ENOENT)
        ret = 0;
    }
  }
  free(buf);
  return ret;
}

int32_t xemu_lazy_same(xemu_lazy *l, uint64_t host) {
  char page[PAGE];
  if (read_parent(l, page, PAGE, host + l->delta) != (int64_t)PAGE)
    return 0;
  return memcmp(page, (const void *)host, PAGE) == 0;
}

void xemu_lazy_fds(xemu_lazy *l, int32_t fds[3]) {
  fds[0] = l->uffd;
  fds[1] = l->stop;
  fds[2] = l->parent;
}

uint64_t xemu_lazy_pages(xemu_lazy *l) { return atomic_load(&l->pages); }

void xemu_lazy_stop(xemu_lazy *l) {
  uint64_t one = 1;
  while (write(l->stop, &one, sizeof one) < 0 && errno == EINTR)
    ;
  pthread_join(l->thread, NULL);
  close(l->stop);
  close(l->uffd);
  close(l->parent);
  free(l);
}
