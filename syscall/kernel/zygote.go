package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
	"xemu/syscall/abi"
)

// A zygote is an xemu started ahead of a guest's next fork: a child of the
// guest's process that has done what every new xemu does first (the Go
// runtime, the system call tables, a first engine: most of a fork child's
// start-up), and then waits on a socket. A fork hands it the child's state
// (the memfd Fork writes, the guest's descriptors over SCM_RIGHTS, the cwd,
// umask, process group and limits) instead of executing a new xemu, and the
// zygote becomes the child: its pid is the one fork returns. The next one
// starts in the background.
//
// What a zygote cannot take over it cannot be used for: it inherited its
// credentials, session, namespaces, root, capabilities, nice value and
// affinity when it was started, so a fork uses it only while those are the
// same in the parent (hostFingerprint); otherwise, and for a guest that has
// threads (its memory is saved from the parent itself, which other threads
// would be writing) or clone flags beyond fork's, the fork takes the path
// that executes a new xemu.
//
// An idle zygote is a child of the guest's process that the guest did not
// make. It sits in a process group of its own, so only a wait for any child
// (pid -1, P_ALL) can see it: while one exists, such a wait with none of the
// guest's own children left fails with ECHILD instead of waiting for it
// (knownChildren). Zygotes are used only where that list can be known: no
// child existed when the first one started, no child-reaper role, SIGCHLD
// not ignored (the kernel would reap children unseen).

// zygoteSockFD is where a zygote finds its end of the socket (below a
// lowered descriptor limit: further down).
const zygoteSockFD = 998

// zygoteWait is how long a fork waits for a zygote to get ready, in ms:
// a new xemu would take longer.
const zygoteWait = 1000

// zygoteReady is the byte a zygote sends once it is ready for a fork.
const zygoteReady = 'R'

type zygote struct {
	pid   int
	sock  int // this process's end (SOCK_SEQPACKET)
	ready bool
	// starting: not ready yet, but not dead either (poll).
	starting bool
	fp       hostFingerprint
	p        *Process
}

// zygoteState is a Process's.
type zygoteState struct {
	zmu sync.Mutex
	// zygs are the zygotes started, oldest first: one, or two once the
	// process has forked often (zygotesFor).
	zygs   []*zygote
	zforks int
	// zoff: no zygote in this process again (it had children of unknown
	// origin, became a child reaper, or starting one failed).
	zoff bool
	// zon: zygotes are in use, and knownChildren lists the children.
	zon           bool
	knownChildren map[int]bool
	// zpids are zygotes that did not become the guest's children: their
	// SIGCHLD is not the guest's.
	zpids map[int]bool
}

// hostFingerprint is what a fork child inherits from the host process and a
// zygote cannot be given afterwards.
type hostFingerprint struct {
	UID, GID   [3]int
	Groups     []int
	Sid, Nice  int
	NoNewPrivs int
	Caps       [6]uint32
	Root       [2]uint64
	NS         [8]uint64
	Affinity   unix.CPUSet
}

var fingerprintNS = [8]string{"mnt", "net", "uts", "ipc", "user", "cgroup", "pid_for_children", "time_for_children"}

func takeFingerprint() (hostFingerprint, bool) {
	var f hostFingerprint
	f.UID[0], f.UID[1], f.UID[2] = unix.Getresuid()
	f.GID[0], f.GID[1], f.GID[2] = unix.Getresgid()
	f.Groups, _ = unix.Getgroups()
	var err error
	if f.Sid, err = unix.Getsid(0); err != nil {
		return f, false
	}
	f.Nice, _ = unix.Getpriority(unix.PRIO_PROCESS, 0)
	f.NoNewPrivs, _ = unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) == nil {
		f.Caps = [6]uint32{data[0].Effective, data[0].Permitted, data[0].Inheritable, data[1].Effective, data[1].Permitted, data[1].Inheritable}
	}
	var st unix.Stat_t
	if unix.Stat("/", &st) != nil {
		return f, false
	}
	f.Root = [2]uint64{st.Dev, st.Ino}
	if hostSelf.Proc < 0 {
		return f, false
	}
	for i, ns := range fingerprintNS {
		if unix.Fstatat(hostSelf.Proc, "thread-self/ns/"+ns, &st, 0) == nil {
			f.NS[i] = st.Ino
		}
	}
	unix.SchedGetaffinity(0, &f.Affinity)
	return f, true
}

func (f *hostFingerprint) equal(g *hostFingerprint) bool {
	return f.UID == g.UID && f.GID == g.GID && slices.Equal(f.Groups, g.Groups) && f.Sid == g.Sid &&
		f.Nice == g.Nice && f.NoNewPrivs == g.NoNewPrivs && f.Caps == g.Caps && f.Root == g.Root &&
		f.NS == g.NS && f.Affinity == g.Affinity
}

// zygoteAllowed says whether this process may keep a zygote now.
func (p *Process) zygoteAllowedLocked() bool {
	if p.zoff || hostSelf.Exe < 0 || hostSelf.Proc < 0 {
		return false
	}
	p.sigMu.Lock()
	reaping := p.childReaping
	p.sigMu.Unlock()
	return reaping&(cpu.ChildrenIgnored|cpu.ChildrenNoWait) == 0
}

// zygoteBeforeFork starts the list of children at a process's first fork,
// if it has none yet: otherwise (children from before an execve) waits
// could not be told apart from the zygote's, and no zygote starts.
func (p *Process) zygoteBeforeFork() {
	p.zmu.Lock()
	defer p.zmu.Unlock()
	if p.zon || p.zoff {
		return
	}
	if hasChild(unix.P_ALL, 0) {
		p.zoff = true
		return
	}
	p.zon = true
	p.knownChildren = map[int]bool{}
}

// hasChild says whether this process has a child that idtype and id name
// (waitid's), in any state, without waiting or reaping.
func hasChild(idtype, id int) bool {
	var info [128]byte
	_, _, e := unix.Syscall6(unix.SYS_WAITID, uintptr(idtype), uintptr(id), uintptr(unsafe.Pointer(&info[0])),
		unix.WNOHANG|unix.WNOWAIT|unix.WEXITED|unix.WSTOPPED|unix.WCONTINUED|unix.WALL, 0, 0)
	return e != unix.ECHILD
}

// startZygoteAfterFork starts a zygote once this process has forked, the
// sign that it will again (a shell, make, dpkg). It runs on the thread that
// forked, which the zygote's SIGCHLD (once it is the guest's child) then
// targets first, as a forked child's does: the guest's wait finds it
// pending. Only the exec of the new xemu waits here (vfork); its start-up
// runs alongside.
func (p *Process) startZygoteAfterFork() {
	p.zmu.Lock()
	defer p.zmu.Unlock()
	p.zforks++
	for p.zon && len(p.zygs) < zygotesFor(p.zforks) && p.zygoteAllowedLocked() {
		z, err := p.spawnZygote()
		if err != nil {
			p.zoff = true
			return
		}
		if p.zpids == nil {
			p.zpids = map[int]bool{}
		}
		p.zpids[z.pid] = true
		p.zygs = append(p.zygs, z)
	}
}

// zygotesFor is how many zygotes a process that forked n times keeps: a
// second one once it forks in a loop, so that one gets ready while the other
// is used (a zygote takes about as long to start as a shell's fork and exec
// of a small program).
func zygotesFor(n int) int {
	if n >= 4 {
		return 2
	}
	return 1
}

func (p *Process) spawnZygote() (*zygote, error) {
	fp, ok := takeFingerprint()
	if !ok {
		return nil, errors.New("no fingerprint")
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(pair[0])
		unix.Close(pair[1])
		return nil, err
	}
	mine := highFD(pair[0])
	p.Reserve(mine)
	at := zygoteSockFD
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur <= uint64(at) {
		at = max(int(lim.Cur)-1, 3) // the guest lowered the limit
	}
	argv := []string{"xemu", "--zygote", strconv.Itoa(at), "--zygote-parent", strconv.Itoa(os.Getpid()),
		"--zygote-machine", strconv.Itoa(p.ABI.Machine)}
	pid, err := cpu.Spawn(hostSelf.Exe, argv, os.Environ(), pair[1], at, null)
	unix.Close(pair[1])
	unix.Close(null)
	if err != nil {
		unix.Close(mine)
		p.Unreserve(mine)
		return nil, err
	}
	return &zygote{pid: pid, sock: mine, fp: fp, p: p}, nil
}

// zygoteSignal says whether a SIGCHLD of code from pid is a zygote's.
func (p *Process) zygoteSignal(pid int, code int32) bool {
	p.zmu.Lock()
	defer p.zmu.Unlock()
	if !p.zpids[pid] {
		return false
	}
	if code == abi.CLD_EXITED || code == abi.CLD_KILLED || code == abi.CLD_DUMPED {
		delete(p.zpids, pid)
	}
	return true
}

// kill ends an unused zygote and reaps it.
func (z *zygote) kill() {
	unix.Kill(z.pid, unix.SIGKILL)
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(z.pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	z.close()
}

// close closes this process's end of z's socket.
func (z *zygote) close() {
	unix.Close(z.sock)
	z.p.Unreserve(z.sock)
}

// DropZygote ends this process's zygote and starts no other: before an exec
// that replaces xemu, at exit, when the guest becomes a child reaper.
func (p *Process) DropZygote(forever bool) {
	p.zmu.Lock()
	zs := p.zygs
	p.zygs = nil
	if forever {
		p.zoff = true
	}
	p.zmu.Unlock()
	for _, z := range zs {
		z.kill()
	}
}

// takeZygote returns the zygote if it is ready for a fork now.
func (p *Process) takeZygote(c CloneArgs) *zygote {
	if c.Flags&(cloneHostFlags) != 0 || c.ExitSignal != int(unix.SIGCHLD) || p.multi.Load() {
		return nil
	}
	p.zmu.Lock()
	defer p.zmu.Unlock()
	if len(p.zygs) == 0 || !p.zygoteAllowedLocked() {
		return nil
	}
	// The first that is ready, else the oldest when it is.
	i := slices.IndexFunc(p.zygs, func(z *zygote) bool { return z.poll(0) })
	if i < 0 {
		i = 0
		if !p.zygs[0].poll(zygoteWait) {
			if !p.zygs[0].starting {
				// It died starting.
				go p.zygs[0].kill()
				p.zygs = p.zygs[1:]
			}
			return nil
		}
	}
	z := p.zygs[i]
	p.zygs = slices.Delete(p.zygs, i, i+1)
	fp, ok := takeFingerprint()
	if !ok || !fp.equal(&z.fp) {
		// They all have the same.
		for _, o := range append(p.zygs, z) {
			go o.kill()
		}
		p.zygs = nil
		return nil
	}
	// From here its SIGCHLD is the guest's (putBack if the hand-over fails).
	delete(p.zpids, z.pid)
	return z
}

// poll says whether z is ready, waiting up to ms for it. starting says
// whether it may still be.
func (z *zygote) poll(ms int) bool {
	if z.ready {
		return true
	}
	if ms > 0 {
		fds := []unix.PollFd{{Fd: int32(z.sock), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, ms); err != unix.EINTR {
				break
			}
		}
	}
	var b [1]byte
	n, _, err := unix.Recvfrom(z.sock, b[:], unix.MSG_DONTWAIT)
	z.ready = err == nil && n == 1 && b[0] == zygoteReady
	z.starting = err == unix.EAGAIN
	return z.ready
}

// putBack: z did not become the guest's child after all.
func (p *Process) putBack(z *zygote) {
	p.zmu.Lock()
	p.zpids[z.pid] = true
	p.zmu.Unlock()
}

// zygoteHandoff is the first message of a hand-over: what the descriptors
// that follow it are, and the process state the zygote sets before it says
// yes.
type zygoteHandoff struct {
	FDs     []int  // where each descriptor goes, after the memfd and the cwd
	CloExec []bool // its close-on-exec flag
	Umask   int
	Pgid    int
	Limits  [][3]uint64 // resource, cur, max
}

// handOff gives z the child's state in memfd: every descriptor of this
// process but those of notGuest, except keep (xemu's that the child takes
// over), at the same numbers. It returns the child's pid.
func (p *Process) handOff(z *zygote, memfd int, keep, notGuest []int) (int, error) {
	h := zygoteHandoff{}
	cwd, err := unix.Open(".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(cwd)
	fds := []int{memfd, cwd}
	// The guest's descriptors, then xemu's that the child takes over.
	skip := map[int]bool{memfd: true, cwd: true}
	for _, fd := range notGuest {
		skip[fd] = true
	}
	var send []int
	for _, fd := range p.guestFDs() {
		if !skip[fd] {
			send = append(send, fd)
		}
	}
	for _, fd := range keep {
		if fd != memfd && !slices.Contains(send, fd) {
			send = append(send, fd)
		}
	}
	for _, fd := range send {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			continue
		}
		h.FDs = append(h.FDs, fd)
		h.CloExec = append(h.CloExec, fl&unix.FD_CLOEXEC != 0)
		fds = append(fds, fd)
	}
	h.Umask = unix.Umask(0)
	unix.Umask(h.Umask)
	if h.Pgid, err = unix.Getpgid(0); err != nil {
		return 0, err
	}
	for r := 0; r < 16; r++ {
		var l unix.Rlimit
		if unix.Getrlimit(r, &l) == nil {
			h.Limits = append(h.Limits, [3]uint64{uint64(r), l.Cur, l.Max})
		}
	}
	msg, err := json.Marshal(&h)
	if err != nil {
		return 0, err
	}
	if err := unix.Sendmsg(z.sock, msg, nil, nil, 0); err != nil {
		return 0, err
	}
	for len(fds) > 0 {
		n := min(len(fds), maxRightsPerMessage)
		if err := unix.Sendmsg(z.sock, []byte{0}, unix.UnixRights(fds[:n]...), nil, 0); err != nil {
			return 0, err
		}
		fds = fds[n:]
	}
	var reply [256]byte
	for {
		n, _, err := unix.Recvfrom(z.sock, reply[:], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 1 && reply[0] == zygoteReady {
			continue // a late hello
		}
		if string(reply[:n]) != "ok" {
			return 0, fmt.Errorf("zygote: %s", reply[:n])
		}
		return z.pid, nil
	}
}

// forkedChild records a child of this process, for waits while a zygote
// exists.
func (p *Process) forkedChild(pid int) {
	p.zmu.Lock()
	if p.zon {
		p.knownChildren[pid] = true
	}
	p.zmu.Unlock()
}

// WaitAnyBlocked says whether a wait for any child (pid -1, P_ALL) must
// fail with ECHILD although the host has a child: the only ones are this
// process's own zygote.
func (p *Process) WaitAnyBlocked() bool {
	p.zmu.Lock()
	defer p.zmu.Unlock()
	if !p.zon || len(p.zygs) == 0 {
		return false
	}
	for pid := range p.knownChildren {
		// Gone without a wait of ours (reaped by the kernel while SIGCHLD
		// was ignored): forget it.
		if !hasChild(unix.P_PID, pid) {
			delete(p.knownChildren, pid)
		}
	}
	return len(p.knownChildren) == 0
}

// WaitResult takes what a host wait returned: a reaped child leaves the
// list; the zygote's own end (it was killed) is not the guest's business,
// and retry says to wait again.
func (p *Process) WaitResult(pid int, reaped bool) (retry bool) {
	if pid <= 0 {
		return false
	}
	p.zmu.Lock()
	defer p.zmu.Unlock()
	if i := slices.IndexFunc(p.zygs, func(z *zygote) bool { return z.pid == pid }); i >= 0 {
		z := p.zygs[i]
		p.zygs = slices.Delete(p.zygs, i, i+1)
		if !reaped {
			go z.kill()
		} else {
			z.close()
		}
		return true
	}
	if reaped && p.knownChildren != nil {
		delete(p.knownChildren, pid)
	}
	return false
}

// ZygoteMain is a zygote's life: get ready for a guest of machine, wait for
// a fork's hand-over on sock, and run the child (as Resume does) or exit
// when the parent goes.
func ZygoteMain(sock, parent, machine int) (Resumed, int, error) {
	var info Resumed
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	if unix.Getppid() != parent {
		return info, 0, errors.New("zygote: parent gone")
	}
	// Out of the parent's process group: a wait or kill for the group, and
	// the terminal's signals, are not for it.
	unix.Setpgid(0, 0)
	unix.CloseOnExec(sock)
	// The engine made now is the child's: one thread makes and runs it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	zygoteWarmUp(machine)
	unix.Sendmsg(sock, []byte{zygoteReady}, nil, nil, 0)
	memfd, err := zygoteReceive(sock)
	if err != nil {
		if err == errParentGone {
			os.Exit(0)
		}
		unix.Sendmsg(sock, []byte(err.Error()), nil, nil, 0)
		return info, 0, err
	}
	// Signals sent to the idle zygote (kill -1) were not for the child;
	// from the "ok" on, the parent may send the child its own.
	drainPendingSignals()
	unix.Sendmsg(sock, []byte("ok"), nil, nil, 0)
	unix.Close(sock)
	return Resume(memfd)
}

var errParentGone = errors.New("parent gone")

// zygoteWarmUp does ahead what a fork child's xemu does first: the system
// call tables, the guest's address space and the engine over it. Both are
// kept for the child (Resume takes them), so a fork through the zygote
// opens no engine on its way to the child's first instruction.
func zygoteWarmUp(machine int) {
	abi, err := ForMachine(machine)
	if err != nil {
		return
	}
	space, err := mem.New(mem.Layout{Limit: mem.GuestAddr(abi.Limit), MinAddr: 0x10000, ArenaSize: abi.CPU.ArenaSize})
	if err != nil {
		return
	}
	e, err := cpu.Open(cpu.Config{Arch: abi.CPU, Space: space})
	if err != nil {
		space.Close()
		return
	}
	warm.machine, warm.space, warm.engine = machine, space, e
}

// warm is what zygoteWarmUp made, until the child takes it.
var warm struct {
	machine int
	space   *mem.AddressSpace
	engine  *cpu.Engine // over space, with no handler yet
}

// takeWarmSpace hands over the zygote's empty address space for a guest of
// machine, with the engine made over it, or nothing.
func takeWarmSpace(machine int) (*mem.AddressSpace, *cpu.Engine) {
	if warm.space == nil || warm.machine != machine {
		return nil, nil
	}
	space, e := warm.space, warm.engine
	warm.space, warm.engine = nil, nil
	return space, e
}

// zygoteReceive takes a hand-over: it puts the guest's descriptors in
// place, and the process state, and returns the memfd.
func zygoteReceive(sock int) (int, error) {
	buf := make([]byte, 1<<20)
	var h zygoteHandoff
	for {
		n, _, _, _, err := unix.Recvmsg(sock, buf, nil, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return -1, errParentGone
		}
		if err := json.Unmarshal(buf[:n], &h); err != nil {
			return -1, fmt.Errorf("hand-over: %v", err)
		}
		break
	}
	want := len(h.FDs) + 2
	var got []int
	oob := make([]byte, unix.CmsgSpace(maxRightsPerMessage*4))
	for len(got) < want {
		_, oobn, _, _, err := unix.Recvmsg(sock, buf[:1], oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, errParentGone
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) == 0 {
			return -1, errors.New("hand-over: no descriptors")
		}
		for _, m := range msgs {
			fds, err := unix.ParseUnixRights(&m)
			if err != nil {
				return -1, err
			}
			got = append(got, fds...)
		}
	}
	if len(got) != want {
		return -1, fmt.Errorf("hand-over: %d descriptors for %d", len(got), want)
	}
	// Above every number in play, then down to where each goes.
	top := sock
	for _, fd := range slices.Concat(h.FDs, got, runtimeFDs) {
		top = max(top, fd)
	}
	for _, fd := range h.FDs {
		if slices.Contains(runtimeFDs, fd) {
			return -1, fmt.Errorf("hand-over: descriptor %d is the runtime's here", fd)
		}
	}
	high := make([]int, len(got))
	for i, fd := range got {
		nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, top+1)
		if err != nil {
			return -1, fmt.Errorf("hand-over: %v", err)
		}
		unix.Close(fd)
		high[i] = nfd
		top = nfd
	}
	if slices.Contains(h.FDs, sock) {
		nfd, err := unix.FcntlInt(uintptr(sock), unix.F_DUPFD_CLOEXEC, top+1)
		if err != nil {
			return -1, err
		}
		unix.Close(sock)
		sock = nfd
	}
	// 0, 1 and 2 were /dev/null.
	for fd := 0; fd < 3; fd++ {
		if !slices.Contains(h.FDs, fd) {
			unix.Close(fd)
		}
	}
	for i, fd := range h.FDs {
		flags := 0
		if h.CloExec[i] {
			flags = unix.O_CLOEXEC
		}
		if err := unix.Dup3(high[i+2], fd, flags); err != nil {
			return -1, fmt.Errorf("hand-over: %v", err)
		}
		unix.Close(high[i+2])
	}
	if err := unix.Fchdir(high[1]); err != nil {
		return -1, err
	}
	unix.Close(high[1])
	unix.Umask(h.Umask)
	for _, l := range h.Limits {
		var cur unix.Rlimit
		if unix.Getrlimit(int(l[0]), &cur) == nil && (cur.Cur != l[1] || cur.Max != l[2]) {
			unix.Setrlimit(int(l[0]), &unix.Rlimit{Cur: l[1], Max: l[2]})
		}
	}
	if err := unix.Setpgid(0, h.Pgid); err != nil {
		return -1, fmt.Errorf("hand-over: process group %d: %v", h.Pgid, err)
	}
	unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0)
	memfd := high[0]
	// Resume expects the memfd where the parent had it is irrelevant: any
	// number does, above the guest's.
	return memfd, nil
}

// drainPendingSignals discards the host signals sent to this process so
// far: those xemu's early handler caught (cpu/hostsig.c) and those pending.
func drainPendingSignals() {
	for {
		if _, ok := cpu.NextHostSignal(); !ok {
			break
		}
	}
	var set unix.Sigset_t
	for {
		if _, _, e := unix.RawSyscall(unix.SYS_RT_SIGPENDING, uintptr(unsafe.Pointer(&set)), 8, 0); e != 0 || set == (unix.Sigset_t{}) {
			return
		}
		var all unix.Sigset_t
		for i := range all.Val {
			all.Val[i] = ^uint64(0)
		}
		ts := unix.Timespec{}
		if _, _, e := unix.Syscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(&all)), 0, uintptr(unsafe.Pointer(&ts)), 8, 0, 0); e != 0 {
			return
		}
	}
}
