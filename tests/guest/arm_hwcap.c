// What the CPU says it is, and that it is so: AT_HWCAP and AT_HWCAP2 name
// what a Cortex-A15 implements (ARMv7-A with VFPv4, NEON, integer divide
// and LPAE; no crypto, no ThumbEE), AT_PLATFORM is "v7l", uname's machine is
// "armv7l", /proc/cpuinfo's Features line names exactly the AT_HWCAP bits,
// and each named feature's instructions run. qemu-arm's default CPU is a
// different one, so the program is its own oracle.
// xemu-test: arch=armhf
// xemu-test: oracle=self
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>

static int failures;

static void check(int ok, const char *what) {
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

// arch/arm/kernel/setup.c hwcap_str and hwcap2_str.
static const char *hwcap_names[] = {
	"swp", "half", "thumb", "26bit", "fastmult", "fpa", "vfp", "edsp", "java", "iwmmxt", "crunch",
	"thumbee", "neon", "vfpv3", "vfpv3d16", "tls", "vfpv4", "idiva", "idivt", "vfpd32", "lpae",
	"evtstrm", "fphp", "asimdhp", "asimddp", "asimdfhm", "asimdbf16", "i8mm", NULL,
};
static const char *hwcap2_names[] = {"aes", "pmull", "sha1", "sha2", "crc32", "sb", "ssbs", NULL};

#define HWCAP(name) (1UL << index_of(hwcap_names, name))

static int index_of(const char **names, const char *n) {
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], n) == 0)
			return i;
	abort();
}

__attribute__((target("arm"), noinline)) static int sdiv_arm(int a, int b) {
	int q;
	__asm__(".arch_extension idiv\n\tsdiv %0, %1, %2" : "=r"(q) : "r"(a), "r"(b));
	return q;
}

__attribute__((target("thumb"), noinline)) static int sdiv_thumb(int a, int b) {
	int q;
	__asm__(".arch_extension idiv\n\tsdiv %0, %1, %2" : "=r"(q) : "r"(a), "r"(b));
	return q;
}

static int neon_add(void) {
	int out[4];
	int a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40};
	__asm__(".fpu neon-vfpv4\n\t"
		"vld1.32 {q0}, [%1]\n\t"
		"vld1.32 {q1}, [%2]\n\t"
		"vadd.i32 q0, q0, q1\n\t"
		"vst1.32 {q0}, [%0]"
		:
		: "r"(out), "r"(a), "r"(b)
		: "q0", "q1", "memory");
	return out[0] + out[1] + out[2] + out[3];
}

static double vfma(double a, double b, double c) {
	__asm__(".fpu neon-vfpv4\n\tvfma.f64 %P0, %P1, %P2" : "+w"(c) : "w"(a), "w"(b));
	return c;
}

static int d31_roundtrip(int v) {
	int lo, hi;
	__asm__(".fpu neon-vfpv4\n\tvmov d31, %2, %3\n\tvmov %0, %1, d31" : "=r"(lo), "=r"(hi) : "r"(v), "r"(~v) : "d31");
	return lo == v && hi == ~v;
}

static void *tpidruro(void) {
	void *v;
	__asm__("mrc p15, 0, %0, c13, c0, 3" : "=r"(v));
	return v;
}

static int qadd(int a, int b) {
	int r;
	__asm__("qadd %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
	return r;
}

int main(void) {
	unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
	const char *plat = (const char *)getauxval(AT_PLATFORM);
	check(plat && strcmp(plat, "v7l") == 0, "AT_PLATFORM is v7l");
	struct utsname u;
	uname(&u);
	check(strcmp(u.machine, "armv7l") == 0, "uname machine is armv7l");

	const char *want[] = {"half", "thumb", "fastmult", "vfp", "edsp", "neon", "vfpv3", "tls",
			      "vfpv4", "idiva", "idivt", "vfpd32", "lpae", NULL};
	unsigned long expect = 0;
	for (int i = 0; want[i]; i++)
		expect |= HWCAP(want[i]);
	printf("AT_HWCAP %#lx, a Cortex-A15's %#lx; AT_HWCAP2 %#lx\n", hw, expect, hw2);
	check(hw == expect, "AT_HWCAP names what a Cortex-A15 implements");
	check(hw2 == 0, "AT_HWCAP2 names no ARMv8 extensions");

	// /proc/cpuinfo: "Features\t: half thumb ... " with a space after each.
	char features[1024] = "";
	int arch7 = 0, model = 0, procs = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[1024];
	while (f && fgets(line, sizeof line, f)) {
		if (strncmp(line, "Features\t: ", 11) == 0)
			snprintf(features, sizeof features, "%s", line + 11);
		if (strcmp(line, "CPU architecture: 7\n") == 0)
			arch7 = 1;
		if (strncmp(line, "model name\t: ARMv7 Processor rev", 32) == 0 && strstr(line, "(v7l)"))
			model = 1;
		if (strncmp(line, "processor\t: ", 12) == 0)
			procs++;
	}
	char named[1024] = "";
	for (int i = 0; hwcap_names[i]; i++)
		if (hw & (1UL << i))
			strcat(strcat(named, hwcap_names[i]), " ");
	for (int i = 0; hwcap2_names[i]; i++)
		if (hw2 & (1UL << i))
			strcat(strcat(named, hwcap2_names[i]), " ");
	strcat(named, "\n");
	printf("cpuinfo Features: %s", features);
	check(strcmp(features, named) == 0, "/proc/cpuinfo names exactly the AT_HWCAP bits");
	check(arch7 && model && procs > 0, "/proc/cpuinfo describes an ARMv7 processor");

	// Each feature named runs.
	check(sdiv_arm(-91, 7) == -13, "idiva: sdiv in ARM state");
	check(sdiv_thumb(91, -7) == -13, "idivt: sdiv in Thumb state");
	check(neon_add() == 110, "neon: vadd.i32 on q registers");
	check(vfma(3.0, 4.0, 0.5) == 12.5, "vfpv4: vfma.f64");
	check(d31_roundtrip(0x12345678), "vfpd32: d31 exists");
	check(tpidruro() == __builtin_thread_pointer(), "tls: TPIDRURO holds the thread pointer");
	check(qadd(0x7fffffff, 1) == 0x7fffffff, "edsp: saturating qadd");
	printf("%d failures\n", failures);
	return failures != 0;
}
