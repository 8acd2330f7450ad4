// forkloop: fork+exit+wait. Arguments: how many forks, and how many MiB of
// memory the parent writes first (every page dirty, so a fork must keep a
// copy-on-write snapshot of all of it).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100;
  long mib = argc > 2 ? atol(argv[2]) : 0;
  char *mem = NULL;
  if (mib > 0) {
    mem = malloc(mib << 20);
    memset(mem, 1, mib << 20);
  }
  long ok = 0;
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid == 0)
      _exit(mem ? mem[(i * 4096) % (mib << 20)] : 1);
    int st;
    if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 1)
      ok++;
  }
  printf("forks %ld ok %ld\n", n, ok);
  return 0;
}
