// The program's engine, opened while the Go runtime starts.
//
// Opening an engine (Unicorn's machine, CPU and TCG set-up) takes 1.7 ms
// for AArch64 and 2.7 ms for ARM on this kind of machine, and the Go
// runtime's own start takes about 5 ms before xemu's first Go code runs:
// both on the main thread, one after the other, in every xemu started for a
// program. A constructor, which runs before the runtime, guesses the
// program's architecture from the command line and opens an engine for it
// on a thread of its own; cpu.Open takes it (xemu_take_preopened) and binds
// it to the program's address space. The guess is the first argument that
// is a regular file holding a little-endian ELF for AArch64 or ARM (or the
// one after "--", which is how one xemu executes the next), or the machine
// a zygote is started for. A wrong guess costs the other CPU's time only;
// its engine is closed when an engine of the same kind is opened for
// another architecture.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

enum {
  em_arm = 40,
  em_aarch64 = 183,
  // Arguments looked at, at most, before giving up the guess.
  max_candidates = 8,
};

// What a program's engine is opened with by default (cpu.Config with zero
// Model and CodeBuffer; trap bases from arch.go): cpu's tests compare them
// with the Go side's (xemu_preopen_params).
static const struct {
  int model;
  uint64_t trap_base;
} defaults[2] = {
    {UC_CPU_ARM64_MAX, 1ULL << 40},
    {UC_CPU_ARM_CORTEX_A15, 1ULL << 34},
};
static const uint32_t default_code_buffer = 512u << 20;

static struct {
  pthread_mutex_t lock;
  int arch; // -1: nothing opened
  pthread_t thread;
  int joined;
  xemu_engine *x;
} pre = {PTHREAD_MUTEX_INITIALIZER, -1};

void xemu_preopen_params(int arch, int *model, uint64_t *trap_base, uint32_t *code_buffer) {
  *model = defaults[arch].model;
  *trap_base = defaults[arch].trap_base;
  *code_buffer = default_code_buffer;
}

static int machine_arch(long machine) {
  if (machine == em_aarch64)
    return 0;
  if (machine == em_arm)
    return 1;
  return -1;
}

// elf_arch: 0 or 1 for an AArch64 or ARM ELF file at path, -1 otherwise.
// Only regular files are opened (a FIFO would block).
static int elf_arch(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return -1;
  unsigned char h[20];
  ssize_t n = pread(fd, h, sizeof h, 0);
  close(fd);
  if (n != sizeof h || memcmp(h, "\177ELF", 4) != 0 || h[5] != 1)
    return -1;
  int arch = machine_arch(h[18] | h[19] << 8);
  // The class must fit the machine: ELF64 AArch64, ELF32 ARM.
  if (arch < 0 || h[4] != (arch == 0 ? 2 : 1))
    return -1;
  return arch;
}

int xemu_preopen_guess(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "binfmt") || !strcmp(argv[1], "explain"))
    return -1;
  int candidates = 0;
  for (int i = 1; i < argc && candidates < max_candidates; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--zygote-machine") && i + 1 < argc)
      return machine_arch(strtol(argv[i + 1], 0, 10));
    if (!strncmp(a, "--zygote-machine=", 17))
      return machine_arch(strtol(a + 17, 0, 10));
    if (!strcmp(a, "--"))
      return i + 1 < argc ? elf_arch(argv[i + 1]) : -1;
    if (a[0] == '-')
      continue;
    int arch = elf_arch(a);
    if (arch >= 0)
      return arch;
    candidates++;
  }
  return -1;
}

static void *open_engine(void *arg) {
  (void)arg;
  uc_err err;
  // pre.arch is set before this thread starts and not changed until it is
  // joined.
  pre.x = xemu_open_unbound(pre.arch, defaults[pre.arch].model,
                            defaults[pre.arch].trap_base, default_code_buffer, &err);
  return NULL;
}

// Not through the wrapper (hostsig.c), whose first call marks the Go
// runtime's first thread.
int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

// After the other constructors (101-199): the descriptor table is grown, the
// C heap set up and the early signal handler installed while the process
// still has one thread.
__attribute__((constructor(200))) static void xemu_preopen(int argc, char **argv, char **envp) {
  (void)envp;
  int arch = xemu_preopen_guess(argc, argv);
  if (arch >= 0)
    xemu_preopen_start(arch);
}

// Engines taken from here (tests).
uint64_t xemu_preopen_taken;

void xemu_preopen_start(int arch) {
  pthread_mutex_lock(&pre.lock);
  if (pre.arch >= 0 && !pre.joined) {
    pthread_mutex_unlock(&pre.lock);
    return;
  }
  if (pre.x)
    xemu_close(pre.x);
  pre.arch = arch;
  pre.joined = 0;
  pre.x = NULL;
  // No signal is ever handled on this thread: it runs no Go code.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  if (__real_pthread_create(&pre.thread, 0, open_engine, 0) != 0)
    pre.arch = -1;
  pthread_sigmask(SIG_SETMASK, &old, 0);
  pthread_mutex_unlock(&pre.lock);
}

xemu_engine *xemu_take_preopened(int arch, int cpu_model, uint64_t trap_base,
                                 uint32_t code_buffer) {
  xemu_engine *x = NULL;
  pthread_mutex_lock(&pre.lock);
  if (pre.arch >= 0 && !pre.joined) {
    pthread_join(pre.thread, NULL);
    pre.joined = 1;
  }
  if (pre.x && pre.x->code_buffer == code_buffer) {
    if (pre.x->arch == arch && pre.x->cpu_model == cpu_model &&
        pre.x->trap_base == trap_base) {
      x = pre.x;
      __atomic_add_fetch(&xemu_preopen_taken, 1, __ATOMIC_RELAXED);
    } else { // the guess was wrong: this is the program's engine
      xemu_close(pre.x);
    }
    pre.x = NULL;
  }
  pthread_mutex_unlock(&pre.lock);
  return x;
}
