// fork of a guest process: a raw clone of the whole host process whose child
// runs no Go code (only the forking thread survives a fork, so the Go runtime
// cannot go on there). The child saves the guest memory it must carry over
// into a memfd and executes a fresh xemu that restores it.
#ifndef XEMU_FORK_H
#define XEMU_FORK_H

#include <stdint.h>

// Which pages of a range the child saves.
enum {
  XSNAP_ANON = 0, // private anonymous memory: every page ever written
  XSNAP_FILE = 1, // private file mapping: the pages that are no longer the file's
  XSNAP_ALL = 2,  // every page (its file cannot be opened again)
};

typedef struct xemu_snap_range {
  uint64_t host; // first host byte
  uint64_t len;  // bytes, a multiple of the page size
  uint64_t off;  // where its first byte goes in the memfd
  int32_t mode;  // XSNAP_*
  int32_t pad;
} xemu_snap_range;

typedef struct xemu_fork_req {
  const xemu_snap_range *ranges;
  int32_t nranges;
  int32_t memfd;
  // Where the child writes the guest descriptors whose close-on-exec flag
  // it cleared so that they survive its exec (uint32 count, int32 each).
  uint64_t fdlist_off;
  int32_t nskip;
  const int32_t *skip; // descriptors that are not the guest's
  int32_t nkeep;
  // The host's /proc directory (O_PATH), or -1 where there is none (a
  // chroot without /proc): the child then saves pages without knowing which
  // were written, and finds the guest's descriptors by trying each number
  // below max_fd.
  int32_t proc_fd;
  const int32_t *keep; // xemu's own descriptors the next xemu takes over
  uint64_t clone_flags; // exit signal and namespace flags for the host clone
  const char *path;     // the xemu binary, when exe_fd is -1
  char *const *argv;
  char *const *envp;
  int32_t errfd;  // where the child reports a failure
  int32_t exe_fd; // a descriptor of the binary to execute (execveat), or -1
  int32_t max_fd;
  int32_t pad;
} xemu_fork_req;

// Returns the child's pid in the parent, or -errno. The child never returns.
int64_t xemu_fork(const xemu_fork_req *r);
// Saves the ranges into memfd from the calling process (0 or -errno).
int64_t xemu_save_ranges(const xemu_snap_range *ranges, int32_t n, int32_t memfd, int32_t proc_fd);

typedef struct xemu_spawn_req {
  int32_t exe_fd;  // the binary, executed with execveat(AT_EMPTY_PATH)
  int32_t null_fd; // what the new program gets as 0, 1 and 2
  int32_t keep_fd; // the one descriptor it inherits, as keep_at
  int32_t keep_at;
  char *const *argv;
  char *const *envp;
} xemu_spawn_req;

// Starts a program that inherits no descriptor of the caller's but
// keep_fd, and no copy of its memory (CLONE_VM|CLONE_VFORK). Returns its
// pid or -errno.
int64_t xemu_spawn(const xemu_spawn_req *r);
// Unblocks every signal of the calling thread (a fork child starts with all
// of them blocked, so none is lost before its handlers are in place).
void xemu_unblock_signals(void);

#endif
