// User code runs at EL0, as under Linux: system registers and privileged
// instructions raise SIGILL (ILL_ILLOPC, at the instruction), the ID
// registers read through the kernel's MRS emulation (sanitised values that
// agree with AT_HWCAP; arch/arm64/kernel/cpufeature.c), the endianness
// cannot be flipped, and what EL0 may do still works: TLS, DC ZVA, cache
// maintenance, CTR_EL0, the virtual counter, FP/SIMD, WFI (skipped by the
// kernel), WFE and YIELD. The values depend on the emulated CPU, so the
// program is its own oracle.
// xemu-test: arch=aarch64
// xemu-test: oracle=self
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef HWCAP_CPUID
#define HWCAP_CPUID (1 << 11)
#endif

static int failures;

static void check(int ok, const char *what) {
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

static sigjmp_buf env;
static volatile uint64_t insn_at;
static volatile int got_code;
static volatile uint64_t got_addr;

static void on_sigill(int sig, siginfo_t *si, void *uc) {
	(void)sig, (void)uc;
	got_code = si->si_code;
	got_addr = (uint64_t)si->si_addr;
	siglongjmp(env, 1);
}

// PRIVX runs setup, then one instruction that must raise SIGILL with
// ILL_ILLOPC at its own address; x9 carries the instruction's address out
// before it runs.
#define PRIV(name, insn) PRIVX(name, "", insn)
#define PRIVX(name, setup, insn)                                                      \
	do {                                                                          \
		got_code = 0;                                                         \
		if (sigsetjmp(env, 1) == 0) {                                         \
			__asm__ volatile(setup "\n\tadr x9, 1f\n\tstr x9, [%0]\n1:\t" insn \
					 : : "r"(&insn_at) : "x0", "x9", "memory");       \
			check(0, name ": ran at EL0");                                \
		} else {                                                              \
			check(got_code == ILL_ILLOPC && got_addr == insn_at,          \
			      name ": SIGILL, ILL_ILLOPC at the instruction");        \
		}                                                                     \
	} while (0)

#define MRS(reg)                                              \
	({                                                    \
		uint64_t v_;                                  \
		__asm__ volatile("mrs %0, " reg : "=r"(v_)); \
		v_;                                           \
	})

static unsigned field(uint64_t r, int shift) { return (r >> shift) & 0xf; }

// New threads and forked children start unprivileged too.
static void *in_thread(void *arg) {
	(void)arg;
	PRIV("thread: msr SCTLR_EL1", "msr sctlr_el1, xzr");
	check(MRS("mpidr_el1") == 1ULL << 31, "thread: MPIDR_EL1 emulated");
	return NULL;
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigill;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGILL, &sa, NULL);

	unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
	check(hw & HWCAP_CPUID, "AT_HWCAP has CPUID");

	// Emulated ID registers.
	uint64_t midr = MRS("midr_el1");
	unsigned impl = ~0u, part = ~0u;
	FILE *ci = fopen("/proc/cpuinfo", "r");
	char line[256];
	while (ci && fgets(line, sizeof line, ci)) {
		sscanf(line, "CPU implementer : %x", &impl);
		sscanf(line, "CPU part : %x", &part);
	}
	if (ci)
		fclose(ci);
	check(midr >> 24 == impl && (midr >> 4 & 0xfff) == part, "MIDR_EL1 is the CPU /proc/cpuinfo describes");
	check((midr >> 16 & 0xf) == 0xf, "MIDR_EL1.Architecture is 0xf (features in the ID registers)");
	check(MRS("mpidr_el1") == 1ULL << 31, "MPIDR_EL1 is the safe value, bit 31");
	check(MRS("revidr_el1") == 0, "REVIDR_EL1 reads 0");
	uint64_t isar0 = MRS("id_aa64isar0_el1"), isar1 = MRS("id_aa64isar1_el1");
	uint64_t pfr0 = MRS("id_aa64pfr0_el1"), pfr1 = MRS("id_aa64pfr1_el1");
	uint64_t mmfr0 = MRS("id_aa64mmfr0_el1"), dfr0 = MRS("id_aa64dfr0_el1");
	check(!!(hw & HWCAP_AES) == (field(isar0, 4) >= 1), "ISAR0.AES agrees with HWCAP_AES");
	check(!!(hw & HWCAP_PMULL) == (field(isar0, 4) >= 2), "ISAR0.AES agrees with HWCAP_PMULL");
	check(!!(hw & HWCAP_SHA1) == (field(isar0, 8) >= 1), "ISAR0.SHA1 agrees with HWCAP_SHA1");
	check(!!(hw & HWCAP_SHA2) == (field(isar0, 12) >= 1), "ISAR0.SHA2 agrees with HWCAP_SHA2");
	check(!!(hw & HWCAP_CRC32) == (field(isar0, 16) >= 1), "ISAR0.CRC32 agrees with HWCAP_CRC32");
	check(!!(hw & HWCAP_ATOMICS) == (field(isar0, 20) >= 2), "ISAR0.Atomic agrees with HWCAP_ATOMICS");
	check(!!(hw & HWCAP_ASIMDDP) == (field(isar0, 44) >= 1), "ISAR0.DP agrees with HWCAP_ASIMDDP");
	check(field(isar0, 56) == 0, "ISAR0.TLB is hidden (0)");
	check(!!(hw & HWCAP_JSCVT) == (field(isar1, 12) >= 1), "ISAR1.JSCVT agrees with HWCAP_JSCVT");
	check(!!(hw & HWCAP_LRCPC) == (field(isar1, 20) >= 1), "ISAR1.LRCPC agrees with HWCAP_LRCPC");
	check(field(isar1, 4) == 0 && field(isar1, 8) == 0 && field(isar1, 24) == 0 && field(isar1, 28) == 0,
	      "ISAR1 pointer authentication fields are hidden (0), as HWCAP_PACA/PACG are absent");
	check(!(hw & (HWCAP_PACA | HWCAP_PACG | HWCAP_SVE)), "no PACA, PACG or SVE in AT_HWCAP");
	check(!!(hw & HWCAP_FP) == (field(pfr0, 16) != 0xf), "PFR0.FP agrees with HWCAP_FP");
	check(!!(hw & HWCAP_ASIMD) == (field(pfr0, 20) != 0xf), "PFR0.AdvSIMD agrees with HWCAP_ASIMD");
	check(field(pfr0, 0) == 1 && field(pfr0, 4) == 1 && field(pfr0, 8) == 0 && field(pfr0, 12) == 0,
	      "PFR0: EL0 and EL1 hidden as 64-bit only, EL2 and EL3 as 0");
	check(field(pfr0, 32) == 0, "PFR0.SVE hidden (0)");
	check(!!(hw & HWCAP_SSBS) == (field(pfr1, 4) >= 2), "PFR1.SSBS agrees with HWCAP_SSBS");
	check(field(pfr1, 0) == 0 && field(pfr1, 8) == 0, "PFR1: BT and MTE hidden (0)");
	check(
	      (mmfr0 & 0x0fffffffffffffffULL) == 0x00000111ff000000ULL,
	      "MMFR0: only the hidden safe values below ECV");
	check(dfr0 == 6, "DFR0: DebugVer 6, the rest hidden");
	check(MRS("s3_0_c0_c3_7") == 0, "an untracked ID register (CRm 3, op2 7) reads 0");
	check(!!(hw2 & HWCAP2_RNG) == (field(isar0, 60) >= 1), "ISAR0.RNDR agrees with HWCAP2_RNG");

	// Not emulated by Linux: SIGILL.
	PRIV("mrs ID_PFR0_EL1 (CRm 1)", "mrs x0, id_pfr0_el1");
	PRIV("mrs s3_0_c0_c0_1 (CRm 0, op2 1)", "mrs x0, s3_0_c0_c0_1");
	PRIV("msr MIDR_EL1", "msr s3_0_c0_c0_0, x0");

	// Privileged state.
	PRIV("mrs SCTLR_EL1", "mrs x0, sctlr_el1");
	PRIVX("msr SCTLR_EL1", "mov x0, #0", "msr sctlr_el1, x0");
	PRIV("mrs VBAR_EL1", "mrs x0, vbar_el1");
	PRIVX("msr VBAR_EL1", "mov x0, #0", "msr vbar_el1, x0");
	PRIV("mrs CurrentEL", "mrs x0, currentel");
	PRIV("msr DAIFSet (SCTLR_EL1.UMA clear)", "msr daifset, #2");
	PRIV("mrs DAIF (SCTLR_EL1.UMA clear)", "mrs x0, daif");
	PRIV("msr SPSel", "msr spsel, #1");
	PRIV("mrs TPIDR_EL1", "mrs x0, tpidr_el1");
	PRIVX("msr TPIDRRO_EL0", "mov x0, #0", "msr tpidrro_el0, x0");
	PRIV("tlbi vmalle1", "tlbi vmalle1");
	PRIVX("dc ivac", "mov x0, sp", "dc ivac, x0");
	PRIV("eret", "eret");
	PRIV("hvc", "hvc #0");

	// The endianness cannot be flipped: setting SCTLR_EL1.EE (or E0E) is
	// itself privileged, and data stays little-endian.
	PRIVX("msr SCTLR_EL1 with EE and E0E", "mov x0, #(3 << 24)", "msr sctlr_el1, x0");
	volatile uint32_t word = 0x11223344;
	check(*(volatile uint8_t *)&word == 0x44, "data is still little-endian");

	// What EL0 may do.
	uint64_t tp = MRS("tpidr_el0");
	check(tp == (uint64_t)__builtin_thread_pointer() && tp != 0, "TPIDR_EL0 is the thread pointer");
	__asm__ volatile("msr tpidr_el0, %0" : : "r"(tp + 16));
	check(MRS("tpidr_el0") == tp + 16, "TPIDR_EL0 is writable at EL0");
	__asm__ volatile("msr tpidr_el0, %0" : : "r"(tp));
	check(MRS("tpidrro_el0") == 0, "TPIDRRO_EL0 is readable at EL0 (0, as Linux leaves it)");
	uint64_t ctr = MRS("ctr_el0");
	check((ctr >> 31) == 1 && (ctr & 0xf) != 0, "CTR_EL0 readable (SCTLR_EL1.UCT)");
	uint64_t dczid = MRS("dczid_el0");
	check(!(dczid & 16), "DCZID_EL0.DZP clear: DC ZVA allowed (SCTLR_EL1.DZE)");
	size_t bs = 4u << (dczid & 0xf);
	static uint8_t buf[4096] __attribute__((aligned(4096)));
	memset(buf, 0xa5, sizeof buf);
	__asm__ volatile("dc zva, %0" : : "r"(buf + bs) : "memory");
	int zeroed = 1;
	for (size_t i = 0; i < sizeof buf; i++)
		if ((buf[i] == 0) != (i >= bs && i < 2 * bs))
			zeroed = 0;
	check(zeroed, "DC ZVA zeroes exactly one block");
	__asm__ volatile("dc cvau, %0\n\tdsb ish\n\tic ivau, %0\n\tdsb ish\n\tisb" : : "r"(buf) : "memory");
	__asm__ volatile("dc civac, %0\n\tdc cvac, %0" : : "r"(buf) : "memory");
	check(1, "DC CVAU, IC IVAU, DC CIVAC, DC CVAC run at EL0 (SCTLR_EL1.UCI)");
	uint64_t f = MRS("cntfrq_el0"), c1 = MRS("cntvct_el0"), c2 = MRS("cntvct_el0");
	check(f != 0 && c2 >= c1, "CNTFRQ_EL0 and CNTVCT_EL0 readable (CNTKCTL_EL1.EL0VCTEN)");
	PRIV("mrs CNTP_CTL_EL0 (EL0PTEN clear)", "mrs x0, cntp_ctl_el0");
	volatile double a = 1.5, b = 2.25;
	check(a * b == 3.375, "FP at EL0 (CPACR_EL1.FPEN)");
	uint32_t v[4] = {1, 2, 3, 4}, w[4];
	__asm__ volatile("ld1 {v0.4s}, [%1]\n\tadd v0.4s, v0.4s, v0.4s\n\tst1 {v0.4s}, [%0]"
			 : : "r"(w), "r"(v) : "v0", "memory");
	check(w[0] == 2 && w[3] == 8, "Advanced SIMD at EL0");
	uint64_t fpcr;
	__asm__ volatile("mrs %0, fpcr\n\tmsr fpcr, %0" : "=r"(fpcr));
	check(1, "FPCR readable and writable");
	__asm__ volatile("wfi\n\twfe\n\tyield\n\tsevl\n\twfe");
	check(1, "WFI (skipped by the kernel), WFE and YIELD go on");

	pthread_t th;
	pthread_create(&th, NULL, in_thread, NULL);
	pthread_join(th, NULL);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		failures = 0;
		PRIV("child: msr SCTLR_EL1", "msr sctlr_el1, xzr");
		check(MRS("mpidr_el1") == 1ULL << 31, "child: MPIDR_EL1 emulated");
		fflush(stdout);
		_exit(failures != 0);
	}
	int st;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child found itself at EL0");

	printf("%d failures\n", failures);
	return failures != 0;
}
