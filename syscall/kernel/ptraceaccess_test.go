package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestMayAccess pins the approximation of __ptrace_may_access and Yama's
// check: the target is pid 300, a child of 200, a child of 100, a child of
// init; its user is 1000 (group 1000).
func TestMayAccess(t *testing.T) {
	parents := map[int]int{300: 200, 200: 100, 100: 1, 1: 0}
	target := func(yama int) ptraceTarget {
		return ptraceTarget{
			uids: [3]uint32{1000, 1000, 1000}, gids: [3]uint32{1000, 1000, 1000},
			dumpable: true, yama: yama,
			descendantOf: func(pid int) bool { return descends(300, pid, func(p int) int { return parents[p] }) },
		}
	}
	setuid := target(0)
	setuid.uids[1], setuid.uids[2] = 0, 0 // a setuid-root program run by 1000
	setgid := target(0)
	setgid.gids[1] = 50
	undumpable := target(0)
	undumpable.dumpable = false
	user := func(pid int32) unix.Ucred { return unix.Ucred{Pid: pid, Uid: 1000, Gid: 1000} }
	root := func(pid int32) unix.Ucred { return unix.Ucred{Pid: pid} }
	cases := []struct {
		name   string
		cred   unix.Ucred
		target ptraceTarget
		attach bool
		want   bool
	}{
		{"same user, no Yama", user(999), target(0), true, true},
		{"same user, read", user(999), target(0), false, true},
		{"another user", unix.Ucred{Pid: 200, Uid: 1001, Gid: 1000}, target(0), true, false},
		{"another group", unix.Ucred{Pid: 200, Uid: 1000, Gid: 1001}, target(0), true, false},
		{"another user, read", unix.Ucred{Pid: 200, Uid: 1001, Gid: 1000}, target(0), false, false},
		{"target's effective uid differs", user(200), setuid, true, false},
		{"target's effective gid differs", user(200), setgid, false, false},
		{"root, target setuid", root(5), setuid, true, true},
		{"not dumpable", user(200), undumpable, true, false},
		{"not dumpable, read", user(200), undumpable, false, false},
		{"not dumpable, root", root(5), undumpable, true, true},
		{"Yama 1, parent", user(200), target(1), true, true},
		{"Yama 1, grandparent", user(100), target(1), true, true},
		{"Yama 1, not an ancestor", user(999), target(1), true, false},
		{"Yama 1, a descendant", user(400), target(1), true, false},
		{"Yama 1, no pid", user(0), target(1), true, false},
		{"Yama 1, not an ancestor, read", user(999), target(1), false, true},
		{"Yama 1, root", root(999), target(1), true, true},
		{"Yama 2, parent", user(200), target(2), true, false},
		{"Yama 2, root", root(999), target(2), true, true},
		{"Yama 2, read", user(999), target(2), false, true},
		{"Yama 3, root", root(200), target(3), true, false},
		{"Yama 3, read", user(999), target(3), false, true},
	}
	for _, c := range cases {
		if got := mayAccess(c.cred, c.target, c.attach); got != c.want {
			t.Errorf("%s: mayAccess = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDescendsCycle: a parent chain that loops (pids reused while it is
// walked) ends.
func TestDescendsCycle(t *testing.T) {
	loop := map[int]int{10: 20, 20: 10}
	if descends(10, 30, func(p int) int { return loop[p] }) {
		t.Error("30 taken for an ancestor")
	}
}

// TestHostParent reads this process's parent as the kernel gives it.
func TestHostParent(t *testing.T) {
	if got, want := hostParent(unix.Getpid()), unix.Getppid(); got != want {
		t.Errorf("hostParent = %d, want %d", got, want)
	}
}
