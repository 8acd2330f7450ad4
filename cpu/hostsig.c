#include "hostsig.h"
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct sigaction previous[65];
// The engine of the guest thread that takes process-wide signals: stopped
// from the handler itself (xemu_interrupt only stores flags), so that the
// guest sees the signal without waiting for a goroutine to be scheduled.
static _Atomic(xemu_engine *) signal_target;
// Handlers between reading signal_target and done with it: a new target
// waits for them, so the old engine can be freed (an exec replaces it).
static atomic_int target_users;
static int wake_fd = -1;
static xemu_hostsig ring[XSIG_RING];
static atomic_uint ring_head, ring_tail; // head: next to read; tail: next to write
static atomic_flag ring_lock = ATOMIC_FLAG_INIT;
static atomic_uint_fast64_t dropped;

static void lock(void) {
  while (atomic_flag_test_and_set_explicit(&ring_lock, memory_order_acquire))
    ;
}
static void unlock(void) {
  atomic_flag_clear_explicit(&ring_lock, memory_order_release);
}

static int is_fault(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
         sig == SIGTRAP;
}

// record puts a caught signal in the ring. Signals are blocked while it runs
// (the handler's sa_mask is full; the constructor runs with all blocked), so
// a thread never re-enters here while holding the lock.
static void record(const siginfo_t *si) {
  lock();
  unsigned head = atomic_load(&ring_head), tail = atomic_load(&ring_tail);
  if (tail - head < XSIG_RING) {
    xemu_hostsig *e = &ring[tail % XSIG_RING];
    e->tid = (int)syscall(SYS_gettid);
    memcpy(e->info, si, sizeof e->info);
    atomic_store(&ring_tail, tail + 1);
  } else {
    atomic_fetch_add(&dropped, 1);
  }
  unlock();
}

static void handler(int sig, siginfo_t *si, void *uc);

// A fork child starts with every signal blocked, and those sent to it on its
// way here pending (cpu/fork.c), for the handlers xemu installs once the
// guest's state is restored. But the Go runtime unblocks some signals on
// every thread it starts (SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGCHLD, ...:
// runtime/signal_unix.go blockableSig) with its own handler installed, which
// ends the process for SIGTERM and its kind and drops SIGCHLD: a guest
// child with a handler for one of them would be killed, or miss it, if it
// came during start-up. So such an xemu catches signals from the start:
// in a constructor, which runs before the runtime, the pending ones are
// taken, with their siginfo, and the handler is installed. The runtime's
// own installs (initsig, through the C library's sigaction in a cgo
// program) are then kept as the handlers faults go to (previous) instead of
// replacing xemu's, until the runtime's first new thread (pthread_create),
// both wrapped at link time: the first thread unblocks SIGTERM and its kind
// before that, and one sent in between used to end the process. The ring
// keeps them until the guest's handlers are there (catchHostSignals).
static int early_catch;
static atomic_int early_over;

static int catchable(int sig) {
  // Not SIGKILL and SIGSTOP, nor 32 and 33, which the C library uses
  // (syscall/kernel hostSignalsCaught makes the same choice).
  return sig != SIGKILL && sig != SIGSTOP && sig != 32 && sig != 33;
}

__attribute__((constructor(130))) static void xemu_take_pending_signals(void) {
  uint64_t mask = 0;
  if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, &mask, 8) != 0)
    return;
  for (int sig = 1; sig <= 64; sig++)
    if (catchable(sig) && !(mask & (1ULL << (sig - 1))))
      return; // not started as a fork child
  early_catch = 1;
  sigset_t pending;
  if (sigpending(&pending) != 0)
    return;
  const struct timespec now = {0, 0};
  siginfo_t si;
  while (sigtimedwait(&pending, &si, &now) > 0)
    record(&si);
  for (int sig = 1; sig <= 64; sig++)
    if (catchable(sig))
      xemu_catch_signal(sig);
}

int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  // The runtime's handlers are in previous, and xemu's installed (the
  // loop finds them so): from now on sigaction is the C library's.
  if (early_catch && !atomic_exchange(&early_over, 1)) {
    for (int sig = 1; sig <= 64; sig++)
      if (catchable(sig))
        xemu_catch_signal(sig);
  }
  return __real_pthread_create(t, attr, fn, arg);
}

int __real_sigaction(int sig, const struct sigaction *act, struct sigaction *oact);

int __wrap_sigaction(int sig, const struct sigaction *act, struct sigaction *oact) {
  if (early_catch && !atomic_load(&early_over) && sig > 0 && sig <= 64 && catchable(sig) && act &&
      !((act->sa_flags & SA_SIGINFO) && act->sa_sigaction == handler)) {
    // The runtime's handler, kept for faults; xemu's stays installed.
    if (oact)
      __real_sigaction(sig, 0, oact);
    previous[sig] = *act;
    return 0;
  }
  return __real_sigaction(sig, act, oact);
}

static void handler(int sig, siginfo_t *si, void *uc) {
  int saved = errno;
  // Guest code touching a file page past the end of its file: the guest's
  // SIGBUS (does not return).
  if (sig == SIGBUS && si->si_code > 0)
    xemu_guest_bus_fault(si, uc);
  // A fault of xemu's own code: the Go runtime's handler reports it.
  if (is_fault(sig) && si->si_code > 0) {
    struct sigaction *p = &previous[sig];
    if (p->sa_flags & SA_SIGINFO)
      p->sa_sigaction(sig, si, uc);
    else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN)
      p->sa_handler(sig);
    else // before the runtime's handlers (start-up): the fault, again, ends us
      signal(sig, SIG_DFL);
    errno = saved;
    return;
  }
  // xemu's own kick, whose only job was to interrupt a system call, or the Go
  // runtime's request for asynchronous preemption, which is dropped: the
  // runtime still preempts goroutines at function calls.
  if (sig == SIGURG && si->si_code == SI_TKILL && si->si_pid == getpid()) {
    errno = saved;
    return;
  }
  record(si);
  atomic_fetch_add(&target_users, 1);
  xemu_engine *target = atomic_load(&signal_target);
  if (target)
    xemu_interrupt(target);
  atomic_fetch_sub(&target_users, 1);
  if (wake_fd >= 0) {
    char b = 0;
    ssize_t r = write(wake_fd, &b, 1);
    (void)r;
  }
  errno = saved;
}

static pthread_mutex_t catch_lock = PTHREAD_MUTEX_INITIALIZER;

static int catch_signal(int sig) {
  // Installed already (at start-up, see above): previous must stay the
  // runtime's handler, not become this one.
  struct sigaction now;
  if (sigaction(sig, 0, &now) == 0 && (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == handler)
    return 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  // No SA_RESTART: a blocking call of a guest thread must see EINTR.
  // SA_ONSTACK: the Go runtime's threads run handlers on their signal stacks.
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigfillset(&sa.sa_mask);
  return sigaction(sig, &sa, &previous[sig]);
}

// Under a lock: the CPU self-test catches SIGBUS on its own thread while the
// kernel may be catching every signal on another, and two installs at once
// would each take the other's handler for the runtime's.
int xemu_catch_signal(int sig) {
  pthread_mutex_lock(&catch_lock);
  int r = catch_signal(sig);
  int e = errno;
  pthread_mutex_unlock(&catch_lock);
  errno = e;
  return r;
}

int xemu_release_signal(int sig) { return sigaction(sig, &previous[sig], 0); }

int xemu_child_reaping(int mode) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigfillset(&sa.sa_mask);
  if ((mode & 3) == 2) {
    sa.sa_handler = SIG_IGN;
  } else {
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | ((mode & 3) == 1 ? SA_NOCLDWAIT : 0);
  }
  // Not even generated: a stop's SIGCHLD still pending would swallow the
  // exit's, as the kernel keeps one of each standard signal.
  if (mode & 4)
    sa.sa_flags |= SA_NOCLDSTOP;
  return sigaction(SIGCHLD, &sa, 0);
}

void xemu_set_wake_fd(int fd) { wake_fd = fd; }

int xemu_next_hostsig(xemu_hostsig *out) {
  if (atomic_load(&ring_head) == atomic_load(&ring_tail))
    return 0;
  // A signal arriving on this thread while it holds the lock would spin in
  // the handler forever: block them for that moment.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  lock();
  unsigned head = atomic_load(&ring_head), tail = atomic_load(&ring_tail);
  int got = 0;
  if (head != tail) {
    *out = ring[head % XSIG_RING];
    atomic_store(&ring_head, head + 1);
    got = 1;
  }
  unlock();
  pthread_sigmask(SIG_SETMASK, &old, 0);
  return got;
}

uint64_t xemu_hostsig_dropped(void) { return atomic_load(&dropped); }

int xemu_kick_thread(int tid) {
  return (int)syscall(SYS_tgkill, getpid(), tid, SIGURG);
}

void xemu_set_signal_target(void *engine) {
  atomic_store(&signal_target, (xemu_engine *)engine);
  // A handler on another thread may still hold the old target.
  while (atomic_load(&target_users) != 0)
    sched_yield();
}

int xemu_started_blocked(void) { return early_catch; }

uint64_t xemu_set_sigmask(uint64_t mask) {
  uint64_t old = 0;
  // Raw: glibc's sigprocmask keeps its own two signals unblocked.
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, &old, 8);
  return old;
}

int xemu_queue_self(int sig, const void *info) {
  // To the calling thread itself, any si_code may be queued
  // (kernel/signal.c do_rt_tgsigqueueinfo).
  if (syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), sig, info) != 0)
    return -errno;
  return 0;
}
