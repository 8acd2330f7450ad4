// GOMAXPROCS 1 from the runtime's start.
//
// xemu runs a single-threaded guest's Go side on one processor
// (syscall/kernel/procs.go). Lowering it with runtime.GOMAXPROCS once the
// runtime runs stops and restarts the world: 0.6 ms of every xemu's start
// on this kind of machine. The runtime reads GOMAXPROCS from the environment
// as it starts, from the process's initial environment block (not through
// the C library), so a constructor puts it there: it borrows an entry of the
// block, whose pointer it replaces with "GOMAXPROCS=1", and cpu's Go init
// gives the entry back (oneproc.go) before any other Go code reads the
// environment. Go's Setenv appends, so the init sets the borrowed entry and
// every one after it again, in order: the environment's order survives.
// The borrowed entry is the last one the runtime and xemu do not read
// themselves (GO*, XEMU_*), and it and those after it must each have a
// name, seen once in the block. Nothing is borrowed when GOMAXPROCS is set
// already.
#include <string.h>

char *xemu_borrowed_env;  // the entry given back
int xemu_borrowed_at = -1; // its index in the environment block

static char one_proc[] = "GOMAXPROCS=1";

// settable: entry at of envp has a name, which no other entry has (Go keeps
// the first of two, and setting the entry again would overwrite it).
static int settable(char **envp, int n, int at) {
  char *eq = strchr(envp[at], '=');
  if (!eq || eq == envp[at])
    return 0;
  size_t key = eq - envp[at] + 1;
  for (int i = 0; i < n; i++)
    if (i != at && !strncmp(envp[i], envp[at], key))
      return 0;
  return 1;
}

// The index of the entry of envp to borrow, or -1.
int xemu_env_to_borrow(char **envp) {
  if (!envp)
    return -1;
  int n = 0;
  for (; envp[n]; n++)
    if (!strncmp(envp[n], "GOMAXPROCS=", 11))
      return -1;
  for (int at = n - 1; at >= 0; at--) {
    if (!settable(envp, n, at))
      return -1;
    if (strncmp(envp[at], "GO", 2) && strncmp(envp[at], "XEMU_", 5))
      return at;
  }
  return -1;
}

__attribute__((constructor(140))) static void xemu_one_proc(int argc, char **argv, char **envp) {
  // Test binaries (go test) keep the runtime's choice: their tests run
  // engines on several threads at once.
  for (int i = 1; i < argc; i++)
    if (!strncmp(argv[i], "-test.", 6))
      return;
  int at = xemu_env_to_borrow(envp);
  if (at < 0)
    return;
  xemu_borrowed_env = envp[at];
  xemu_borrowed_at = at;
  envp[at] = one_proc;
}
