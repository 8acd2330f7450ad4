// sysfuzz: random system calls with random arguments, for xemu's fuzz test
// (tests/fuzz_test.go). Run under xemu only: it checks the emulator, not Linux.
//
//   sysfuzz SEED SECONDS [BATCH]
//
// The parent forks one child per batch (so a call that blocks or kills ends
// only that child) and gives each batch its own seed, SEED*1000003+BATCH;
// with BATCH, only that batch runs, which is how a failure is reproduced.
// A child runs CALLS calls from the table below (on two threads at once in
// odd batches), each argument drawn by its kind: small and huge numbers, -1,
// pointers into writable memory, into a read-only canary, into code, into
// guard pages and unmapped memory, near the end of the address space, lengths
// that wrap; signal handlers that run and return, alternate stacks anywhere.
// After every call it checks what the call could not have changed: every
// register but the result, the thread pointer, the canary (read-only, so no
// call may write it), and every so often the program's code and
// /proc/self/maps (in order, the canary and the code still mapped as they
// were). A broken check ends the child with status 3 and a report in memory
// shared with the parent; any other exit status is the emulator's (a Go
// panic exits 2), also a failure. A child killed by a signal, or one still
// running at the batch's deadline, is only counted.
//
// Safety: we may run as root, and the calls are real. Paths are relative
// names without "..", run in the scratch directory the test gives as the
// working directory; absolute paths (a fixed set) go only to calls that
// read, opened read-only. A descriptor given to a call that changes a
// file's metadata is one of the scratch directory's files, a pipe or a
// socket. Process IDs are always our own (or none that exists), sockets are
// AF_UNIX with names we build, System V IPC objects are private and ours
// (removed by the parent after each batch), and nothing that mounts,
// reboots, sets the clock, loads modules, traces, executes, or makes new
// processes is called at all. Calls that change mappings never touch what was
// mapped when the child started.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CALLS 200       // calls per batch
#define BATCH_MS 1000   // a batch still running then is killed
#define MAXIPC 32

typedef unsigned long ulong;

struct call {
	long nr;
	const char *name;
	const char *kinds;
};

#define C(n, k) {SYS_##n, #n, k},
static const struct call table[] = {
#ifdef SYS_read
	C(read, "fpl")
#endif
#ifdef SYS_write
	C(write, "fpl")
#endif
#ifdef SYS_pread64
	C(pread64, "fpli")
#endif
#ifdef SYS_pwrite64
	C(pwrite64, "fpli")
#endif
#ifdef SYS_readv
	C(readv, "fvi")
#endif
#ifdef SYS_writev
	C(writev, "fvi")
#endif
#ifdef SYS_preadv
	C(preadv, "fvlii")
#endif
#ifdef SYS_pwritev
	C(pwritev, "fvlii")
#endif
#ifdef SYS_preadv2
	C(preadv2, "fvliix")
#endif
#ifdef SYS_pwritev2
	C(pwritev2, "fvliix")
#endif
#ifdef SYS_open
	C(open, "Rxi")
#endif
#ifdef SYS_openat
	C(openat, "dRxi")
#endif
#ifdef SYS_openat2
	C(openat2, "dRpl")
#endif
#ifdef SYS_creat
	C(creat, "Wi")
#endif
#ifdef SYS_close
	C(close, "f")
#endif
#ifdef SYS_close_range
	C(close_range, "ffx")
#endif
#ifdef SYS_lseek
	C(lseek, "fii")
#endif
#ifdef SYS__llseek
	C(_llseek, "fiipi")
#endif
#ifdef SYS_dup
	C(dup, "f")
#endif
#ifdef SYS_dup2
	C(dup2, "ff")
#endif
#ifdef SYS_dup3
	C(dup3, "ffx")
#endif
#ifdef SYS_fcntl
	C(fcntl, "fig")
#endif
#ifdef SYS_fcntl64
	C(fcntl64, "fig")
#endif
#ifdef SYS_ioctl
	C(ioctl, "Mig")
#endif
#ifdef SYS_stat
	C(stat, "Rp")
#endif
#ifdef SYS_lstat
	C(lstat, "Rp")
#endif
#ifdef SYS_fstat
	C(fstat, "fp")
#endif
#ifdef SYS_newfstatat
	C(newfstatat, "dRpx")
#endif
#ifdef SYS_fstatat64
	C(fstatat64, "dRpx")
#endif
#ifdef SYS_stat64
	C(stat64, "Rp")
#endif
#ifdef SYS_lstat64
	C(lstat64, "Rp")
#endif
#ifdef SYS_fstat64
	C(fstat64, "fp")
#endif
#ifdef SYS_statx
	C(statx, "dRxxp")
#endif
#ifdef SYS_statfs
	C(statfs, "Rp")
#endif
#ifdef SYS_statfs64
	C(statfs64, "Rlp")
#endif
#ifdef SYS_fstatfs
	C(fstatfs, "fp")
#endif
#ifdef SYS_fstatfs64
	C(fstatfs64, "flp")
#endif
#ifdef SYS_access
	C(access, "Ri")
#endif
#ifdef SYS_faccessat
	C(faccessat, "dRi")
#endif
#ifdef SYS_faccessat2
	C(faccessat2, "dRix")
#endif
#ifdef SYS_readlink
	C(readlink, "Rpl")
#endif
#ifdef SYS_readlinkat
	C(readlinkat, "dRpl")
#endif
#ifdef SYS_getdents
	C(getdents, "fpl")
#endif
#ifdef SYS_getdents64
	C(getdents64, "fpl")
#endif
#ifdef SYS_mkdir
	C(mkdir, "Wi")
#endif
#ifdef SYS_mkdirat
	C(mkdirat, "dWi")
#endif
#ifdef SYS_rmdir
	C(rmdir, "W")
#endif
#ifdef SYS_unlink
	C(unlink, "W")
#endif
#ifdef SYS_unlinkat
	C(unlinkat, "dWx")
#endif
#ifdef SYS_rename
	C(rename, "WW")
#endif
#ifdef SYS_renameat
	C(renameat, "dWdW")
#endif
#ifdef SYS_renameat2
	C(renameat2, "dWdWx")
#endif
#ifdef SYS_link
	C(link, "WW")
#endif
#ifdef SYS_linkat
	C(linkat, "dWdWx")
#endif
#ifdef SYS_symlink
	C(symlink, "WW")
#endif
#ifdef SYS_symlinkat
	C(symlinkat, "WdW")
#endif
#ifdef SYS_chmod
	C(chmod, "Wi")
#endif
#ifdef SYS_fchmod
	C(fchmod, "Mi")
#endif
#ifdef SYS_fchmodat
	C(fchmodat, "dWi")
#endif
#ifdef SYS_fchmodat2
	C(fchmodat2, "dWix")
#endif
#ifdef SYS_chown
	C(chown, "Wii")
#endif
#ifdef SYS_lchown
	C(lchown, "Wii")
#endif
#ifdef SYS_fchown
	C(fchown, "Mii")
#endif
#ifdef SYS_fchownat
	C(fchownat, "dWiix")
#endif
#ifdef SYS_chown32
	C(chown32, "Wii")
#endif
#ifdef SYS_lchown32
	C(lchown32, "Wii")
#endif
#ifdef SYS_fchown32
	C(fchown32, "Mii")
#endif
#ifdef SYS_truncate
	C(truncate, "Wl")
#endif
#ifdef SYS_ftruncate
	C(ftruncate, "fl")
#endif
#ifdef SYS_truncate64
	C(truncate64, "Wiii")
#endif
#ifdef SYS_ftruncate64
	C(ftruncate64, "fiii")
#endif
#ifdef SYS_fallocate
	C(fallocate, "fxln")
#endif
#ifdef SYS_utimensat
	C(utimensat, "dWpx")
#endif
#ifdef SYS_utimes
	C(utimes, "Wp")
#endif
#ifdef SYS_utime
	C(utime, "Wp")
#endif
#ifdef SYS_futimesat
	C(futimesat, "dWp")
#endif
#ifdef SYS_chdir
	C(chdir, "W")
#endif
#ifdef SYS_fchdir
	C(fchdir, "M")
#endif
#ifdef SYS_getcwd
	C(getcwd, "pl")
#endif
#ifdef SYS_sync
	C(sync, "")
#endif
#ifdef SYS_syncfs
	C(syncfs, "f")
#endif
#ifdef SYS_fsync
	C(fsync, "f")
#endif
#ifdef SYS_fdatasync
	C(fdatasync, "f")
#endif
#ifdef SYS_sync_file_range
	C(sync_file_range, "fllx")
#endif
#ifdef SYS_arm_sync_file_range
	C(arm_sync_file_range, "fxll")
#endif
#ifdef SYS_flock
	C(flock, "fx")
#endif
#ifdef SYS_pipe
	C(pipe, "p")
#endif
#ifdef SYS_pipe2
	C(pipe2, "px")
#endif
#ifdef SYS_mmap
	C(mmap, "anxxfl")
#endif
#ifdef SYS_mmap2
	C(mmap2, "anxxfl")
#endif
#ifdef SYS_munmap
	C(munmap, "an")
#endif
#ifdef SYS_mprotect
	C(mprotect, "anx")
#endif
#ifdef SYS_mremap
	C(mremap, "annxa")
#endif
#ifdef SYS_madvise
	C(madvise, "anx")
#endif
#ifdef SYS_msync
	C(msync, "anx")
#endif
#ifdef SYS_mincore
	C(mincore, "anp")
#endif
#ifdef SYS_mlock
	C(mlock, "an")
#endif
#ifdef SYS_munlock
	C(munlock, "an")
#endif
#ifdef SYS_mlockall
	C(mlockall, "x")
#endif
#ifdef SYS_munlockall
	C(munlockall, "")
#endif
#ifdef SYS_mlock2
	C(mlock2, "anx")
#endif
#ifdef SYS_brk
	C(brk, "a")
#endif
#ifdef SYS_getpid
	C(getpid, "")
#endif
#ifdef SYS_gettid
	C(gettid, "")
#endif
#ifdef SYS_getppid
	C(getppid, "")
#endif
#ifdef SYS_getuid
	C(getuid, "")
#endif
#ifdef SYS_geteuid
	C(geteuid, "")
#endif
#ifdef SYS_getgid
	C(getgid, "")
#endif
#ifdef SYS_getegid
	C(getegid, "")
#endif
#ifdef SYS_getuid32
	C(getuid32, "")
#endif
#ifdef SYS_geteuid32
	C(geteuid32, "")
#endif
#ifdef SYS_getgid32
	C(getgid32, "")
#endif
#ifdef SYS_getegid32
	C(getegid32, "")
#endif
#ifdef SYS_getpgid
	C(getpgid, "k")
#endif
#ifdef SYS_getpgrp
	C(getpgrp, "")
#endif
#ifdef SYS_getsid
	C(getsid, "k")
#endif
#ifdef SYS_setuid
	C(setuid, "i")
#endif
#ifdef SYS_setgid
	C(setgid, "i")
#endif
#ifdef SYS_setreuid
	C(setreuid, "ii")
#endif
#ifdef SYS_setregid
	C(setregid, "ii")
#endif
#ifdef SYS_setresuid
	C(setresuid, "iii")
#endif
#ifdef SYS_setresgid
	C(setresgid, "iii")
#endif
#ifdef SYS_getresuid
	C(getresuid, "ppp")
#endif
#ifdef SYS_getresgid
	C(getresgid, "ppp")
#endif
#ifdef SYS_setfsuid
	C(setfsuid, "i")
#endif
#ifdef SYS_setfsgid
	C(setfsgid, "i")
#endif
#ifdef SYS_setuid32
	C(setuid32, "i")
#endif
#ifdef SYS_setgid32
	C(setgid32, "i")
#endif
#ifdef SYS_setresuid32
	C(setresuid32, "iii")
#endif
#ifdef SYS_getresuid32
	C(getresuid32, "ppp")
#endif
#ifdef SYS_getgroups
	C(getgroups, "lp")
#endif
#ifdef SYS_setgroups
	C(setgroups, "lp")
#endif
#ifdef SYS_getgroups32
	C(getgroups32, "lp")
#endif
#ifdef SYS_setgroups32
	C(setgroups32, "lp")
#endif
#ifdef SYS_setpgid
	C(setpgid, "kk")
#endif
#ifdef SYS_setsid
	C(setsid, "")
#endif
#ifdef SYS_kill
	C(kill, "ks")
#endif
#ifdef SYS_tkill
	C(tkill, "ts")
#endif
#ifdef SYS_tgkill
	C(tgkill, "kts")
#endif
#ifdef SYS_rt_sigqueueinfo
	C(rt_sigqueueinfo, "ksp")
#endif
#ifdef SYS_rt_tgsigqueueinfo
	C(rt_tgsigqueueinfo, "ktsp")
#endif
#ifdef SYS_rt_sigaction
	C(rt_sigaction, "sppl")
#endif
#ifdef SYS_rt_sigprocmask
	C(rt_sigprocmask, "ippl")
#endif
#ifdef SYS_rt_sigpending
	C(rt_sigpending, "pl")
#endif
#ifdef SYS_rt_sigtimedwait
	C(rt_sigtimedwait, "pppl")
#endif
#ifdef SYS_rt_sigsuspend
	C(rt_sigsuspend, "pl")
#endif
#ifdef SYS_sigaltstack
	C(sigaltstack, "pp")
#endif
#ifdef SYS_nanosleep
	C(nanosleep, "pp")
#endif
#ifdef SYS_clock_nanosleep
	C(clock_nanosleep, "ixpp")
#endif
#ifdef SYS_clock_gettime
	C(clock_gettime, "ip")
#endif
#ifdef SYS_clock_getres
	C(clock_getres, "ip")
#endif
#ifdef SYS_clock_gettime64
	C(clock_gettime64, "ip")
#endif
#ifdef SYS_clock_nanosleep_time64
	C(clock_nanosleep_time64, "ixpp")
#endif
#ifdef SYS_gettimeofday
	C(gettimeofday, "pp")
#endif
#ifdef SYS_time
	C(time, "p")
#endif
#ifdef SYS_times
	C(times, "p")
#endif
#ifdef SYS_getitimer
	C(getitimer, "ip")
#endif
#ifdef SYS_setitimer
	C(setitimer, "ipp")
#endif
#ifdef SYS_alarm
	C(alarm, "i")
#endif
#ifdef SYS_timer_create
	C(timer_create, "ipp")
#endif
#ifdef SYS_timer_settime
	C(timer_settime, "ixpp")
#endif
#ifdef SYS_timer_gettime
	C(timer_gettime, "ip")
#endif
#ifdef SYS_timer_getoverrun
	C(timer_getoverrun, "i")
#endif
#ifdef SYS_timer_delete
	C(timer_delete, "i")
#endif
#ifdef SYS_timerfd_create
	C(timerfd_create, "ix")
#endif
#ifdef SYS_timerfd_settime
	C(timerfd_settime, "fxpp")
#endif
#ifdef SYS_timerfd_gettime
	C(timerfd_gettime, "fp")
#endif
#ifdef SYS_getrlimit
	C(getrlimit, "ip")
#endif
#ifdef SYS_ugetrlimit
	C(ugetrlimit, "ip")
#endif
#ifdef SYS_setrlimit
	C(setrlimit, "ip")
#endif
#ifdef SYS_prlimit64
	C(prlimit64, "kipp")
#endif
#ifdef SYS_getrusage
	C(getrusage, "ip")
#endif
#ifdef SYS_uname
	C(uname, "p")
#endif
#ifdef SYS_sysinfo
	C(sysinfo, "p")
#endif
#ifdef SYS_getrandom
	C(getrandom, "plx")
#endif
#ifdef SYS_umask
	C(umask, "i")
#endif
#ifdef SYS_prctl
	C(prctl, "iiiii")
#endif
#ifdef SYS_personality
	C(personality, "i")
#endif
#ifdef SYS_sched_yield
	C(sched_yield, "")
#endif
#ifdef SYS_sched_getaffinity
	C(sched_getaffinity, "klp")
#endif
#ifdef SYS_sched_setaffinity
	C(sched_setaffinity, "klp")
#endif
#ifdef SYS_sched_getparam
	C(sched_getparam, "kp")
#endif
#ifdef SYS_sched_getscheduler
	C(sched_getscheduler, "k")
#endif
#ifdef SYS_sched_get_priority_max
	C(sched_get_priority_max, "i")
#endif
#ifdef SYS_sched_get_priority_min
	C(sched_get_priority_min, "i")
#endif
#ifdef SYS_sched_rr_get_interval
	C(sched_rr_get_interval, "kp")
#endif
#ifdef SYS_sched_getattr
	C(sched_getattr, "kplx")
#endif
#ifdef SYS_getpriority
	C(getpriority, "ik")
#endif
#ifdef SYS_setpriority
	C(setpriority, "iki")
#endif
#ifdef SYS_wait4
	C(wait4, "kpxp")
#endif
#ifdef SYS_waitid
	C(waitid, "ikpxp")
#endif
#ifdef SYS_socket
	C(socket, "iii")
#endif
#ifdef SYS_socketpair
	C(socketpair, "iiip")
#endif
#ifdef SYS_bind
	C(bind, "fui")
#endif
#ifdef SYS_connect
	C(connect, "fui")
#endif
#ifdef SYS_listen
	C(listen, "fi")
#endif
#ifdef SYS_accept
	C(accept, "fpp")
#endif
#ifdef SYS_accept4
	C(accept4, "fppx")
#endif
#ifdef SYS_getsockname
	C(getsockname, "fpp")
#endif
#ifdef SYS_getpeername
	C(getpeername, "fpp")
#endif
#ifdef SYS_sendto
	C(sendto, "fplxui")
#endif
#ifdef SYS_recvfrom
	C(recvfrom, "fplxpp")
#endif
#ifdef SYS_sendmsg
	C(sendmsg, "fhx")
#endif
#ifdef SYS_recvmsg
	C(recvmsg, "fhx")
#endif
#ifdef SYS_recvmmsg
	C(recvmmsg, "fplxp")
#endif
#ifdef SYS_shutdown
	C(shutdown, "fi")
#endif
#ifdef SYS_setsockopt
	C(setsockopt, "fiipl")
#endif
#ifdef SYS_getsockopt
	C(getsockopt, "fiipp")
#endif
#ifdef SYS_poll
	C(poll, "pli")
#endif
#ifdef SYS_ppoll
	C(ppoll, "plppl")
#endif
#ifdef SYS_ppoll_time64
	C(ppoll_time64, "plppl")
#endif
#ifdef SYS_select
	C(select, "ipppp")
#endif
#ifdef SYS__newselect
	C(_newselect, "ipppp")
#endif
#ifdef SYS_pselect6
	C(pselect6, "ipppppp")
#endif
#ifdef SYS_pselect6_time64
	C(pselect6_time64, "ipppppp")
#endif
#ifdef SYS_epoll_create
	C(epoll_create, "i")
#endif
#ifdef SYS_epoll_create1
	C(epoll_create1, "x")
#endif
#ifdef SYS_epoll_ctl
	C(epoll_ctl, "fifp")
#endif
#ifdef SYS_epoll_wait
	C(epoll_wait, "fpli")
#endif
#ifdef SYS_epoll_pwait
	C(epoll_pwait, "fplipl")
#endif
#ifdef SYS_epoll_pwait2
	C(epoll_pwait2, "fplppl")
#endif
#ifdef SYS_eventfd
	C(eventfd, "i")
#endif
#ifdef SYS_eventfd2
	C(eventfd2, "ix")
#endif
#ifdef SYS_signalfd
	C(signalfd, "fpl")
#endif
#ifdef SYS_signalfd4
	C(signalfd4, "fplx")
#endif
#ifdef SYS_inotify_init
	C(inotify_init, "")
#endif
#ifdef SYS_inotify_init1
	C(inotify_init1, "x")
#endif
#ifdef SYS_inotify_add_watch
	C(inotify_add_watch, "fRx")
#endif
#ifdef SYS_inotify_rm_watch
	C(inotify_rm_watch, "fi")
#endif
#ifdef SYS_memfd_create
	C(memfd_create, "px")
#endif
#ifdef SYS_futex
	C(futex, "pxippi")
#endif
#ifdef SYS_futex_time64
	C(futex_time64, "pxippi")
#endif
#ifdef SYS_set_robust_list
	C(set_robust_list, "pl")
#endif
#ifdef SYS_get_robust_list
	C(get_robust_list, "kpp")
#endif
#ifdef SYS_set_tid_address
	C(set_tid_address, "p")
#endif
#ifdef SYS_futex_waitv
	C(futex_waitv, "plxpi")
#endif
#ifdef SYS_sendfile
	C(sendfile, "ffpl")
#endif
#ifdef SYS_sendfile64
	C(sendfile64, "ffpl")
#endif
#ifdef SYS_splice
	C(splice, "fpfplx")
#endif
#ifdef SYS_tee
	C(tee, "fflx")
#endif
#ifdef SYS_vmsplice
	C(vmsplice, "fvlx")
#endif
#ifdef SYS_copy_file_range
	C(copy_file_range, "fpfplx")
#endif
#ifdef SYS_fadvise64
	C(fadvise64, "flli")
#endif
#ifdef SYS_fadvise64_64
	C(fadvise64_64, "flli")
#endif
#ifdef SYS_arm_fadvise64_64
	C(arm_fadvise64_64, "fill")
#endif
#ifdef SYS_readahead
	C(readahead, "fll")
#endif
#ifdef SYS_getxattr
	C(getxattr, "Rppl")
#endif
#ifdef SYS_lgetxattr
	C(lgetxattr, "Rppl")
#endif
#ifdef SYS_fgetxattr
	C(fgetxattr, "fppl")
#endif
#ifdef SYS_listxattr
	C(listxattr, "Rpl")
#endif
#ifdef SYS_llistxattr
	C(llistxattr, "Rpl")
#endif
#ifdef SYS_flistxattr
	C(flistxattr, "fpl")
#endif
#ifdef SYS_setxattr
	C(setxattr, "Wppli")
#endif
#ifdef SYS_lsetxattr
	C(lsetxattr, "Wppli")
#endif
#ifdef SYS_fsetxattr
	C(fsetxattr, "Mppli")
#endif
#ifdef SYS_removexattr
	C(removexattr, "Wp")
#endif
#ifdef SYS_lremovexattr
	C(lremovexattr, "Wp")
#endif
#ifdef SYS_fremovexattr
	C(fremovexattr, "Mp")
#endif
#ifdef SYS_shmget
	C(shmget, "Knx")
#endif
#ifdef SYS_shmat
	C(shmat, "qax")
#endif
#ifdef SYS_shmdt
	C(shmdt, "a")
#endif
#ifdef SYS_shmctl
	C(shmctl, "qip")
#endif
#ifdef SYS_semget
	C(semget, "Kix")
#endif
#ifdef SYS_semop
	C(semop, "qpl")
#endif
#ifdef SYS_semtimedop
	C(semtimedop, "qplp")
#endif
#ifdef SYS_semctl
	C(semctl, "qiip")
#endif
#ifdef SYS_msgget
	C(msgget, "Kx")
#endif
#ifdef SYS_msgsnd
	C(msgsnd, "qplx")
#endif
#ifdef SYS_msgrcv
	C(msgrcv, "qplix")
#endif
#ifdef SYS_msgctl
	C(msgctl, "qip")
#endif
#ifdef SYS_capget
	C(capget, "pp")
#endif
#ifdef SYS_capset
	C(capset, "pp")
#endif
#ifdef SYS_getcpu
	C(getcpu, "ppp")
#endif
#ifdef SYS_membarrier
	C(membarrier, "xxi")
#endif
#ifdef SYS_rseq
	C(rseq, "plip")
#endif
#ifdef SYS_process_vm_readv
	C(process_vm_readv, "kvlvlx")
#endif
#ifdef SYS_process_vm_writev
	C(process_vm_writev, "kvlvlx")
#endif
#ifdef SYS_pidfd_open
	C(pidfd_open, "kx")
#endif
#ifdef SYS_pidfd_send_signal
	C(pidfd_send_signal, "fspx")
#endif
#ifdef SYS_pidfd_getfd
	C(pidfd_getfd, "ffx")
#endif
#ifdef SYS_kcmp
	C(kcmp, "kkiii")
#endif
#ifdef SYS_io_setup
	C(io_setup, "ip")
#endif
#ifdef SYS_io_destroy
	C(io_destroy, "i")
#endif
#ifdef SYS_io_submit
	C(io_submit, "ilp")
#endif
#ifdef SYS_io_getevents
	C(io_getevents, "illpp")
#endif
#ifdef SYS_io_cancel
	C(io_cancel, "ipp")
#endif
};
#undef C
#define NCALLS (sizeof table / sizeof table[0])

// ---- random numbers: splitmix64, one stream per batch ----
static __thread uint64_t rng;
static uint64_t rnd64(void) {
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static ulong rnd(void) { return (ulong)rnd64(); }
static ulong below(ulong n) { return n ? rnd() % n : 0; }

// ---- what the parent and the children share ----
struct report {
	long batch;
	struct {
		long idx, nr, ret; // the call made last, or being made
		ulong args[6];
	} t[2]; // per thread
	char msg[1024];
	int shm[MAXIPC], sem[MAXIPC], msq[MAXIPC];
	int nshm, nsem, nmsq;
};
static struct report *rep;

// ---- the child's memory ----
#define PAGE 4096UL
#define POOL (64 * 1024UL)
#define CANARY (4 * PAGE)
#define PLAY (1024 * 1024UL)
#define HOLE (64 * 1024UL)
#define BUILD (8 * 1024UL) // the pool's last bytes hold what arguments point to, per thread
#define MAXLEN (64UL << 20) // the largest length of memory a call may map

#if ULONG_MAX > 0xffffffffUL
#define SPACE (1UL << 48)
#else
#define SPACE 0xf0000000UL
#endif

static char *pool, *canary, *play, *hole;
static ulong code_lo, code_hi, brk0;
static uint64_t canary_sum, code_sum;
static int scratch_dev;

struct range {
	ulong lo, hi;
	int writable;
};
static struct range prot[512]; // what was mapped when the child started
static int nprot;

static uint64_t sum(const void *p, ulong n) {
	const uint64_t *w = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (ulong i = 0; i < n / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h;
}

// overlaps: [lo, lo+n) touches something mapped at the start (a length that
// wraps touches everything).
static int overlaps(ulong lo, ulong n, int writableOnly) {
	ulong hi = lo + ((n + PAGE - 1) & ~(PAGE - 1));
	if (hi < lo || (n && hi == lo))
		return 1;
	for (int i = 0; i < nprot; i++)
		if ((!writableOnly || prot[i].writable) && lo < prot[i].hi && hi > prot[i].lo)
			return 1;
	return 0;
}

static void readMaps(void) {
	static char buf[64 * 1024];
	int fd = open("/proc/self/maps", O_RDONLY);
	long n = 0, r;
	while (fd >= 0 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	for (char *l = buf; *l && nprot < 512;) {
		unsigned long lo, hi;
		char perms[8] = "";
		if (sscanf(l, "%lx-%lx %7s", &lo, &hi, perms) == 3) {
			// The playground is left out (it may have merged with a neighbour).
			ulong p0 = (ulong)play, p1 = p0 + PLAY;
			if (lo < p0 && nprot < 512)
				prot[nprot++] = (struct range){lo, hi < p0 ? hi : p0, perms[1] == 'w'};
			if (hi > p1 && nprot < 512)
				prot[nprot++] = (struct range){lo > p1 ? lo : p1, hi, perms[1] == 'w'};
			if (perms[2] == 'x' && (ulong)&readMaps >= lo && (ulong)&readMaps < hi)
				code_lo = lo, code_hi = hi;
		}
		char *e = strchr(l, '\n');
		if (!e)
			break;
		l = e + 1;
	}
}

// ---- arguments ----
static const ulong ends[] = {
#if ULONG_MAX > 0xffffffffUL
	(1UL << 48) - 1, (1UL << 48) - 8, (1UL << 48) - PAGE, (1UL << 47) - 8, 0xffffffffffff0000UL,
	-1UL, -PAGE, 1UL << 63, 0xffffffffUL, 1UL << 32,
#else
	0xffffffffUL, 0xfffffff8UL, 0xfffff000UL, 0xffff0000UL, 0xffff0fe0UL, 0xbffff000UL, 0xc0000000UL,
	0x7ffffff8UL, 0xffff1000UL,
#endif
};
#define NENDS (sizeof ends / sizeof ends[0])

static ulong pickInt(void) {
	switch (below(12)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return -1UL;
	case 3: return below(16);
	case 4: return below(4096);
	case 5: return 0x7fffffff;
	case 6: return (ulong)(long)(int)0x80000000;
	case 7: return 1UL << 31;
	case 8: return rnd();
	case 9: return 1UL << below(8 * sizeof(ulong));
	case 10: return -below(4096);
	default: return below(256);
	}
}

static ulong pickFlags(void) {
	switch (below(6)) {
	case 0: return 0;
	case 1: return rnd() & rnd();
	case 2: return 1UL << below(32);
	case 3: return rnd();
	default: return below(16);
	}
}

static ulong pickLen(void) {
	switch (below(14)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return below(64);
	case 3: return below(4096);
	case 4: return PAGE;
	case 5: return POOL;
	case 6: return POOL + 1;
	case 7: return -1UL;
	case 8: return -1UL >> 1;
	case 9: return 1UL << 31;
	case 10: return -PAGE;
	case 11: return 1UL << below(8 * sizeof(ulong));
	case 12: return -below(PAGE);
	default: return below(1024);
	}
}

// randomAddr: any number, but none inside memory the child itself writes
// (its stack, data, heap and the report), where a call writing through it
// would change the fuzzer rather than test the emulator.
static ulong randomAddr(void) {
	ulong a = rnd();
	return overlaps(a & ~(PAGE - 1), PAGE, 1) ? (ulong)hole + below(HOLE) : a;
}

static ulong pickPtr(void) {
	switch (below(16)) {
	case 0: return 0;
	case 1: case 2: case 3: case 4: return (ulong)pool + below(POOL);
	case 5: return (ulong)pool + 8 * below(POOL / 8);
	case 6: return (ulong)pool + POOL - below(32); // runs into the guard page
	case 7: return (ulong)canary + below(CANARY);
	case 8: return code_lo + below(code_hi - code_lo);
	case 9: return (ulong)pool - below(PAGE); // the guard page below
	case 10: return (ulong)hole + below(HOLE);
	case 11: return ends[below(NENDS)];
	case 12: return randomAddr();
	case 13: return (ulong)play + below(PLAY);
	case 14: return below(0x10000);
	default: return (ulong)pool + 8 * below(POOL / 64);
	}
}

// The builder area: what pointer arguments made here point to.
static __thread ulong buildAt;
static __thread int slot; // which thread: 0 or 1
static char *build(ulong n) {
	if (n > BUILD)
		n = BUILD;
	if (buildAt + n > BUILD)
		buildAt = 0;
	char *p = pool + POOL - BUILD * (slot + 1) + buildAt;
	buildAt += (n + 15) & ~15UL;
	return p;
}

static const char *relPaths[] = {"a", "b", "d", "d/e", "d/e/f", "l", "d/l", ".", "", "x/y/z", "a/", "d/.", "s1", "d/s2"};
static const char *absPaths[] = {"/dev/null", "/dev/zero", "/proc/self/maps", "/proc/self/status", "/proc/self/mem",
	"/proc/self/exe", "/proc/self/cmdline", "/proc/self/stat", "/proc/cpuinfo", "/nonexistent/a", "/proc/self/fd/0"};
#define N(a) (sizeof a / sizeof a[0])

static ulong putString(const char *s) {
	ulong n = strlen(s) + 1;
	char *p = build(n);
	memcpy(p, s, n);
	return (ulong)p;
}

static ulong pickPath(int absolute) {
	ulong r = below(20);
	if (r < 12)
		return putString(relPaths[below(N(relPaths))]);
	if (r < 16 && absolute)
		return putString(absPaths[below(N(absPaths))]);
	if (r == 16) {
		// A name that runs into the guard page: EFAULT, or ENAMETOOLONG.
		char *p = pool + POOL - 1 - below(8);
		memset(p, 'a', pool + POOL - p);
		return (ulong)p;
	}
	if (r == 17) {
		char *p = build(300);
		memset(p, 'n', 299);
		p[299] = 0;
		return (ulong)p;
	}
	if (r == 18) {
		char *p = build(BUILD);
		for (ulong i = 0; i < BUILD - 1; i++)
			p[i] = i % 3 == 2 ? '/' : 'd';
		p[BUILD - 1] = 0;
		return (ulong)p;
	}
	switch (below(4)) {
	case 0: return 0;
	case 1: return (ulong)canary + below(CANARY); // readable, no NUL for a while
	case 2: return (ulong)hole;
	default: return ends[below(NENDS)];
	}
}

static ulong pickFD(void) {
	switch (below(12)) {
	case 0: return -1UL;
	case 1: return (ulong)AT_FDCWD;
	case 2: return 1023;
	case 3: return 65535;
	case 4: return 0x7fffffff;
	case 5: return rnd();
	default: return 3 + below(30);
	}
}

// safeFD: a descriptor a call that changes a file's metadata may get: one of
// the scratch directory's, a pipe or a socket, or one that is not open.
static ulong safeFD(ulong fd) {
	struct stat st;
	if ((long)fd < 0 || (long)fd > 0x7fffffff || fstat((int)fd, &st) != 0)
		return fd;
	if ((int)st.st_dev == scratch_dev || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return fd;
	return -1UL;
}

static ulong pickFDArg(void) {
	ulong fd = pickFD();
	return fd <= 2 ? fd + 3 : fd;
}

static ulong pickPid(void) {
	switch (below(5)) {
	case 0: return 0;
	case 1: return -(ulong)getpid(); // our own process group
	case 2: return 0x3ffffff0;        // above any pid_max: no such process
	default: return getpid();
	}
}

static ulong pickTid(void) {
	switch (below(5)) {
	case 0: return getpid();
	case 1: return 0x3ffffff0;
	case 2: return -5UL;
	default: return syscall(SYS_gettid);
	}
}

// pickSignal: mostly signals the child survives (none, handled, ignored by
// default), so that batches run their course.
static ulong pickSignal(void) {
	static const int mild[] = {0, 0, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGWINCH, SIGURG, SIGCONT};
	switch (below(10)) {
	case 0: return below(65);
	case 1: return pickInt();
	default: return mild[below(N(mild))];
	}
}

static ulong pickSockaddr(int *len) {
	struct sockaddr_un *sa;
	switch (below(6)) {
	case 0: *len = below(200); return 0;
	case 1: *len = below(200); return pickPtr() & -(ulong)(below(2)); // maybe NULL
	case 2:
		sa = (void *)build(sizeof *sa);
		memset(sa, 0, sizeof *sa);
		sa->sun_family = AF_UNIX;
		sa->sun_path[0] = 0;
		*len = offsetof(struct sockaddr_un, sun_path) + 1 + snprintf(sa->sun_path + 1, 40, "xemu-fuzz-%d-%d", getpid(), (int)below(3));
		return (ulong)sa;
	case 3:
		sa = (void *)build(sizeof *sa);
		memset(sa, 0, sizeof *sa);
		sa->sun_family = below(2) ? AF_UNSPEC : AF_UNIX + 1 + below(40);
		*len = below(sizeof *sa + 8);
		return (ulong)sa;
	default:
		sa = (void *)build(sizeof *sa);
		memset(sa, 0, sizeof *sa);
		sa->sun_family = AF_UNIX;
		strcpy(sa->sun_path, relPaths[below(N(relPaths))]);
		*len = below(4) ? (int)sizeof *sa : (int)below(sizeof *sa + 8);
		return (ulong)sa;
	}
}

static ulong pickIovec(void) {
	if (below(6) == 0)
		return pickPtr();
	ulong n = 1 + below(4);
	struct iovec *v = (void *)build(n * sizeof *v);
	for (ulong i = 0; i < n; i++) {
		v[i].iov_base = (void *)pickPtr();
		v[i].iov_len = below(3) ? below(512) : pickLen();
	}
	return (ulong)v;
}

static ulong pickMsghdr(void) {
	if (below(6) == 0)
		return pickPtr();
	struct msghdr *m = (void *)build(sizeof *m);
	int len;
	m->msg_name = (void *)pickSockaddr(&len);
	m->msg_namelen = len;
	m->msg_iov = (void *)pickIovec();
	m->msg_iovlen = below(4) ? 1 + below(4) : pickLen();
	m->msg_control = below(2) ? 0 : (void *)pickPtr();
	m->msg_controllen = below(2) ? below(256) : pickLen();
	m->msg_flags = pickFlags();
	return (ulong)m;
}

static ulong pickMMAddr(void) {
	switch (below(8)) {
	case 0: return 0;
	case 1: return (ulong)hole + PAGE * below(HOLE / PAGE);
	case 2: return ends[below(NENDS)];
	case 3: return randomAddr();
	case 4: return (ulong)play + below(PLAY);
	default: return (ulong)play + PAGE * below(PLAY / PAGE);
	}
}

static ulong pickMMLen(void) {
	switch (below(8)) {
	case 0: return 0;
	case 1: return below(PLAY);
	case 2: return MAXLEN;
	case 3: return -1UL - below(2 * PAGE); // wraps
#if ULONG_MAX > 0xffffffffUL
	case 4: return 1UL << (48 + below(16)); // past the address space
#else
	case 4: return 0xfffff000UL + below(PAGE);
#endif
	default: return PAGE * below(64);
	}
}

static int ipcIDs(int *ids, int n) {
	switch (below(4)) {
	case 0: return -1;
	case 1: return 0x7fffffff;
	default: return n ? ids[below(n)] : -1;
	}
}

static void keepIPC(const char *name, long id) {
	if (id < 0)
		return;
	if (!strcmp(name, "shmget") && rep->nshm < MAXIPC)
		rep->shm[rep->nshm++] = id;
	if (!strcmp(name, "semget") && rep->nsem < MAXIPC)
		rep->sem[rep->nsem++] = id;
	if (!strcmp(name, "msgget") && rep->nmsq < MAXIPC)
		rep->msq[rep->nmsq++] = id;
}

static void noop(int sig) { (void)sig; }
static void noopInfo(int sig, siginfo_t *si, void *uc) { (void)sig, (void)si, (void)uc; }

// The kernel's struct sigaction on both architectures: handler, flags,
// restorer, then the 64-bit mask as unsigned longs.
struct ksigaction {
	ulong handler, flags, restorer;
	ulong mask[8 / sizeof(ulong)];
};

// A handler that runs and returns, in half the rt_sigaction calls, and an
// alternate stack that may lie anywhere in half the sigaltstack calls: signal
// frames then go to writable, read-only, unmapped and guard memory.
static void shapeSignals(const char *n, ulong *a) {
	if (!strcmp(n, "rt_sigaction") && below(2)) {
		static const ulong flags[] = {SA_SIGINFO, SA_ONSTACK, SA_RESTART, SA_NODEFER, SA_RESETHAND};
		struct ksigaction *k = (void *)build(sizeof *k);
		memset(k, 0, sizeof *k);
		ulong h = below(4);
		k->handler = h == 0 ? (ulong)noop : h == 1 ? (ulong)noopInfo : h - 2; // SIG_DFL, SIG_IGN
		for (ulong i = 0; i < N(flags); i++)
			if (below(2))
				k->flags |= flags[i];
		if (h == 1)
			k->flags |= SA_SIGINFO;
		k->mask[0] = rnd();
		a[1] = (ulong)k;
		a[3] = 8;
	}
	if (!strcmp(n, "sigaltstack") && below(2)) {
		stack_t *ss = (void *)build(sizeof *ss);
		switch (below(5)) {
		case 0: ss->ss_sp = canary; break;
		case 1: ss->ss_sp = (void *)pool; break;
		case 2: ss->ss_sp = hole; break;
		case 3: ss->ss_sp = pool - PAGE; break;
		default: ss->ss_sp = (void *)pickPtr();
		}
		ss->ss_size = below(3) ? (below(2) ? CANARY : 16384) : pickLen();
		ss->ss_flags = below(3) ? 0 : below(2) ? SS_DISABLE : (int)pickFlags();
		a[0] = (ulong)ss;
	}
}

// shapeArgs makes a drawn call safe to make (see the top of the file).
static int shapeArgs(const struct call *c, ulong *a) {
	const char *n = c->name;
	if (!strcmp(n, "open") || !strcmp(n, "openat") || !strcmp(n, "openat2")) {
		int pi = n[4] == 'a' ? 1 : 0;
		const char *path = (const char *)a[pi];
		ulong keep = O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY | O_PATH | O_NOATIME | O_LARGEFILE;
		int absolute = 0;
		for (ulong i = 0; i < N(absPaths); i++)
			if ((ulong)path >= (ulong)pool && (ulong)path < (ulong)pool + POOL && !strcmp(path, absPaths[i]))
				absolute = 1;
		if (!strcmp(n, "openat2")) {
			uint64_t *how = (void *)build(24);
			how[0] = pickFlags();
			how[1] = pickInt();
			how[2] = below(3) ? below(32) : rnd();
			if (absolute)
				how[0] &= keep;
			a[2] = (ulong)how;
			a[3] = below(4) ? 24 : pickLen();
		} else if (absolute)
			a[pi + 1] &= keep;
	}
	if (!strcmp(n, "socket") || !strcmp(n, "socketpair"))
		a[0] = AF_UNIX;
	if (!strcmp(n, "setpriority"))
		a[0] = PRIO_PROCESS, a[1] = 0;
	if (!strcmp(n, "setpgid"))
		a[0] = 0, a[1] = 0;
	if (!strcmp(n, "prlimit64"))
		a[0] = 0;
	// The file size limit the parent set stays.
	if (!strcmp(n, "setrlimit") && a[0] == RLIMIT_FSIZE)
		a[0] = RLIMIT_NOFILE;
	if (!strcmp(n, "prlimit64") && a[1] == RLIMIT_FSIZE)
		a[1] = RLIMIT_NOFILE;
	// Signals for I/O go to us only.
	if (!strncmp(n, "fcntl", 5) && a[1] == F_SETOWN)
		a[2] = below(2) ? (ulong)getpid() : -(ulong)getpid();
	if (!strncmp(n, "fcntl", 5) && a[1] == F_SETOWN_EX) {
		struct f_owner_ex *o = (void *)build(sizeof *o);
		o->type = below(4);
		o->pid = getpid();
		a[2] = (ulong)o;
	}
	// No socket ioctls: as root they configure the host's network.
	if (!strcmp(n, "ioctl") && ((a[1] >> 8) & 0xff) == 0x89)
		return 0;
	if (!strcmp(n, "rt_sigaction") && (a[0] == SIGALRM || a[0] == SIGUSR1))
		a[0] = SIGUSR2;
	shapeSignals(n, a);
	if (!strcmp(n, "brk"))
		a[0] = below(4) ? brk0 + PAGE * below(16) : 0;
	if (!strncmp(n, "shm", 3))
		for (int i = 0; c->kinds[i]; i++)
			if (c->kinds[i] == 'q')
				a[i] = ipcIDs(rep->shm, rep->nshm);
	if (!strncmp(n, "sem", 3))
		a[0] = ipcIDs(rep->sem, rep->nsem);
	if (!strncmp(n, "msg", 3) && strcmp(n, "msgget"))
		a[0] = ipcIDs(rep->msq, rep->nmsq);
	// Calls that change mappings keep off what the child started with.
	ulong mmlen = 0;
	int mm = 1;
	if (!strcmp(n, "mmap") || !strcmp(n, "mmap2"))
		mm = (a[3] & MAP_FIXED) != 0, mmlen = a[1];
	else if (!strcmp(n, "munmap") || !strcmp(n, "mprotect") || !strcmp(n, "madvise") || !strcmp(n, "mremap"))
		mmlen = a[1];
	else if (!strcmp(n, "shmat"))
		mmlen = MAXLEN;
	else if (!strcmp(n, "shmdt"))
		mmlen = PAGE;
	else
		mm = 0;
	int ai = !strcmp(n, "shmat");
	if (ai && a[1] == 0)
		mm = 0; // the kernel chooses
	if (mm && overlaps(a[ai], mmlen, 0))
		a[ai] = (ulong)play + PAGE * below(PLAY / PAGE);
	if (mm && overlaps(a[ai], mmlen, 0))
		return 0;
	if (!strcmp(n, "mremap") && (a[3] & MREMAP_FIXED) && overlaps(a[4], a[2], 0))
		return 0;
	// Lengths that could be mapped are at most MAXLEN: the emulator's peak
	// memory is bounded by what the guest maps.
	if (!strcmp(n, "mremap") && a[2] > MAXLEN && a[2] < SPACE)
		a[2] = MAXLEN;
	if ((!strcmp(n, "mmap") || !strcmp(n, "mmap2")) && a[1] > MAXLEN && a[1] < SPACE)
		a[1] = MAXLEN;
	return 1;
}

static void drawArgs(const struct call *c, ulong *a) {
	int len = 0;
	for (int i = 0; i < 6; i++) {
		char k = c->kinds[i];
		if (!k) {
			a[i] = below(4) ? 0 : rnd();
			continue;
		}
		switch (k) {
		case 'f': a[i] = pickFDArg(); break;
		case 'M': a[i] = safeFD(pickFDArg()); break;
		case 'd': a[i] = below(2) ? (ulong)AT_FDCWD : safeFD(pickFDArg()); break;
		case 'R': a[i] = pickPath(1); break;
		case 'W': a[i] = pickPath(0); break;
		case 'p': a[i] = pickPtr(); break;
		case 'l': a[i] = pickLen(); break;
		case 'i': a[i] = pickInt(); break;
		case 'x': a[i] = pickFlags(); break;
		case 'g': a[i] = below(2) ? pickInt() : pickPtr(); break;
		case 'k': a[i] = pickPid(); break;
		case 't': a[i] = pickTid(); break;
		case 's': a[i] = pickSignal(); break;
		case 'a': a[i] = pickMMAddr(); break;
		case 'n': a[i] = pickMMLen(); break;
		case 'u':
			a[i] = pickSockaddr(&len);
			if (c->kinds[i + 1] == 'i') {
				a[i + 1] = len;
				i++;
			}
			break;
		case 'h': a[i] = pickMsghdr(); break;
		case 'v': a[i] = pickIovec(); break;
		case 'q': a[i] = -1UL; break;
		case 'K': a[i] = IPC_PRIVATE; break;
		default: a[i] = pickInt();
		}
	}
}

// The registers a call must leave alone are set to patterns (inputs of the
// asm) and stored to after[] right after the svc; only the result may differ.
#if defined(__aarch64__)
static ulong readTLS(void) {
	ulong v;
	__asm__ volatile("mrs %0, tpidr_el0" : "=r"(v));
	return v;
}
static long rawCall(long nr, const ulong *a, int *bad) {
	ulong k = rnd() | 1, after[16];
	double f[3] = {1.25 * k, -3.5, 1e300};
	register ulong x0 __asm__("x0") = a[0], x1 __asm__("x1") = a[1], x2 __asm__("x2") = a[2];
	register ulong x3 __asm__("x3") = a[3], x4 __asm__("x4") = a[4], x5 __asm__("x5") = a[5];
	register ulong x8 __asm__("x8") = nr;
	register ulong x6 __asm__("x6") = k ^ 6, x7 __asm__("x7") = k ^ 7, x9 __asm__("x9") = k ^ 9;
	register ulong x10 __asm__("x10") = k ^ 10, x15 __asm__("x15") = k ^ 15, x19 __asm__("x19") = k ^ 19;
	register ulong x21 __asm__("x21") = k ^ 21, x28 __asm__("x28") = k ^ 28;
	register double d1 __asm__("d1") = f[0], d8 __asm__("d8") = f[1], d31 __asm__("d31") = f[2];
	__asm__ volatile("svc #0\n\t"
	                 "stp x1, x2, [%[b]]\n\tstp x3, x4, [%[b], #16]\n\tstp x5, x6, [%[b], #32]\n\t"
	                 "stp x7, x9, [%[b], #48]\n\tstp x10, x15, [%[b], #64]\n\tstp x19, x21, [%[b], #80]\n\t"
	                 "str x28, [%[b], #96]\n\tstr d1, [%[b], #104]\n\tstr d8, [%[b], #112]\n\tstr d31, [%[b], #120]"
	                 : "+r"(x0)
	                 : "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5), "r"(x8), "r"(x6), "r"(x7), "r"(x9), "r"(x10),
	                   "r"(x15), "r"(x19), "r"(x21), "r"(x28), "w"(d1), "w"(d8), "w"(d31), [b] "r"(after)
	                 : "memory");
	ulong want[13] = {a[1], a[2], a[3], a[4], a[5], k ^ 6, k ^ 7, k ^ 9, k ^ 10, k ^ 15, k ^ 19, k ^ 21, k ^ 28};
	*bad = 0;
	for (int i = 0; i < 13; i++)
		if (after[i] != want[i])
			*bad |= 1 << i;
	if (memcmp(&after[13], f, sizeof f))
		*bad |= 1 << 13;
	return x0;
}
#elif defined(__arm__)
static ulong readTLS(void) {
	ulong v;
	__asm__ volatile("mrc p15, 0, %0, c13, c0, 3" : "=r"(v));
	return v;
}
static long rawCall(long nr, const ulong *a, int *bad) {
	ulong k = rnd() | 1, after[16];
	double f[3] = {1.25 * k, -3.5, 1e300};
	register ulong r0 __asm__("r0") = a[0], r1 __asm__("r1") = a[1], r2 __asm__("r2") = a[2];
	register ulong r3 __asm__("r3") = a[3], r4 __asm__("r4") = a[4], r5 __asm__("r5") = a[5];
	register ulong r6 __asm__("r6") = k ^ 6, r8 __asm__("r8") = k ^ 8, r9 __asm__("r9") = k ^ 9;
	register ulong r10 __asm__("r10") = k ^ 10;
	register ulong *b __asm__("r12") = after;
	register double d1 __asm__("d1") = f[0], d8 __asm__("d8") = f[1], d15 __asm__("d15") = f[2];
	// r7 holds the number; in Thumb code it may be the frame pointer, so it
	// is saved and restored around the call, and taken from after[15].
	after[15] = nr;
	__asm__ volatile("push {r7}\n\tldr r7, [r12, #60]\n\tsvc #0\n\tpop {r7}\n\t"
	                 "stm r12, {r1, r2, r3, r4, r5, r6, r8, r9, r10}\n\t"
	                 "vstr d1, [r12, #40]\n\tvstr d8, [r12, #48]\n\tvstr d15, [r12, #56]"
	                 : "+r"(r0)
	                 : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r6), "r"(r8), "r"(r9), "r"(r10), "r"(b),
	                   "w"(d1), "w"(d8), "w"(d15)
	                 : "memory");
	ulong want[9] = {a[1], a[2], a[3], a[4], a[5], k ^ 6, k ^ 8, k ^ 9, k ^ 10};
	*bad = 0;
	for (int i = 0; i < 9; i++)
		if (after[i] != want[i])
			*bad |= 1 << i;
	if (memcmp(&after[10], f, sizeof f))
		*bad |= 1 << 13;
	return r0;
}
#endif

static void fail(const char *what) {
	snprintf(rep->msg, sizeof rep->msg, "%s", what);
	_exit(3);
}

static void onAlarm(int sig) { (void)sig; }

// openFDs gives the calls descriptors of every kind to work on.
static void openFDs(void) {
	int p[2];
	pipe2(p, O_NONBLOCK);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p);
	socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, p);
	int f = open("f0", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(f, "sysfuzz scratch file\n", 21);
	open(".", O_RDONLY | O_DIRECTORY);
	eventfd(1, EFD_NONBLOCK);
	int m = memfd_create("sysfuzz", 0);
	ftruncate(m, 2 * PAGE);
	open("/dev/null", O_RDONLY);
	open("/proc/self/maps", O_RDONLY);
	open("/proc/self/mem", O_RDONLY);
	epoll_create1(0);
	timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	signalfd(-1, &set, SFD_NONBLOCK);
	inotify_init1(IN_NONBLOCK);
	syscall(SYS_pidfd_open, getpid(), 0);
}

static volatile int started, finished;
static uint64_t rng1; // the second thread's seed, drawn from the first's
static int nthreads;

// checkMaps: /proc/self/maps (the emulator's view of the guest's mappings)
// lists ranges in order without overlaps, and still has the canary, whole
// and read-only, and the code. NULL if so, else what is wrong.
static const char *checkMaps(void) {
	static char buf[256 * 1024];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; // the descriptor table may be full: nothing to say
	long n = 0, r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	ulong prev = 0;
	int canaryOK = 0, codeOK = 0;
	static char seen[512];
	seen[0] = 0;
	for (char *l = buf; *l;) {
		unsigned long lo, hi;
		char perms[8] = "";
		if (sscanf(l, "%lx-%lx %7s", &lo, &hi, perms) != 3)
			return "a line of /proc/self/maps does not parse";
		if (lo >= hi || lo < prev)
			return "/proc/self/maps out of order or overlapping";
		prev = hi;
		if (lo <= (ulong)canary && hi >= (ulong)canary + CANARY)
			canaryOK = !strncmp(perms, "r--", 3);
		if (lo < (ulong)canary + CANARY && hi > (ulong)canary && strlen(seen) < 400)
			snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "; %.60s", l);
		if (lo <= code_lo && hi >= code_hi)
			codeOK = perms[0] == 'r' && perms[2] == 'x';
		char *e = strchr(l, '\n');
		if (!e)
			break;
		l = e + 1;
	}
	static char why[600];
	if (!canaryOK) {
		snprintf(why, sizeof why, "the read-only canary at %p is no longer mapped read-only%s", (void *)canary, seen);
		for (char *c = why; *c; c++)
			if (*c == '\n')
				*c = ' ';
		return why;
	}
	if (!codeOK)
		return "the code is no longer mapped readable and executable";
	return 0;
}

// fuzzLoop makes CALLS calls on this thread, checking after each.
static void *fuzzLoop(void *arg) {
	slot = (int)(long)arg;
	if (slot) {
		rng = rng1;
		while (!started)
			usleep(1000);
	}
	ulong tls0 = readTLS();
	// A timer for this thread (SIGEV_THREAD_ID), so that a call blocking
	// here is interrupted here.
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM};
	sev._sigev_un._tid = syscall(SYS_gettid);
	timer_t tm;
	struct itimerspec its = {{0, 50000000}, {0, 50000000}};
	if (timer_create(CLOCK_MONOTONIC, &sev, &tm) == 0)
		timer_settime(tm, 0, &its, 0);
	for (long i = 0; i < CALLS; i++) {
		ulong a[6];
		const struct call *c;
		long nr;
		static struct call unknown = {0, "unknown", ""};
		if (below(200) == 0) {
			c = &unknown;
			static const long odd[] = {-1, 1000, 0x7fffffff, 4096, 0x100000,
#ifdef __arm__
				0xf0000, 0xf0002, 0xf0003, 0xf0004, 0xf0006, 0xf0007, 0xf07ff,
#endif
			};
			nr = below(3) ? odd[below(N(odd))] : 470 + (long)below(600);
			drawArgs(c, a);
		} else {
			c = &table[below(NCALLS)];
			nr = c->nr;
			buildAt = 0;
			drawArgs(c, a);
			if (!shapeArgs(c, a))
				continue;
		}
		rep->t[slot].idx = i;
		rep->t[slot].nr = nr;
		memcpy(rep->t[slot].args, a, sizeof a);
		int bad;
		long r = rawCall(nr, a, &bad);
		rep->t[slot].ret = r;
		if (c != &unknown)
			keepIPC(c->name, r);
		if (bad) {
			char m[64];
			snprintf(m, sizeof m, "registers changed by %s (mask %#x)", c->name, bad);
			fail(m);
		}
		if (readTLS() != tls0)
			fail("thread pointer changed");
		if (sum(canary, CANARY) != canary_sum)
			fail("read-only canary changed");
		if ((i & 31) == 31 && sum((void *)code_lo, code_hi - code_lo) != code_sum)
			fail("code changed");
		const char *wrong;
		// Only with one thread: the other one's calls may close or replace
		// the descriptor being read.
		if ((i & 63) == 63 && nthreads == 1 && (wrong = checkMaps()))
			fail(wrong);
	}
	if (slot)
		finished = 1;
	return 0;
}

// child runs one batch of calls, on two threads in odd batches.
static void child(void) {
	setpgid(0, 0);
	int devnull = open("/dev/null", O_RDWR);
	dup2(devnull, 0);
	dup2(devnull, 1);
	close(devnull);
	struct stat st;
	stat(".", &st);
	scratch_dev = (int)st.st_dev;
	openFDs();

	struct sigaction sa = {.sa_handler = onAlarm};
	sigaction(SIGALRM, &sa, 0);
	sigaction(SIGUSR1, &sa, 0);
	// The second thread's stack must be mapped before readMaps, so that no
	// call unmaps or writes it.
	pthread_t th;
	rng1 = rnd64();
	nthreads = rep->batch % 2 == 1 && pthread_create(&th, 0, fuzzLoop, (void *)1L) == 0 ? 2 : 1;

	char *g = mmap(0, POOL + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pool = g + PAGE;
	mprotect(pool, POOL, PROT_READ | PROT_WRITE);
	for (ulong i = 0; i < POOL / 8; i++)
		((uint64_t *)pool)[i] = rnd64();
	canary = mmap(0, CANARY, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (ulong i = 0; i < CANARY / 8; i++)
		((uint64_t *)canary)[i] = rnd64();
	mprotect(canary, CANARY, PROT_READ);
	canary_sum = sum(canary, CANARY);
	play = mmap(0, PLAY, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hole = mmap(0, HOLE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, HOLE);
	brk0 = (ulong)sbrk(0);
	readMaps();
	if (!code_hi || pool == MAP_FAILED || canary == MAP_FAILED || play == MAP_FAILED)
		fail("set-up failed");
	code_sum = sum((void *)code_lo, code_hi - code_lo);

	started = 1;
	fuzzLoop(0);
	// The other thread may be blocked for good (a signal mask, a timer
	// disarmed): it gets a little while.
	for (int i = 0; nthreads == 2 && !finished && i < 100; i++)
		usleep(2000);
	if (sum((void *)code_lo, code_hi - code_lo) != code_sum)
		fail("code changed");
	const char *wrong;
	if ((nthreads == 1 || finished) && (wrong = checkMaps()))
		fail(wrong);
	_exit(0);
}

static void removeIPC(void) {
	for (int i = 0; i < rep->nshm; i++)
		shmctl(rep->shm[i], IPC_RMID, 0);
	for (int i = 0; i < rep->nsem; i++)
		semctl(rep->sem[i], 0, IPC_RMID);
	for (int i = 0; i < rep->nmsq; i++)
		msgctl(rep->msq[i], IPC_RMID, 0);
	rep->nshm = rep->nsem = rep->nmsq = 0;
}

static long nowMS(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: sysfuzz SEED SECONDS [BATCH]\n");
		return 64;
	}
	uint64_t seed = strtoull(argv[1], 0, 0);
	long seconds = atol(argv[2]);
	long only = argc > 3 ? atol(argv[3]) : -1;
	rep = mmap(0, sizeof *rep, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	// Files the calls write stay small, whatever lengths they draw.
	struct rlimit fsize = {64 << 20, 64 << 20};
	setrlimit(RLIMIT_FSIZE, &fsize);
	signal(SIGXFSZ, SIG_IGN);

	long start = nowMS(), batches = 0, calls = 0, timeouts = 0, failures = 0;
	long signals[65] = {0};
	for (long b = only >= 0 ? only : 0; only >= 0 ? b == only : nowMS() - start < seconds * 1000; b++) {
		rng = seed * 1000003 + b;
		memset(rep, 0, offsetof(struct report, shm));
		rep->batch = b;
		rep->t[0].idx = rep->t[1].idx = -1;
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			child();
		int status = 0, timedOut = 0;
		long t0 = nowMS();
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (nowMS() - t0 > BATCH_MS) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				timedOut = 1;
				break;
			}
			usleep(2000);
		}
		batches++;
		calls += rep->t[0].idx + 1 + rep->t[1].idx + 1;
		removeIPC();
		if (timedOut) {
			timeouts++;
			continue;
		}
		if (WIFSIGNALED(status)) {
			signals[WTERMSIG(status) & 63]++;
			continue;
		}
		if (WEXITSTATUS(status) == 0)
			continue;
		failures++;
		printf("FAIL seed %llu batch %ld: %s (exit status %d)\n", (unsigned long long)seed, b,
		       WEXITSTATUS(status) == 3 ? rep->msg : "the emulator ended the child", WEXITSTATUS(status));
		for (int t = 0; t < 2; t++)
			if (rep->t[t].idx >= 0)
				printf("  thread %d, call %ld: syscall %ld (%#lx, %#lx, %#lx, %#lx, %#lx, %#lx) = %ld\n", t,
				       rep->t[t].idx, rep->t[t].nr, rep->t[t].args[0], rep->t[t].args[1], rep->t[t].args[2],
				       rep->t[t].args[3], rep->t[t].args[4], rep->t[t].args[5], rep->t[t].ret);
		printf("  reproduce: sysfuzz %llu 0 %ld\n", (unsigned long long)seed, b);
	}
	printf("seed %llu: %ld batches, %ld calls, %ld timed out, %ld failures; children killed by signal:",
	       (unsigned long long)seed, batches, calls, timeouts, failures);
	for (int s = 1; s < 65; s++)
		if (signals[s])
			printf(" %d:%ld", s, signals[s]);
	printf("\n");
	return failures ? 1 : 0;
}
