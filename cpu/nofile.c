// RLIMIT_NOFILE as xemu was started with: the guest's.
//
// Go's syscall package raises the soft limit to the hard limit less one as
// the program starts (syscall/rlimit.go init), keeps the original in an
// unexported variable and puts it back only in processes it starts itself.
// The guest must see, and be held to, the limit xemu was given, as it would
// be run natively, while xemu keeps descriptors of its own at 900 and above
// (syscall/kernel/hostfds.go), which a low soft limit would forbid. So the
// limit is saved here, before the runtime starts, and the soft limit raised
// to the hard one for xemu itself: the runtime then finds nothing to raise,
// and never sets the original back behind xemu's back (at an exec). xemu
// keeps the guest's limit itself (syscall/kernel/nofile.go). Priority 101,
// the first an application may use: before fdtable.c grows the table to
// 1024 entries, which a soft limit of 1024 or less would refuse.
#include <sys/resource.h>

static struct rlimit xemu_nofile_at_start;
static int xemu_nofile_saved;

__attribute__((constructor(101))) static void xemu_save_nofile(void) {
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return;
  xemu_nofile_at_start = lim;
  xemu_nofile_saved = 1;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

int xemu_start_nofile(unsigned long long *cur, unsigned long long *max) {
  if (!xemu_nofile_saved)
    return 0;
  *cur = xemu_nofile_at_start.rlim_cur;
  *max = xemu_nofile_at_start.rlim_max;
  return 1;
}
