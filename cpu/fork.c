#define _GNU_SOURCE
#include "fork.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

// /proc/PID/pagemap bits (Documentation/admin-guide/mm/pagemap.rst).
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_FILE (1ULL << 61) // a file page or shared anonymous memory
#define PAGE 4096ULL

// Everything below runs in the child, between a raw clone and execve: only
// raw system calls and the child's own stack.

static long sys(long nr, long a, long b, long c, long d, long e, long f) {
  return syscall(nr, a, b, c, d, e, f);
}

static int write_all(int fd, const void *buf, uint64_t len, uint64_t off) {
  const char *p = buf;
  while (len > 0) {
    long n = sys(SYS_pwrite64, fd, (long)p, (long)len, (long)off, 0, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      // A page of a file mapping past the end of its file, truncated
      // since it was mapped: nothing to save there (the next xemu's copy
      // reads zeros where the guest would get SIGBUS).
      if (errno == EFAULT && len >= PAGE && ((uintptr_t)p % PAGE) == 0) {
        p += PAGE;
        off += PAGE;
        len -= PAGE;
        continue;
      }
      return -1;
    }
    p += n;
    off += (uint64_t)n;
    len -= (uint64_t)n;
  }
  return 0;
}

static int zero_page(const uint64_t *p) {
  for (int i = 0; i < (int)(PAGE / 8); i++)
    if (p[i] != 0)
      return 0;
  return 1;
}

// A pipe the child moves saved pages through (vmsplice, then splice into
// the memfd): the kernel takes the pages by reference and copies them into
// the memfd through its own mapping, so the child never touches them itself.
// A first touch of each page costs far more than its copy where the host
// runs under shadow paging (a 200 MiB save took 0.34-0.6 s with pwrite,
// 0.05-0.09 s so), and a read of every page was what the zero test cost.
typedef struct saver {
  int memfd;
  int pipe[2]; // -1: vmsplice is not available, pwrite instead
  long pipe_size;
} saver;

static void saver_open(saver *s, int memfd) {
  s->memfd = memfd;
  s->pipe[0] = s->pipe[1] = -1;
  int fds[2];
  if (sys(SYS_pipe2, (long)fds, O_CLOEXEC, 0, 0, 0, 0) < 0)
    return;
  // As big as an unprivileged process may make it by default
  // (/proc/sys/fs/pipe-max-size): fewer calls per run.
  long size = sys(SYS_fcntl, fds[1], F_SETPIPE_SZ, 1 << 20, 0, 0, 0);
  if (size < 0)
    size = sys(SYS_fcntl, fds[1], F_GETPIPE_SZ, 0, 0, 0, 0);
  if (size < (long)PAGE) {
    sys(SYS_close, fds[0], 0, 0, 0, 0, 0);
    sys(SYS_close, fds[1], 0, 0, 0, 0, 0);
    return;
  }
  s->pipe[0] = fds[0];
  s->pipe[1] = fds[1];
  s->pipe_size = size;
}

static void saver_close(saver *s) {
  if (s->pipe[0] >= 0) {
    sys(SYS_close, s->pipe[0], 0, 0, 0, 0, 0);
    sys(SYS_close, s->pipe[1], 0, 0, 0, 0, 0);
  }
}

// save writes len bytes of memory at p to the memfd at off.
static int save(saver *s, const char *p, uint64_t len, uint64_t off) {
  while (s->pipe[0] >= 0 && len > 0) {
    struct iovec iov = {(void *)p, len < (uint64_t)s->pipe_size ? len : (uint64_t)s->pipe_size};
    long n = sys(SYS_vmsplice, s->pipe[1], (long)&iov, 1, 0, 0, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == ENOSYS || errno == EPERM || errno == EINVAL)) {
      // Refused (a seccomp filter, an old kernel): write the rest.
      saver_close(s);
      s->pipe[0] = -1;
      break;
    }
    if (n <= 0)
      return -1;
    for (long left = n; left > 0;) {
      int64_t o = (int64_t)off;
      long w = sys(SYS_splice, s->pipe[0], 0, s->memfd, (long)&o, left, 0);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1; // the pipe still holds pages: the child fails
      left -= w;
      off += (uint64_t)w;
    }
    p += n;
    len -= (uint64_t)n;
  }
  return write_all(s->memfd, p, len, off);
}

// save_range writes the pages of r the next xemu cannot get back any other
// way, in runs of contiguous pages.
static int save_range(int pagemap, saver *sv, const xemu_snap_range *r) {
  // Without pagemap nothing tells a written page of a private file mapping
  // from the file's own: every page goes. Anonymous pages are then tested
  // for zeroes (reading one never written maps the shared zero page).
  int mode = r->mode;
  if (pagemap < 0 && mode == XSNAP_FILE)
    mode = XSNAP_ALL;
  uint64_t npages = r->len / PAGE;
  uint64_t entries[512];
  uint64_t run = 0, runlen = 0;
  for (uint64_t i = 0; i < npages; i += 512) {
    uint64_t n = npages - i < 512 ? npages - i : 512;
    if (mode != XSNAP_ALL && pagemap >= 0) {
      uint64_t at = (r->host / PAGE + i) * 8;
      long got = sys(SYS_pread64, pagemap, (long)entries, (long)(n * 8), (long)at, 0, 0);
      if (got != (long)(n * 8))
        return -1;
    }
    for (uint64_t j = 0; j < n; j++) {
      uint64_t page = i + j;
      int keep;
      if (mode == XSNAP_ALL) {
        keep = 1;
      } else if (pagemap >= 0) {
        // Written pages (and pages only read, which map the shared zero
        // page: telling them apart would mean reading every page).
        uint64_t e = entries[j];
        keep = (e & PM_SWAP) || ((e & PM_PRESENT) && !(e & PM_FILE));
      } else {
        // The next xemu's anonymous memory starts zeroed: a page never
        // written needs no copy.
        keep = !zero_page((const uint64_t *)(r->host + page * PAGE));
      }
      if (keep) {
        if (runlen == 0)
          run = page;
        runlen++;
        continue;
      }
      if (runlen > 0 && save(sv, (const char *)(r->host + run * PAGE), runlen * PAGE, r->off + run * PAGE) < 0)
        return -1;
      runlen = 0;
    }
  }
  if (runlen > 0 && save(sv, (const char *)(r->host + run * PAGE), runlen * PAGE, r->off + run * PAGE) < 0)
    return -1;
  return 0;
}

static int listed(const int32_t *fds, int n, int fd) {
  for (int i = 0; i < n; i++)
    if (fds[i] == fd)
      return 1;
  return 0;
}

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// keep_fd clears close-on-exec on fd if it was set, and lists fd (at most
// 1024) so the next xemu sets it again.
static int keep_fd(int fd, int32_t *list, uint32_t *count) {
  long fl = sys(SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0);
  if (fl < 0 || !(fl & FD_CLOEXEC))
    return 0;
  if (*count >= 1024)
    return -1;
  sys(SYS_fcntl, fd, F_SETFD, fl & ~FD_CLOEXEC, 0, 0, 0);
  list[(*count)++] = fd;
  return 0;
}

// keep_guest_fds clears close-on-exec on the guest's descriptors, so that
// xemu's exec does not close them, and records which: the next xemu sets it
// again, since the guest's own exec must still close them.
static int keep_guest_fds(const xemu_fork_req *r) {
  int32_t list[1025];
  uint32_t count = 0;
  if (r->proc_fd < 0) {
    for (int fd = 0; fd < r->max_fd; fd++) {
      if (fd == r->memfd || listed(r->skip, r->nskip, fd))
        continue;
      if (keep_fd(fd, list, &count) < 0)
        return -1;
    }
    goto done;
  }
  int dir = (int)sys(SYS_openat, r->proc_fd, (long)"self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0, 0);
  if (dir < 0)
    return -1;
  char buf[4096];
  for (;;) {
    long n = sys(SYS_getdents64, dir, (long)buf, sizeof buf, 0, 0, 0);
    if (n < 0) {
      sys(SYS_close, dir, 0, 0, 0, 0, 0);
      return -1;
    }
    if (n == 0)
      break;
    for (long off = 0; off < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
      off += d->d_reclen;
      if (d->d_name[0] < '0' || d->d_name[0] > '9')
        continue;
      int fd = 0;
      for (const char *c = d->d_name; *c; c++)
        fd = fd * 10 + (*c - '0');
      if (fd == dir || fd == r->memfd || listed(r->skip, r->nskip, fd))
        continue;
      if (keep_fd(fd, list, &count) < 0)
        return -1;
    }
  }
  sys(SYS_close, dir, 0, 0, 0, 0, 0);
done:
  if (write_all(r->memfd, &count, 4, r->fdlist_off) < 0)
    return -1;
  return write_all(r->memfd, list, count * 4, r->fdlist_off + 4);
}

static void child_fail(const xemu_fork_req *r, const char *what) {
  char msg[160];
  int n = snprintf(msg, sizeof msg, "xemu: fork: the child could not %s: %s\n", what, strerror(errno));
  if (n > 0)
    sys(SYS_write, r->errfd, (long)msg, n, 0, 0, 0);
  sys(SYS_exit_group, 127, 0, 0, 0, 0, 0);
}

static void child(const xemu_fork_req *r) {
  int pagemap = -1;
  if (r->proc_fd >= 0) {
    // "self" is resolved at the open, so this is the child's own map.
    pagemap = (int)sys(SYS_openat, r->proc_fd, (long)"self/pagemap", O_RDONLY | O_CLOEXEC, 0, 0, 0);
    if (pagemap < 0)
      child_fail(r, "open /proc/self/pagemap");
  }
  saver sv;
  saver_open(&sv, r->memfd);
  for (int i = 0; i < r->nranges; i++)
    if (save_range(pagemap, &sv, &r->ranges[i]) < 0)
      child_fail(r, "save its memory");
  saver_close(&sv);
  if (pagemap >= 0)
    sys(SYS_close, pagemap, 0, 0, 0, 0, 0);
  if (keep_guest_fds(r) < 0)
    child_fail(r, "list its descriptors");
  for (int i = 0; i < r->nkeep; i++)
    sys(SYS_fcntl, r->keep[i], F_SETFD, 0, 0, 0, 0);
  // Signals stay blocked across the exec: they wait, pending, for the next
  // xemu's handlers instead of reaching this one's.
  if (r->exe_fd >= 0)
    sys(SYS_execveat, r->exe_fd, (long)"", (long)r->argv, (long)r->envp, AT_EMPTY_PATH, 0);
  else
    sys(SYS_execve, (long)r->path, (long)r->argv, (long)r->envp, 0, 0, 0);
  child_fail(r, "execute xemu");
}

int64_t xemu_fork(const xemu_fork_req *r) {
  uint64_t all = ~0ULL, old = 0;
  // Raw: glibc's sigprocmask keeps its own two signals unblocked.
  sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&old, 8, 0, 0);
  long pid = sys(SYS_clone, (long)r->clone_flags, 0, 0, 0, 0, 0);
  if (pid == 0)
    child(r);
  int err = errno;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, 8, 0, 0);
  return pid < 0 ? -err : pid;
}

void xemu_unblock_signals(void) {
  uint64_t none = 0;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8, 0, 0);
}

// Used in the calling process itself (a fork through a zygote, whose guest
// is single-threaded and stopped in the system call): saves the ranges into
// memfd as a fork child would.
int64_t xemu_save_ranges(const xemu_snap_range *ranges, int32_t n, int32_t memfd, int32_t proc_fd) {
  int pagemap = -1;
  if (proc_fd >= 0) {
    pagemap = (int)sys(SYS_openat, proc_fd, (long)"self/pagemap", O_RDONLY | O_CLOEXEC, 0, 0, 0);
    if (pagemap < 0)
      return -errno;
  }
  saver sv;
  saver_open(&sv, memfd);
  int64_t ret = 0;
  for (int i = 0; i < n && ret == 0; i++)
    if (save_range(pagemap, &sv, &ranges[i]) < 0)
      ret = errno ? -errno : -EIO;
  saver_close(&sv);
  if (pagemap >= 0)
    sys(SYS_close, pagemap, 0, 0, 0, 0, 0);
  return ret;
}

typedef struct spawn_args {
  const xemu_spawn_req *r;
  int err;
} spawn_args;

// spawn_child runs on its own stack in the caller's memory (CLONE_VM) until
// its exec: raw system calls only, every signal blocked.
static int spawn_child(void *arg) {
  spawn_args *a = arg;
  const xemu_spawn_req *r = a->r;
  for (int fd = 0; fd < 3; fd++)
    if (sys(SYS_dup3, r->null_fd, fd, 0, 0, 0, 0) < 0)
      goto fail;
  // Nothing of the caller's stays open in the new program but keep_fd, at
  // keep_at: a guest descriptor held there would keep a pipe from ever
  // reaching end of file.
  if (sys(SYS_dup3, r->keep_fd, r->keep_at, O_CLOEXEC, 0, 0, 0) < 0)
    goto fail;
  if (sys(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */, 0, 0, 0) < 0)
    goto fail;
  if (sys(SYS_fcntl, r->keep_at, F_SETFD, 0, 0, 0, 0) < 0)
    goto fail;
  sys(SYS_execveat, r->exe_fd, (long)"", (long)r->argv, (long)r->envp, AT_EMPTY_PATH, 0);
fail:
  a->err = errno ? errno : EIO;
  sys(SYS_exit, 127, 0, 0, 0, 0, 0);
  return 0;
}

int64_t xemu_spawn(const xemu_spawn_req *r) {
  enum { STACK = 64 << 10 };
  char *stack = malloc(STACK);
  if (stack == NULL)
    return -ENOMEM;
  spawn_args a = {r, 0};
  uint64_t all = ~0ULL, old = 0;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&old, 8, 0, 0);
  // CLONE_VFORK: this thread waits until the child has executed, so a.err
  // is final when clone returns, and no page of this process is copied.
  int pid = clone(spawn_child, stack + STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  int err = errno;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, 8, 0, 0);
  free(stack);
  if (pid < 0)
    return -err;
  if (a.err != 0) {
    // The child ran and failed: it is a zombie to reap.
    int status;
    while (sys(SYS_wait4, pid, (long)&status, 0, 0, 0, 0) < 0 && errno == EINTR)
      ;
    return -a.err;
  }
  return pid;
}
