package kernel

import (
	"bytes"
	"errors"
	"strconv"

	"golang.org/x/sys/unix"

	"xemu/loader"
)

// Whether another process may reach this guest's memory (kernel/ptrace.c
// __ptrace_may_access, security/yama/yama_lsm.c yama_ptrace_access_check),
// decided by the xemu that owns the memory from the credentials its
// requests came with (SO_PASSCRED): the asking process may be any program,
// a guest that sends datagrams itself included.
//
// An approximation of Linux's rules, in these ways:
//   - CAP_SYS_PTRACE is uid 0: a requester with the capability but another
//     uid is refused, and a root requester is taken whatever capabilities
//     it dropped.
//   - The requester's uid and gid are the ones its datagram claims: the
//     host kernel lets a process claim its real, effective or saved id, so
//     the check is of one of them rather than of exactly the real ids
//     (process_vm_*, PTRACE_MODE_REALCREDS) or the filesystem ids
//     (/proc/PID/mem, PTRACE_MODE_FSCREDS).
//   - Yama's exception for a ptracer the target declared (PR_SET_PTRACER)
//     is not made: xemu does not offer that prctl.
//   - The decision is made at each request, not once when the guest opens
//     /proc/PID/mem as Linux does.

// ptraceTarget is what the decision needs to know of the target.
type ptraceTarget struct {
	uids, gids [3]uint32 // real, effective, saved
	// dumpable: PR_GET_DUMPABLE is SUID_DUMP_USER and xemu is not in
	// secure mode (a setuid or setgid program it runs, binfmt_misc's C).
	dumpable bool
	// yama is kernel.yama.ptrace_scope; 0 without Yama.
	yama int
	// descendantOf says whether the target descends from process pid
	// (Yama's task_is_descendant); asked only when Yama needs it.
	descendantOf func(pid int) bool
}

// mayAccess is __ptrace_may_access for a requester with credentials cred,
// and Yama's check on top of it when attach (PTRACE_MODE_ATTACH:
// /proc/PID/mem and process_vm_*; pagemap is PTRACE_MODE_READ).
func mayAccess(cred unix.Ucred, t ptraceTarget, attach bool) bool {
	root := cred.Uid == 0
	same := true
	for i := range 3 {
		same = same && cred.Uid == t.uids[i] && cred.Gid == t.gids[i]
	}
	if !same && !root {
		return false
	}
	if !t.dumpable && !root {
		return false
	}
	if !attach {
		return true
	}
	switch t.yama {
	case 0:
		return true
	case 1:
		return root || cred.Pid > 0 && t.descendantOf != nil && t.descendantOf(int(cred.Pid))
	case 2:
		return root
	default:
		return false
	}
}

// thisTarget is this process as a target, now.
func thisTarget() ptraceTarget {
	var t ptraceTarget
	r, e, s := unix.Getresuid()
	t.uids = [3]uint32{uint32(r), uint32(e), uint32(s)}
	r, e, s = unix.Getresgid()
	t.gids = [3]uint32{uint32(r), uint32(e), uint32(s)}
	// include/linux/sched/coredump.h: SUID_DUMP_USER is 1.
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	t.dumpable = err == nil && d == 1 && !loader.HostSecure()
	t.yama = yamaScope()
	t.descendantOf = func(pid int) bool { return descends(unix.Getpid(), pid, hostParent) }
	return t
}

// yamaScope reads kernel.yama.ptrace_scope: 0 without Yama, and the
// strictest (3) if the file is there but unreadable.
func yamaScope() int {
	b, err := ReadHostProc("sys/kernel/yama/ptrace_scope")
	if errors.Is(err, unix.ENOENT) {
		return 0
	}
	n, err2 := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || err2 != nil || n < 0 {
		return 3
	}
	return n
}

// descends walks the parent chain from process pid up to init as Yama's
// task_is_descendant does, looking for ancestor; parent gives a process's
// parent (0 above init or when unknown).
func descends(pid, ancestor int, parent func(int) int) bool {
	// Bounded: a pid reused while walking cannot make a cycle last.
	for i := 0; pid > 0 && i < 1<<16; i++ {
		if pid == ancestor {
			return true
		}
		pid = parent(pid)
	}
	return false
}

// hostParent is the parent of host process pid (the fourth field of
// /proc/PID/stat), 0 if unknown.
func hostParent(pid int) int {
	f := hostStatFields(strconv.Itoa(pid))
	if len(f) < 2 {
		return 0
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return 0
	}
	return n
}
