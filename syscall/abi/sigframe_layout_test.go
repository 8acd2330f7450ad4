package abi

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
	"xemu/internal/testenv"
)

// sigCrossTool finds a cross toolchain program or skips the test; with CI set
// a missing tool is a failure, so layout pins cannot silently vanish.
func sigCrossTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Missing(t, "%s not found: install gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf and qemu-user to pin the layouts", name)
	}
	return p
}

// sigHeaderLayout compiles testdata/sigframe_layout_*.c for one triple, runs it
// under qemu-user and returns its "kind name" -> value lines; "libc-off"
// lines come back separately.
func sigHeaderLayout(t *testing.T, triple, qemu string) (kernel, libc map[string]int64) {
	t.Helper()
	gcc := sigCrossTool(t, triple+"-gcc")
	q := sigCrossTool(t, qemu)
	bin := filepath.Join(t.TempDir(), "layout")
	cmd := exec.Command(gcc, "-static", "-O0", "-Wall", "-Werror", "-o", bin,
		"testdata/sigframe_layout_uapi.c", "testdata/sigframe_layout_libc.c")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", gcc, err, out)
	}
	out, err := exec.Command(q, bin).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", q, bin, err)
	}
	kernel, libc = map[string]int64{}, map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			t.Fatalf("bad line %q", sc.Text())
		}
		v, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		if f[0] == "libc-off" {
			libc["off "+f[1]] = v
		} else {
			kernel[f[0]+" "+f[1]] = v
		}
	}
	return kernel, libc
}

// commonSigFacts is what the Go code says about names both architectures
// share, keyed like the printer's lines.
func commonSigFacts() map[string]int64 {
	m := map[string]int64{
		"val SIGHUP": SIGHUP, "val SIGINT": SIGINT, "val SIGQUIT": SIGQUIT, "val SIGILL": SIGILL,
		"val SIGTRAP": SIGTRAP, "val SIGABRT": SIGABRT, "val SIGIOT": SIGIOT, "val SIGBUS": SIGBUS,
		"val SIGFPE": SIGFPE, "val SIGKILL": SIGKILL, "val SIGUSR1": SIGUSR1, "val SIGSEGV": SIGSEGV,
		"val SIGUSR2": SIGUSR2, "val SIGPIPE": SIGPIPE, "val SIGALRM": SIGALRM, "val SIGTERM": SIGTERM,
		"val SIGSTKFLT": SIGSTKFLT, "val SIGCHLD": SIGCHLD, "val SIGCONT": SIGCONT, "val SIGSTOP": SIGSTOP,
		"val SIGTSTP": SIGTSTP, "val SIGTTIN": SIGTTIN, "val SIGTTOU": SIGTTOU, "val SIGURG": SIGURG,
		"val SIGXCPU": SIGXCPU, "val SIGXFSZ": SIGXFSZ, "val SIGVTALRM": SIGVTALRM, "val SIGPROF": SIGPROF,
		"val SIGWINCH": SIGWINCH, "val SIGIO": SIGIO, "val SIGPOLL": SIGPOLL, "val SIGPWR": SIGPWR,
		"val SIGSYS": SIGSYS, "val SIGRTMIN": SIGRTMIN,

		"val SA_NOCLDSTOP": SA_NOCLDSTOP, "val SA_NOCLDWAIT": SA_NOCLDWAIT, "val SA_SIGINFO": SA_SIGINFO,
		"val SA_UNSUPPORTED": SA_UNSUPPORTED, "val SA_EXPOSE_TAGBITS": SA_EXPOSE_TAGBITS,
		"val SA_RESTORER": SA_RESTORER, "val SA_ONSTACK": SA_ONSTACK, "val SA_RESTART": SA_RESTART,
		"val SA_NODEFER": SA_NODEFER, "val SA_RESETHAND": SA_RESETHAND,
		"val SIG_DFL": SIG_DFL, "val SIG_IGN": SIG_IGN,
		"val SS_ONSTACK": SS_ONSTACK, "val SS_DISABLE": SS_DISABLE, "val SS_AUTODISARM": SS_AUTODISARM,

		"val SI_USER": SI_USER, "val SI_KERNEL": SI_KERNEL, "val SI_QUEUE": SI_QUEUE, "val SI_TIMER": SI_TIMER,
		"val SI_MESGQ": SI_MESGQ, "val SI_ASYNCIO": SI_ASYNCIO, "val SI_SIGIO": SI_SIGIO, "val SI_TKILL": SI_TKILL,
		"val SI_DETHREAD": SI_DETHREAD, "val SI_ASYNCNL": SI_ASYNCNL,
		"val ILL_ILLOPC": ILL_ILLOPC, "val ILL_ILLOPN": ILL_ILLOPN, "val ILL_ILLADR": ILL_ILLADR,
		"val ILL_ILLTRP": ILL_ILLTRP, "val ILL_PRVOPC": ILL_PRVOPC, "val ILL_PRVREG": ILL_PRVREG,
		"val ILL_COPROC": ILL_COPROC, "val ILL_BADSTK": ILL_BADSTK, "val ILL_BADIADDR": ILL_BADIADDR,
		"val NSIGILL":    NSIGILL,
		"val FPE_INTDIV": FPE_INTDIV, "val FPE_INTOVF": FPE_INTOVF, "val FPE_FLTDIV": FPE_FLTDIV,
		"val FPE_FLTOVF": FPE_FLTOVF, "val FPE_FLTUND": FPE_FLTUND, "val FPE_FLTRES": FPE_FLTRES,
		"val FPE_FLTINV": FPE_FLTINV, "val FPE_FLTSUB": FPE_FLTSUB, "val FPE_FLTUNK": FPE_FLTUNK,
		"val FPE_CONDTRAP": FPE_CONDTRAP, "val NSIGFPE": NSIGFPE,
		"val SEGV_MAPERR": SEGV_MAPERR, "val SEGV_ACCERR": SEGV_ACCERR, "val SEGV_BNDERR": SEGV_BNDERR,
		"val SEGV_PKUERR": SEGV_PKUERR, "val SEGV_ACCADI": SEGV_ACCADI, "val SEGV_ADIDERR": SEGV_ADIDERR,
		"val SEGV_ADIPERR": SEGV_ADIPERR, "val SEGV_MTEAERR": SEGV_MTEAERR, "val SEGV_MTESERR": SEGV_MTESERR,
		"val NSIGSEGV":   NSIGSEGV,
		"val BUS_ADRALN": BUS_ADRALN, "val BUS_ADRERR": BUS_ADRERR, "val BUS_OBJERR": BUS_OBJERR,
		"val BUS_MCEERR_AR": BUS_MCEERR_AR, "val BUS_MCEERR_AO": BUS_MCEERR_AO, "val NSIGBUS": NSIGBUS,
		"val TRAP_BRKPT": TRAP_BRKPT, "val TRAP_TRACE": TRAP_TRACE, "val TRAP_BRANCH": TRAP_BRANCH,
		"val TRAP_HWBKPT": TRAP_HWBKPT, "val TRAP_UNK": TRAP_UNK, "val TRAP_PERF": TRAP_PERF,
		"val NSIGTRAP":   NSIGTRAP,
		"val CLD_EXITED": CLD_EXITED, "val CLD_KILLED": CLD_KILLED, "val CLD_DUMPED": CLD_DUMPED,
		"val CLD_TRAPPED": CLD_TRAPPED, "val CLD_STOPPED": CLD_STOPPED, "val CLD_CONTINUED": CLD_CONTINUED,
		"val NSIGCHLD": NSIGCHLD,
		"val POLL_IN":  POLL_IN, "val POLL_OUT": POLL_OUT, "val POLL_MSG": POLL_MSG, "val POLL_ERR": POLL_ERR,
		"val POLL_PRI": POLL_PRI, "val POLL_HUP": POLL_HUP, "val NSIGPOLL": NSIGPOLL,
		"val SYS_SECCOMP": SYS_SECCOMP, "val SYS_USER_DISPATCH": SYS_USER_DISPATCH, "val NSIGSYS": NSIGSYS,
	}

	var s SignalfdSigInfo
	m["size signalfd_siginfo"] = int64(unsafe.Sizeof(s))
	for name, off := range map[string]uintptr{
		"ssi_signo": unsafe.Offsetof(s.Signo), "ssi_errno": unsafe.Offsetof(s.Errno),
		"ssi_code": unsafe.Offsetof(s.Code), "ssi_pid": unsafe.Offsetof(s.Pid),
		"ssi_uid": unsafe.Offsetof(s.Uid), "ssi_fd": unsafe.Offsetof(s.FD),
		"ssi_tid": unsafe.Offsetof(s.Tid), "ssi_band": unsafe.Offsetof(s.Band),
		"ssi_overrun": unsafe.Offsetof(s.Overrun), "ssi_trapno": unsafe.Offsetof(s.Trapno),
		"ssi_status": unsafe.Offsetof(s.Status), "ssi_int": unsafe.Offsetof(s.Int),
		"ssi_ptr": unsafe.Offsetof(s.Ptr), "ssi_utime": unsafe.Offsetof(s.Utime),
		"ssi_stime": unsafe.Offsetof(s.Stime), "ssi_addr": unsafe.Offsetof(s.Addr),
		"ssi_addr_lsb": unsafe.Offsetof(s.AddrLSB), "ssi_syscall": unsafe.Offsetof(s.Syscall),
		"ssi_call_addr": unsafe.Offsetof(s.CallAddr), "ssi_arch": unsafe.Offsetof(s.Arch),
	} {
		m["off signalfd_siginfo."+name] = int64(off)
	}
	return m
}

func addSigInfoFacts(m map[string]int64, o *sigInfoOffsets) {
	m["size siginfo"] = SigInfoSize
	for name, off := range map[string]int{
		"si_signo": 0, "si_errno": 4, "si_code": 8,
		"si_pid": o.pid, "si_uid": o.uid, "si_tid": o.tid, "si_overrun": o.overrun,
		"si_value": o.value, "si_status": o.status, "si_utime": o.utime, "si_stime": o.stime,
		"si_addr": o.addr, "si_addr_lsb": o.addrLSB, "si_lower": o.lower, "si_upper": o.upper,
		"si_pkey": o.pkey, "si_perf_data": o.perfData, "si_perf_type": o.perfType,
		"si_perf_flags": o.perfFlags, "si_band": o.band, "si_fd": o.fd,
		"si_call_addr": o.callAddr, "si_syscall": o.syscall, "si_arch": o.arch,
	} {
		m["off siginfo."+name] = int64(off)
	}
}

func aarch64SigFacts() map[string]int64 {
	m := commonSigFacts()
	addSigInfoFacts(m, &sigInfo64)
	var sc SigcontextAArch64
	var uc UcontextAArch64
	var st StackTAArch64
	var fp FPSIMDContextAArch64
	var esr ESRContextAArch64
	var extra ExtraContextAArch64
	var rt RTSigframeAArch64
	for k, v := range map[string]uintptr{
		"size sigcontext":              unsafe.Sizeof(sc),
		"off sigcontext.fault_address": unsafe.Offsetof(sc.FaultAddress),
		"off sigcontext.regs":          unsafe.Offsetof(sc.Regs),
		"off sigcontext.sp":            unsafe.Offsetof(sc.SP),
		"off sigcontext.pc":            unsafe.Offsetof(sc.PC),
		"off sigcontext.pstate":        unsafe.Offsetof(sc.PState),
		"off sigcontext.__reserved":    unsafe.Offsetof(sc.Reserved),
		"size sigcontext.__reserved":   unsafe.Sizeof(sc.Reserved),
		"size ucontext":                unsafe.Sizeof(uc),
		"off ucontext.uc_flags":        unsafe.Offsetof(uc.Flags),
		"off ucontext.uc_link":         unsafe.Offsetof(uc.Link),
		"off ucontext.uc_stack":        unsafe.Offsetof(uc.Stack),
		"off ucontext.uc_sigmask":      unsafe.Offsetof(uc.Sigmask),
		"off ucontext.uc_mcontext":     unsafe.Offsetof(uc.Mcontext),
		"size rt_sigframe":             unsafe.Sizeof(rt),
		"off rt_sigframe.uc":           unsafe.Offsetof(rt.UC),
		"size _aarch64_ctx":            unsafe.Sizeof(AArch64Ctx{}),
		"size fpsimd_context":          unsafe.Sizeof(fp),
		"off fpsimd_context.fpsr":      unsafe.Offsetof(fp.FPSR),
		"off fpsimd_context.fpcr":      unsafe.Offsetof(fp.FPCR),
		"off fpsimd_context.vregs":     unsafe.Offsetof(fp.VRegs),
		"size esr_context":             unsafe.Sizeof(esr),
		"off esr_context.esr":          unsafe.Offsetof(esr.ESR),
		"size extra_context":           unsafe.Sizeof(extra),
		"off extra_context.datap":      unsafe.Offsetof(extra.Datap),
		"off extra_context.size":       unsafe.Offsetof(extra.Size),
		"size stack_t":                 unsafe.Sizeof(st),
		"off stack_t.ss_sp":            unsafe.Offsetof(st.SP),
		"off stack_t.ss_flags":         unsafe.Offsetof(st.Flags),
		"off stack_t.ss_size":          unsafe.Offsetof(st.Size),
	} {
		m[k] = int64(v)
	}
	m["val FPSIMD_MAGIC"] = FPSIMD_MAGIC
	m["val ESR_MAGIC"] = ESR_MAGIC
	m["val EXTRA_MAGIC"] = EXTRA_MAGIC
	m["val SVE_MAGIC"] = SVE_MAGIC
	m["val ZA_MAGIC"] = ZA_MAGIC
	return m
}

func armSigFacts() map[string]int64 {
	m := commonSigFacts()
	addSigInfoFacts(m, &sigInfo32)
	var sc SigcontextARM
	var uc UcontextARM
	var st StackTARM
	var vfp VFPSigframeARM
	var aux AuxSigframeARM
	var sf SigframeARM
	var rt RTSigframeARM
	for k, v := range map[string]uintptr{
		"size sigcontext":                  unsafe.Sizeof(sc),
		"off sigcontext.trap_no":           unsafe.Offsetof(sc.TrapNo),
		"off sigcontext.error_code":        unsafe.Offsetof(sc.ErrorCode),
		"off sigcontext.oldmask":           unsafe.Offsetof(sc.OldMask),
		"off sigcontext.arm_r0":            unsafe.Offsetof(sc.R),
		"off sigcontext.arm_r10":           unsafe.Offsetof(sc.R) + 10*4,
		"off sigcontext.arm_fp":            unsafe.Offsetof(sc.FP),
		"off sigcontext.arm_ip":            unsafe.Offsetof(sc.IP),
		"off sigcontext.arm_sp":            unsafe.Offsetof(sc.SP),
		"off sigcontext.arm_lr":            unsafe.Offsetof(sc.LR),
		"off sigcontext.arm_pc":            unsafe.Offsetof(sc.PC),
		"off sigcontext.arm_cpsr":          unsafe.Offsetof(sc.CPSR),
		"off sigcontext.fault_address":     unsafe.Offsetof(sc.FaultAddress),
		"size ucontext":                    unsafe.Sizeof(uc),
		"off ucontext.uc_flags":            unsafe.Offsetof(uc.Flags),
		"off ucontext.uc_link":             unsafe.Offsetof(uc.Link),
		"off ucontext.uc_stack":            unsafe.Offsetof(uc.Stack),
		"off ucontext.uc_mcontext":         unsafe.Offsetof(uc.Mcontext),
		"off ucontext.uc_sigmask":          unsafe.Offsetof(uc.Sigmask),
		"off ucontext.uc_regspace":         unsafe.Offsetof(uc.Regspace),
		"size sigframe":                    unsafe.Sizeof(sf),
		"off sigframe.retcode":             unsafe.Offsetof(sf.Retcode),
		"off sigframe.retcode[3]":          unsafe.Offsetof(sf.Retcode) + 3*4,
		"size rt_sigframe":                 unsafe.Sizeof(rt),
		"off rt_sigframe.sig":              unsafe.Offsetof(rt.Sig),
		"off rt_sigframe.sig.retcode[3]":   unsafe.Offsetof(rt.Sig) + unsafe.Offsetof(sf.Retcode) + 3*4,
		"size vfp_sigframe":                unsafe.Sizeof(vfp),
		"off vfp_sigframe.ufp.fpregs":      unsafe.Offsetof(vfp.FPRegs),
		"off vfp_sigframe.ufp.fpscr":       unsafe.Offsetof(vfp.FPSCR),
		"off vfp_sigframe.ufp_exc.fpexc":   unsafe.Offsetof(vfp.FPExc),
		"off vfp_sigframe.ufp_exc.fpinst":  unsafe.Offsetof(vfp.FPInst),
		"off vfp_sigframe.ufp_exc.fpinst2": unsafe.Offsetof(vfp.FPInst2),
		"off aux_sigframe.end_magic":       unsafe.Offsetof(aux.EndMagic),
		"size stack_t":                     unsafe.Sizeof(st),
		"off stack_t.ss_sp":                unsafe.Offsetof(st.SP),
		"off stack_t.ss_flags":             unsafe.Offsetof(st.Flags),
		"off stack_t.ss_size":              unsafe.Offsetof(st.Size),
	} {
		m[k] = int64(v)
	}
	m["val VFP_MAGIC"] = VFP_MAGIC
	m["val SA_THIRTYTWO"] = SA_THIRTYTWO
	return m
}

func compareSigFacts(t *testing.T, what string, header, goFacts map[string]int64, every bool) {
	t.Helper()
	for k, hv := range header {
		gv, ok := goFacts[k]
		if !ok {
			t.Errorf("%s: %q = %d is printed but the Go side has no such fact", what, k, hv)
			continue
		}
		if gv != hv {
			t.Errorf("%s: %q: headers say %d, Go says %d", what, k, hv, gv)
		}
	}
	if every {
		for k := range goFacts {
			if _, ok := header[k]; !ok {
				t.Errorf("%s: Go fact %q is not printed by the C program", what, k)
			}
		}
	}
}

// TestSigLayoutsMatchHeaders pins every layout and constant of the signal
// ABI to the cross compilers' kernel headers (and glibc's mirror of them).
func TestSigLayoutsMatchHeaders(t *testing.T) {
	for _, c := range []struct {
		triple, qemu string
		facts        map[string]int64
	}{
		{"aarch64-linux-gnu", "qemu-aarch64", aarch64SigFacts()},
		{"arm-linux-gnueabihf", "qemu-arm", armSigFacts()},
	} {
		t.Run(c.triple, func(t *testing.T) {
			kernel, libc := sigHeaderLayout(t, c.triple, c.qemu)
			compareSigFacts(t, "uapi", kernel, c.facts, true)
			compareSigFacts(t, "glibc", libc, c.facts, false)
		})
	}
}

// sigAssembled assembles src with the triple's gcc and returns section sect.
func sigAssembled(t *testing.T, triple, src, sect string) []byte {
	t.Helper()
	gcc := sigCrossTool(t, triple+"-gcc")
	objcopy := sigCrossTool(t, triple+"-objcopy")
	dir := t.TempDir()
	obj, bin := filepath.Join(dir, "x.o"), filepath.Join(dir, "x.bin")
	if out, err := exec.Command(gcc, "-c", "-o", obj, src).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", gcc, err, out)
	}
	if out, err := exec.Command(objcopy, "-O", "binary", "-j", sect, obj, bin).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", objcopy, err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestARMSigreturnCodesAssemble(t *testing.T) {
	want := sigAssembled(t, "arm-linux-gnueabihf", "testdata/sigreturn_codes_arm32.S", ".rodata")
	if got := SigFrameARM.TrampolineCode(); !bytes.Equal(got, want) {
		t.Errorf("TrampolineCode:\n got % x\nwant % x", got, want)
	}
}

func TestAArch64TrampolineAssembles(t *testing.T) {
	want := sigAssembled(t, "aarch64-linux-gnu", "testdata/sigreturn_aarch64.S", ".text")
	if got := SigFrameAArch64.TrampolineCode(); !bytes.Equal(got, want) {
		t.Errorf("TrampolineCode:\n got % x\nwant % x", got, want)
	}
}
