// launch: runs a command in a child made by fork(2) and writes the child's
// peak resident set (ru_maxrss, KiB, from wait4) to file descriptor 3.
//
// The benchmarks need it because Go starts processes with
// clone(CLONE_VM|CLONE_VFORK): at execve the kernel folds the parent's
// high-water RSS into the child's ru_maxrss (setmax_mm_hiwater_rss in
// exec_mmap), so every program started from the Go test binary would report
// at least the test binary's own peak. A fork from this small static program
// carries a few hundred KiB instead, the same for every emulator.
//   launch PROGRAM [ARG]...   (built for the host, -static)
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: launch PROGRAM [ARG]...\n");
    return 2;
  }
  fcntl(3, F_SETFD, FD_CLOEXEC);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 125;
  }
  if (pid == 0) {
    execv(argv[1], argv + 1);
    perror(argv[1]);
    _exit(127);
  }
  // A kill of launch (the run's time limit) goes to its process group.
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) {
    perror("wait4");
    return 125;
  }
  dprintf(3, "%ld\n", ru.ru_maxrss);
  if (WIFSIGNALED(status)) {
    // The same way out as the child, without a core file.
    struct rlimit no = {0, 0};
    setrlimit(RLIMIT_CORE, &no);
    signal(WTERMSIG(status), SIG_DFL);
    raise(WTERMSIG(status));
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}
