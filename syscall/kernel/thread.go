package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
)

// Threads: each guest thread runs on its own host thread (a goroutine
// locked to it) with its own engine, in parallel with the others; guest TID
// = host TID. Engines share the address space; its page table is read
// without locks by every engine's TLB fill, so what a change of memory makes
// stale in other engines (TLB entries, translated code) is dropped through
// mmSync below before the host memory behind it changes (mem/locking.go).
//
// mmSync: a generation number counts changes. A thread that makes one bumps
// it and waits until every engine that is running guest code has applied it
// (an Interrupt stops it at its next block start, and the run loop applies
// it); threads in the kernel (system calls, waits) apply it on their way
// back to guest code. Engines never wait for each other otherwise.

// threadState is per-thread state for mmSync and thread exit.
type threadState struct {
	// running: the engine may be executing guest code (between leaving
	// the kernel and entering it again).
	running atomic.Bool
	// seenGen is the mmSync generation the engine has applied.
	seenGen atomic.Uint64
	codeMu  sync.Mutex
	// staleCode are guest ranges whose translated code the engine must drop.
	staleCode [][2]mem.GuestAddr
	// threadExited: the thread ended with exit (others go on).
	threadExited bool
	// mainThread: the thread xemu started on, whose return ends xemu.
	mainThread bool
}

// processThreads is the per-process side.
type processThreads struct {
	mmGen    atomic.Uint64
	done     chan struct{} // closed when the process ends
	doneOnce sync.Once
	poolMu   sync.Mutex
	pool     []*cpu.Engine // engines of ended threads, kept with their code
	multi    atomic.Bool   // the process has had more than one thread
}

func (p *Process) initThreads() { p.done = make(chan struct{}) }

// FlushTLB implements mem.Observer: no engine keeps a stale TLB entry.
func (p *Process) FlushTLB() { p.syncEngines() }

// InvalidateCode implements mem.Observer: no engine runs code translated
// from [start, end) any more.
func (p *Process) InvalidateCode(start, end mem.GuestAddr) {
	for _, t := range p.taskList() {
		t.codeMu.Lock()
		t.staleCode = append(t.staleCode, [2]mem.GuestAddr{start, end})
		t.codeMu.Unlock()
	}
	p.syncEngines()
}

func (p *Process) taskList() []*Task {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	out := make([]*Task, 0, len(p.tasks))
	for _, t := range p.tasks {
		out = append(out, t)
	}
	return out
}

// syncEngines publishes a new generation and waits until no engine runs
// guest code with an older one.
func (p *Process) syncEngines() {
	gen := p.mmGen.Add(1)
	if !p.multi.Load() {
		return // the only engine is the caller's, in the kernel now
	}
	p.waitEngines(gen)
}

// waitEngines waits until no engine but the caller's runs guest code with
// a generation older than gen.
func (p *Process) waitEngines(gen uint64) {
	self := unix.Gettid()
	for _, o := range p.taskList() {
		if o.CPU == nil || o.hostTID == self {
			continue
		}
		// Sleep, not spin: the thread to wait for needs a P of the Go
		// scheduler to come back from guest code and apply the change.
		for i := 0; o.running.Load() && o.seenGen.Load() < gen; i++ {
			if i%64 == 0 {
				o.CPU.Interrupt()
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
}

// syncMM applies the changes of memory other threads made: on the engine's
// own thread, before it runs guest code.
func (t *Task) syncMM() {
	g := t.P.mmGen.Load()
	if t.seenGen.Load() == g {
		return
	}
	t.codeMu.Lock()
	ranges := t.staleCode
	t.staleCode = nil
	t.codeMu.Unlock()
	for _, r := range ranges {
		t.CPU.InvalidateCode(r[0], r[1])
	}
	t.CPU.FlushTLB()
	t.seenGen.Store(g)
}

// enterKernel and leaveKernel bracket work a thread does outside guest code
// while its engine is inside a callback.
// Running: the thread may be executing guest code now (not stopped in a
// system call, a fault or a signal).
func (t *Task) Running() bool { return t.running.Load() }

func (t *Task) enterKernel() { t.running.Store(false) }

func (t *Task) leaveKernel() {
	t.running.Store(true)
	t.syncMM()
}

// CodeWritten implements cpu.CodeHandler: IC IVAU on [start, end) reaches
// every engine, and the other views of the same bytes.
func (t *Task) CodeWritten(e *cpu.Engine, start, end mem.GuestAddr) {
	t.enterKernel()
	defer t.leaveKernel()
	p := t.P
	p.InvalidateCode(start, end)
	for _, a := range p.Mem.Aliases(start) {
		p.InvalidateCode(a, a+(end-start))
	}
}

// NewThread starts a thread as clone(CLONE_VM|CLONE_THREAD|...) does and
// returns its TID.
func (t *Task) NewThread(c CloneArgs) (int, error) {
	need := uint64(CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)
	if c.Flags&need != need {
		return 0, unix.EINVAL
	}
	// Host threads share descriptors and the file-system context; a
	// thread with its own cannot be made here.
	if c.Flags&(CLONE_FS|CLONE_FILES) != CLONE_FS|CLONE_FILES {
		return 0, unix.ENOSYS
	}
	rest := c.Flags &^ (need | CLONE_FS | CLONE_FILES | CLONE_SETTLS | CLONE_PARENT_SETTID |
		CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | cloneIgnored)
	if rest != 0 {
		return 0, unix.EINVAL
	}
	p := t.P
	var regs cpu.Regs
	if err := t.CPU.SaveRegs(&regs); err != nil {
		return 0, unix.EAGAIN
	}
	regs.X[0] = 0
	if c.Stack != 0 {
		regs.SP = c.Stack
	}
	if c.Flags&CLONE_SETTLS != 0 {
		regs.TLS = c.TLS
	}
	p.multi.Store(true)
	allProcs()
	started := make(chan *Task)
	proceed := make(chan struct{})
	go func() {
		// Never unlocked: the host thread ends with the guest thread.
		runtime.LockOSThread()
		nt := newTask(p)
		p.sigMu.Lock()
		nt.mask = t.mask // the new thread's alternate stack is none
		p.sigMu.Unlock()
		nt.SetName(t.Name())
		e, err := p.takeEngine(nt)
		if err == nil {
			err = e.RestoreRegs(&regs)
		}
		if err != nil {
			p.removeTask(nt)
			started <- nil
			return
		}
		if c.Flags&CLONE_CHILD_SETTID != 0 {
			nt.PutU32(c.ChildTID, uint32(nt.TID))
		}
		if c.Flags&CLONE_CHILD_CLEARTID != 0 {
			nt.ClearChildTID = c.ChildTID
		}
		started <- nt
		<-proceed
		nt.run(p.ABI.CPU.ResumePC(e, e.PC()))
		nt.threadEnded()
	}()
	nt := <-started
	if nt == nil {
		return 0, unix.EAGAIN
	}
	if c.Flags&CLONE_PARENT_SETTID != 0 {
		t.PutU32(c.ParentTID, uint32(nt.TID))
	}
	// With more than one engine, every IC IVAU must reach them all.
	for _, o := range p.taskList() {
		if o.CPU != nil {
			o.CPU.SetCodeBroadcast(true)
		}
	}
	close(proceed)
	return nt.TID, nil
}

// takeEngine gives a new thread an engine: one a finished thread left (its
// translated code still good), or a new one.
func (p *Process) takeEngine(t *Task) (*cpu.Engine, error) {
	p.poolMu.Lock()
	var e *cpu.Engine
	if n := len(p.pool); n > 0 {
		e, p.pool = p.pool[n-1], p.pool[:n-1]
	}
	p.poolMu.Unlock()
	if e != nil {
		e.SetHandler(t)
		e.ClearInterrupt()
		e.FlushTLB()
		t.CPU = e
		t.seenGen.Store(0) // apply everything on the way in
		return e, nil
	}
	return t.startEngine()
}

func (p *Process) removeTask(t *Task) int {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	delete(p.tasks, t.TID)
	return len(p.tasks)
}

// threadEnded runs on a thread's own goroutine after its run loop: the
// engine goes back to the pool, and if the process ended, its main thread
// is told.
func (t *Task) threadEnded() {
	p := t.P
	if p.exited {
		p.endProcess()
		return
	}
	t.running.Store(false)
	p.poolMu.Lock()
	p.pool = append(p.pool, t.CPU)
	p.poolMu.Unlock()
}

// ExitThread ends the calling thread (exit); the last one ends the process.
func (t *Task) ExitThread(status int) {
	p := t.P
	remaining := p.removeTask(t)
	t.exitRobustList()
	if t.ClearChildTID != 0 {
		// CLONE_CHILD_CLEARTID: pthread_join waits on this word.
		if t.PutU32(t.ClearChildTID, 0) == nil {
			if b, err := p.Mem.Slice(t.ClearChildTID, 4, mem.ProtRead); err == nil {
				unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&b[0])), 1 /* FUTEX_WAKE */, 1, 0, 0, 0)
			}
		}
	}
	if remaining == 0 {
		t.Exit(status)
		return
	}
	t.threadExited = true
	t.CPU.RequestStop()
}

// endProcess wakes every thread of a process that has ended: the main one
// returns from Run, and the process exits with it.
func (p *Process) endProcess() {
	p.doneOnce.Do(func() { close(p.done) })
	self := unix.Gettid()
	for _, o := range p.taskList() {
		if o.hostTID == self {
			continue
		}
		if o.CPU != nil {
			o.CPU.Interrupt()
		}
		if o.hostCallSeq.Load()&1 != 0 {
			cpu.KickThread(o.hostTID)
		}
	}
}

// Robust futexes (include/uapi/linux/futex.h): when a thread ends holding
// one, the kernel marks it FUTEX_OWNER_DIED and wakes a waiter, so the next
// locker gets EOWNERDEAD. The host kernel cannot walk the guest's list, so
// xemu does (kernel/futex/core.c exit_robust_list).
const (
	futexWaiters    = 0x80000000
	futexOwnerDied  = 0x40000000
	futexTIDMask    = 0x3fffffff
	robustListLimit = 2048
)

func (t *Task) exitRobustList() {
	head := t.RobustList
	if head == 0 {
		return
	}
	w := mem.GuestAddr(t.WordSize())
	entry := func(a mem.GuestAddr) (mem.GuestAddr, bool, bool) {
		v, err := t.GetWord(a)
		return mem.GuestAddr(v &^ 1), v&1 != 0, err == nil
	}
	next, pi, ok := entry(head)
	if !ok {
		return
	}
	off, err := t.GetWord(head + w)
	if err != nil {
		return
	}
	if t.P.ABI.Class == 32 {
		off = uint64(int64(int32(off)))
	}
	pending, ppi, ok := entry(head + 2*w)
	if !ok {
		return
	}
	for n := 0; next != head && n < robustListLimit; n++ {
		following, fpi, ok := entry(next)
		if next != pending {
			t.futexDeath(next+mem.GuestAddr(off), pi)
		}
		if !ok {
			return
		}
		next, pi = following, fpi
	}
	if pending != 0 {
		t.futexDeath(pending+mem.GuestAddr(off), ppi)
	}
}

// futexDeath marks a lock word the ending thread owns as its owner's death.
func (t *Task) futexDeath(a mem.GuestAddr, pi bool) {
	if a%4 != 0 {
		return
	}
	b, err := t.P.Mem.Slice(a, 4, mem.ProtRead|mem.ProtWrite)
	if err != nil {
		return
	}
	word := (*uint32)(unsafe.Pointer(&b[0]))
	for {
		v := atomic.LoadUint32(word)
		if v&futexTIDMask != uint32(t.TID) {
			return
		}
		nv := v&futexWaiters | futexOwnerDied
		if atomic.CompareAndSwapUint32(word, v, nv) {
			if !pi && v&futexWaiters != 0 {
				unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), 1 /* FUTEX_WAKE */, 1, 0, 0, 0)
			}
			return
		}
	}
}
