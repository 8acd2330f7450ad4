package linux

import (
	"xemu/syscall/abi"
	"xemu/syscall/kernel"

	"golang.org/x/sys/unix"

	"xemu/cpu"
	"xemu/cpu/mem"
)

// ARM's own calls: the private ones at 0xf0000 (arch/arm/kernel/traps.c
// arm_syscall) and the EABI versions of calls whose 64-bit arguments had
// to be reordered to land in register pairs (arch/arm/kernel/sys_arm.c).

// armSetTLS is __ARM_NR_set_tls: the thread register TPIDRURO, which user
// code reads with mrc p15, 0, rX, c13, c0, 3 and __kuser_get_tls returns.
func armSetTLS(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, t.P.ABI.SetTLS(t.CPU, uint64(a.Uint(0)))
}

// armGetTLS is __ARM_NR_get_tls.
func armGetTLS(t *kernel.Task, a kernel.Args) (uint64, error) { return t.CPU.Reg(cpu.ARMTLS), nil }

// armCacheflush is __ARM_NR_cacheflush(start, end, flags): a program that
// wrote code says so. Code translated from [start, end) is dropped, and from
// every other mapping of the same memory: a JIT writes through one view and
// runs another, and stores through one are not seen at the other.
func armCacheflush(t *kernel.Task, a kernel.Args) (uint64, error) {
	start, end := a.Addr(0), a.Addr(1)
	if end < start || a.Uint(2) != 0 {
		return 0, unix.EINVAL
	}
	if uint64(end) > uint64(t.P.Mem.Limit) {
		return 0, unix.EFAULT // access_ok
	}
	if start == end {
		return 0, nil
	}
	// Cache maintenance on an unmapped page faults: EFAULT.
	if _, err := t.P.Mem.HostRanges(start, uint64(end-start)); err != nil {
		return 0, unix.EFAULT
	}
	// Every engine of the process drops it (threads run on their own).
	t.P.InvalidateCode(start, end)
	for page := start &^ (mem.PageSize - 1); page < end; page += mem.PageSize {
		lo, hi := max(page, start), min(page+mem.PageSize, end)
		for _, alias := range t.P.Mem.Aliases(page) {
			t.P.InvalidateCode(alias+(lo-page), alias+(hi-page))
		}
	}
	return 0, nil
}

// armBreakpoint is __ARM_NR_breakpoint: the pc goes back to the svc and the
// process gets SIGTRAP (ptrace_break), which nothing blocks or ignores.
func armBreakpoint(t *kernel.Task, a kernel.Args) (uint64, error) {
	t.ForceFromSyscall(abi.SIGTRAP, abi.TRAP_BRKPT, true, "breakpoint system call")
	return a.U64(0), nil
}

// armBadSyscall: usr26 and usr32 switch to and from 26-bit mode, which ARMv7
// has not got (no HWCAP_26BIT): arm_syscall's bad-syscall path, SIGILL.
func armBadSyscall(t *kernel.Task, a kernel.Args) (uint64, error) {
	t.ForceFromSyscall(abi.SIGILL, abi.ILL_ILLTRP, false, "bad system call")
	return a.U64(0), nil
}

// armFadvise64_64 is fadvise64_64 with the advice moved before the offsets,
// so that they fall in register pairs.
func armFadvise64_64(t *kernel.Task, a kernel.Args) (uint64, error) {
	return fadvise64(t, kernel.Args{a[0], a[2], a[3], a[1]})
}

// armSyncFileRange is sync_file_range2(fd, flags, offset, nbytes), the
// reordered sync_file_range.
func armSyncFileRange(t *kernel.Task, a kernel.Args) (uint64, error) {
	return 0, unix.SyncFileRange(a.FD(0), a.I64(2), a.I64(3), a.Int(1))
}

func init() {
	kernel.AddEntries(map[string]*kernel.Entry{
		"ARM_set_tls":         {Fn: armSetTLS, Args: kernel.Kinds(kernel.KHex)},
		"ARM_get_tls":         {Fn: armGetTLS, Ret: kernel.RetHex},
		"ARM_cacheflush":      {Fn: armCacheflush, Args: kernel.Kinds(kernel.KPtr, kernel.KPtr, kernel.KHex)},
		"ARM_breakpoint":      {Fn: armBreakpoint, Ret: kernel.RetNone},
		"ARM_usr26":           {Fn: armBadSyscall, Ret: kernel.RetNone},
		"ARM_usr32":           {Fn: armBadSyscall, Ret: kernel.RetNone},
		"arm_fadvise64_64":    {Fn: armFadvise64_64, Args: kernel.Kinds(kernel.KFD, kernel.KInt, kernel.KOff64, kernel.KOff64)},
		"arm_sync_file_range": {Fn: armSyncFileRange, Args: kernel.Kinds(kernel.KFD, kernel.KHex, kernel.KOff64, kernel.KOff64)},
	})
}
