// Growing the descriptor table while xemu starts.
//
// The kernel grows a process's descriptor table by doubling it, and once the
// table is shared by a second thread each growth waits for an RCU grace
// period (fs/file.c, expand_fdtable: synchronize_rcu() when files->count > 1):
// 4-6 ms each at 256, 512 and 1024 entries, measured. xemu keeps its own
// descriptors at 1000 and above (hostFDBase in syscall/kernel), so the table
// is grown to 1024 entries here, in a constructor, which runs before the Go
// runtime has started any thread of its own: one growth, no grace period.
#include <fcntl.h>
#include <unistd.h>

enum { xemu_fd_table_top = 1023 };

__attribute__((constructor(110))) static void xemu_grow_fd_table(void) {
  // Any open descriptor can be duplicated there; none open, no growth (the
  // runtime grows the table later, only more slowly).
  for (int fd = 0; fd < 3; fd++) {
    int top = fcntl(fd, F_DUPFD_CLOEXEC, xemu_fd_table_top);
    if (top >= 0) {
      close(top);
      return;
    }
  }
}
