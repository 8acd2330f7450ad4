// Host signals caught for the guest. A C handler (no Go code may run in a
// signal handler installed behind the Go runtime's back) copies each signal's
// siginfo into a ring and wakes Go through a pipe.
#ifndef XEMU_HOSTSIG_H
#define XEMU_HOSTSIG_H

#include <signal.h>
#include <stdint.h>

#define XSIG_RING 256

typedef struct xemu_hostsig {
  int tid;               // the host thread that received it
  unsigned char info[128]; // the host's siginfo (x86-64: the generic 64-bit layout)
} xemu_hostsig;

// Installs the catching handler for sig; the previous handler is kept for
// faults of xemu itself (kernel-generated SIGSEGV, SIGBUS, SIGFPE, SIGILL,
// SIGTRAP), which go to it.
int xemu_catch_signal(int sig);
// Puts back the handler xemu_catch_signal replaced.
int xemu_release_signal(int sig);
void xemu_set_wake_fd(int fd);
// How the host treats this process's children as they end: 0 zombies until
// waited for, with SIGCHLD caught; 1 reaped at once, SIGCHLD caught
// (SA_NOCLDWAIT); 2 reaped at once, no SIGCHLD (SIG_IGN).
int xemu_child_reaping(int mode);
// Takes the oldest caught signal; 0 if there is none.
int xemu_next_hostsig(xemu_hostsig *out);
uint64_t xemu_hostsig_dropped(void);
// Interrupts a blocking system call of host thread tid with a signal the
// handler recognises and ignores (SIGURG sent by this process to itself):
// the call returns EINTR, since the handler is installed without SA_RESTART.
int xemu_kick_thread(int tid);
// Names the engine a caught signal stops at once (NULL: none).
void xemu_set_signal_target(void *engine);

// Whether this xemu started with every catchable signal blocked (a fork
// child, or an xemu a guest's execve started): the constructor then took the
// pending ones into the ring.
int xemu_started_blocked(void);
// Sets the calling thread's signal mask (all 64 signals) and returns the old.
uint64_t xemu_set_sigmask(uint64_t mask);
// Makes a signal with this siginfo (the host's layout) pending on the
// calling thread; -errno on failure.
int xemu_queue_self(int sig, const void *info);

#endif
