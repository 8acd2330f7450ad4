package abi

import "strconv"

// Signal numbers, the same on ARM and AArch64 (arch/arm/include/uapi/asm/signal.h,
// include/uapi/asm-generic/signal.h).
const (
	SIGHUP    = 1
	SIGINT    = 2
	SIGQUIT   = 3
	SIGILL    = 4
	SIGTRAP   = 5
	SIGABRT   = 6
	SIGIOT    = 6
	SIGBUS    = 7
	SIGFPE    = 8
	SIGKILL   = 9
	SIGUSR1   = 10
	SIGSEGV   = 11
	SIGUSR2   = 12
	SIGPIPE   = 13
	SIGALRM   = 14
	SIGTERM   = 15
	SIGSTKFLT = 16
	SIGCHLD   = 17
	SIGCONT   = 18
	SIGSTOP   = 19
	SIGTSTP   = 20
	SIGTTIN   = 21
	SIGTTOU   = 22
	SIGURG    = 23
	SIGXCPU   = 24
	SIGXFSZ   = 25
	SIGVTALRM = 26
	SIGPROF   = 27
	SIGWINCH  = 28
	SIGIO     = 29
	SIGPOLL   = SIGIO
	SIGPWR    = 30
	SIGSYS    = 31

	// SIGRTMIN is the kernel's first real-time signal; glibc reserves
	// 32 and 33 for itself and reports 34 as SIGRTMIN to programs.
	SIGRTMIN = 32
	SIGRTMAX = NSIG

	// NSIG is the kernel's _NSIG: signals are 1..64 and a sigset_t is
	// 64 bits on both architectures.
	NSIG = 64
)

// SigSetSize is sizeof(sigset_t) in the kernel (the sigsetsize argument
// rt_sig* calls insist on).
const SigSetSize = NSIG / 8

// SigMask is the bit of sig in a sigset_t (sigmask() in include/linux/signal.h).
func SigMask(sig int) uint64 { return 1 << (uint(sig) - 1) }

// SigUnblockable is what sigprocmask, sigreturn and sigaction's sa_mask can
// never block (kernel/signal.c: sigdelsetmask(..., sigmask(SIGKILL)|sigmask(SIGSTOP))).
const SigUnblockable = 1<<(SIGKILL-1) | 1<<(SIGSTOP-1)

// sa_flags (include/uapi/asm-generic/signal-defs.h; SA_RESTORER and
// SA_THIRTYTWO from arch/arm/include/uapi/asm/signal.h, SA_RESTORER also in
// arch/arm64/include/uapi/asm/signal.h).
const (
	SA_NOCLDSTOP      = 0x00000001
	SA_NOCLDWAIT      = 0x00000002
	SA_SIGINFO        = 0x00000004
	SA_UNSUPPORTED    = 0x00000400
	SA_EXPOSE_TAGBITS = 0x00000800
	SA_THIRTYTWO      = 0x02000000 // ARM only
	SA_RESTORER       = 0x04000000
	SA_ONSTACK        = 0x08000000
	SA_RESTART        = 0x10000000
	SA_NODEFER        = 0x40000000
	SA_RESETHAND      = 0x80000000
	SA_NOMASK         = SA_NODEFER
	SA_ONESHOT        = SA_RESETHAND
)

// Signal dispositions (include/uapi/asm-generic/signal-defs.h).
const (
	SIG_DFL = 0
	SIG_IGN = 1
)

// sigaltstack ss_flags (include/uapi/linux/signal.h).
const (
	SS_ONSTACK    = 1
	SS_DISABLE    = 2
	SS_AUTODISARM = 1 << 31
)

// si_code values (include/uapi/asm-generic/siginfo.h).
const (
	SI_USER     = 0
	SI_KERNEL   = 0x80
	SI_QUEUE    = -1
	SI_TIMER    = -2
	SI_MESGQ    = -3
	SI_ASYNCIO  = -4
	SI_SIGIO    = -5
	SI_TKILL    = -6
	SI_DETHREAD = -7
	SI_ASYNCNL  = -60

	ILL_ILLOPC   = 1
	ILL_ILLOPN   = 2
	ILL_ILLADR   = 3
	ILL_ILLTRP   = 4
	ILL_PRVOPC   = 5
	ILL_PRVREG   = 6
	ILL_COPROC   = 7
	ILL_BADSTK   = 8
	ILL_BADIADDR = 9
	NSIGILL      = 11

	FPE_INTDIV   = 1
	FPE_INTOVF   = 2
	FPE_FLTDIV   = 3
	FPE_FLTOVF   = 4
	FPE_FLTUND   = 5
	FPE_FLTRES   = 6
	FPE_FLTINV   = 7
	FPE_FLTSUB   = 8
	FPE_FLTUNK   = 14
	FPE_CONDTRAP = 15
	NSIGFPE      = 15

	SEGV_MAPERR  = 1
	SEGV_ACCERR  = 2
	SEGV_BNDERR  = 3
	SEGV_PKUERR  = 4
	SEGV_ACCADI  = 5
	SEGV_ADIDERR = 6
	SEGV_ADIPERR = 7
	SEGV_MTEAERR = 8
	SEGV_MTESERR = 9
	NSIGSEGV     = 9

	BUS_ADRALN    = 1
	BUS_ADRERR    = 2
	BUS_OBJERR    = 3
	BUS_MCEERR_AR = 4
	BUS_MCEERR_AO = 5
	NSIGBUS       = 5

	TRAP_BRKPT  = 1
	TRAP_TRACE  = 2
	TRAP_BRANCH = 3
	TRAP_HWBKPT = 4
	TRAP_UNK    = 5
	TRAP_PERF   = 6
	NSIGTRAP    = 6

	CLD_EXITED    = 1
	CLD_KILLED    = 2
	CLD_DUMPED    = 3
	CLD_TRAPPED   = 4
	CLD_STOPPED   = 5
	CLD_CONTINUED = 6
	NSIGCHLD      = 6

	POLL_IN  = 1
	POLL_OUT = 2
	POLL_MSG = 3
	POLL_ERR = 4
	POLL_PRI = 5
	POLL_HUP = 6
	NSIGPOLL = 6

	SYS_SECCOMP       = 1
	SYS_USER_DISPATCH = 2
	NSIGSYS           = 2
)

// SigDefault is what a signal does when its disposition is SIG_DFL.
type SigDefault int

const (
	SigDefaultTerminate SigDefault = iota
	SigDefaultCoreDump
	SigDefaultIgnore
	SigDefaultStop
	// SigDefaultContinue is SIGCONT's: at delivery it is ignored like
	// SIGCHLD, but a stopped thread group resumes when the signal is
	// generated, whatever the disposition (kernel/signal.c prepare_signal).
	SigDefaultContinue
)

func (d SigDefault) String() string {
	switch d {
	case SigDefaultTerminate:
		return "terminate"
	case SigDefaultCoreDump:
		return "core"
	case SigDefaultIgnore:
		return "ignore"
	case SigDefaultStop:
		return "stop"
	case SigDefaultContinue:
		return "continue"
	}
	return "SigDefault(" + strconv.Itoa(int(d)) + ")"
}

// The kernel's default-action sets (include/linux/signal.h:
// SIG_KERNEL_COREDUMP_MASK, SIG_KERNEL_IGNORE_MASK, SIG_KERNEL_STOP_MASK).
const (
	sigCoreDumpSet = 1<<(SIGQUIT-1) | 1<<(SIGILL-1) | 1<<(SIGTRAP-1) | 1<<(SIGABRT-1) |
		1<<(SIGFPE-1) | 1<<(SIGSEGV-1) | 1<<(SIGBUS-1) | 1<<(SIGSYS-1) |
		1<<(SIGXCPU-1) | 1<<(SIGXFSZ-1)
	sigIgnoreSet = 1<<(SIGCONT-1) | 1<<(SIGCHLD-1) | 1<<(SIGWINCH-1) | 1<<(SIGURG-1)
	sigStopSet   = 1<<(SIGSTOP-1) | 1<<(SIGTSTP-1) | 1<<(SIGTTIN-1) | 1<<(SIGTTOU-1)
)

// DefaultAction is what SIG_DFL does for sig (1..NSIG); every signal not in
// one of the kernel's sets, real-time signals included, terminates.
func DefaultAction(sig int) SigDefault {
	if sig < 1 || sig > NSIG {
		return SigDefaultTerminate
	}
	m := SigMask(sig)
	switch {
	case sig == SIGCONT:
		return SigDefaultContinue
	case m&sigCoreDumpSet != 0:
		return SigDefaultCoreDump
	case m&sigIgnoreSet != 0:
		return SigDefaultIgnore
	case m&sigStopSet != 0:
		return SigDefaultStop
	}
	return SigDefaultTerminate
}

var signalNames = [...]string{
	SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL",
	SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
	SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2",
	SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGSTKFLT: "SIGSTKFLT",
	SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP", SIGTSTP: "SIGTSTP",
	SIGTTIN: "SIGTTIN", SIGTTOU: "SIGTTOU", SIGURG: "SIGURG", SIGXCPU: "SIGXCPU",
	SIGXFSZ: "SIGXFSZ", SIGVTALRM: "SIGVTALRM", SIGPROF: "SIGPROF", SIGWINCH: "SIGWINCH",
	SIGIO: "SIGIO", SIGPWR: "SIGPWR", SIGSYS: "SIGSYS", SIGRTMIN: "SIGRTMIN",
}

// SignalName names sig the way strace does: SIGHUP..SIGSYS, SIGRTMIN for 32,
// SIGRT_n for 32+n, and the bare number for anything else.
func SignalName(sig int) string {
	if sig > 0 && sig < len(signalNames) {
		return signalNames[sig]
	}
	if sig > SIGRTMIN && sig <= SIGRTMAX {
		return "SIGRT_" + strconv.Itoa(sig-SIGRTMIN)
	}
	return strconv.Itoa(sig)
}
