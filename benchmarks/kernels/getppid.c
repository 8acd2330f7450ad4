// getppid: system call round trips. Argument: how many getppid() calls, through
// syscall() so that libc cannot cache the answer.
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 2000000;
  long ok = 0;
  long ppid = syscall(SYS_getppid);
  for (long i = 0; i < n; i++)
    ok += syscall(SYS_getppid) == ppid;
  printf("calls %ld same %ld\n", n, ok);
  return 0;
}
