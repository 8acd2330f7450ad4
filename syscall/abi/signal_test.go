package abi

import "testing"

func TestSignalName(t *testing.T) {
	for sig, want := range map[int]string{
		SIGHUP: "SIGHUP", SIGABRT: "SIGABRT", SIGIO: "SIGIO", SIGSYS: "SIGSYS",
		SIGSTKFLT: "SIGSTKFLT", 32: "SIGRTMIN", 33: "SIGRT_1", 34: "SIGRT_2", 64: "SIGRT_32",
		0: "0", 65: "65", -1: "-1",
	} {
		if got := SignalName(sig); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", sig, got, want)
		}
	}
	for sig := 1; sig <= NSIG; sig++ {
		if SignalName(sig) == "" {
			t.Errorf("signal %d has no name", sig)
		}
	}
}

// TestDefaultAction is the table in signal(7), which the kernel's
// SIG_KERNEL_*_MASK sets implement.
func TestDefaultAction(t *testing.T) {
	want := map[int]SigDefault{
		SIGHUP: SigDefaultTerminate, SIGINT: SigDefaultTerminate, SIGQUIT: SigDefaultCoreDump,
		SIGILL: SigDefaultCoreDump, SIGTRAP: SigDefaultCoreDump, SIGABRT: SigDefaultCoreDump,
		SIGBUS: SigDefaultCoreDump, SIGFPE: SigDefaultCoreDump, SIGKILL: SigDefaultTerminate,
		SIGUSR1: SigDefaultTerminate, SIGSEGV: SigDefaultCoreDump, SIGUSR2: SigDefaultTerminate,
		SIGPIPE: SigDefaultTerminate, SIGALRM: SigDefaultTerminate, SIGTERM: SigDefaultTerminate,
		SIGSTKFLT: SigDefaultTerminate, SIGCHLD: SigDefaultIgnore, SIGCONT: SigDefaultContinue,
		SIGSTOP: SigDefaultStop, SIGTSTP: SigDefaultStop, SIGTTIN: SigDefaultStop,
		SIGTTOU: SigDefaultStop, SIGURG: SigDefaultIgnore, SIGXCPU: SigDefaultCoreDump,
		SIGXFSZ: SigDefaultCoreDump, SIGVTALRM: SigDefaultTerminate, SIGPROF: SigDefaultTerminate,
		SIGWINCH: SigDefaultIgnore, SIGIO: SigDefaultTerminate, SIGPWR: SigDefaultTerminate,
		SIGSYS: SigDefaultCoreDump,
	}
	for sig := 1; sig <= NSIG; sig++ {
		w, ok := want[sig]
		if !ok {
			w = SigDefaultTerminate // real-time signals
		}
		if got := DefaultAction(sig); got != w {
			t.Errorf("DefaultAction(%s) = %v, want %v", SignalName(sig), got, w)
		}
	}
}

func TestSigMask(t *testing.T) {
	if SigMask(1) != 1 || SigMask(64) != 1<<63 || SigUnblockable != SigMask(SIGKILL)|SigMask(SIGSTOP) {
		t.Errorf("SigMask(1)=%#x SigMask(64)=%#x SigUnblockable=%#x", SigMask(1), SigMask(64), uint64(SigUnblockable))
	}
}
