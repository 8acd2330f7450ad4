// Signal facts the Linux kernel gets right and qemu-user 7.2 does not, so
// this program checks itself (exit 0 only if every check passes) instead of
// being compared with qemu:
//  - an undefined instruction is SIGILL with si_code ILL_ILLOPC
//    (arch/arm64/kernel/traps.c do_undefinstr, arch/arm/kernel/traps.c
//    do_undefinstr); qemu says ILL_ILLOPN.
//  - SIGBUS past the end of a file mapping has si_addr the guest address;
//    qemu-arm reports its host address.
//  - SIGKILL and SIGSTOP are never in a handler's mask even if sa_mask asks
//    (kernel/signal.c do_sigaction); qemu keeps them.
//  - SS_AUTODISARM (Linux 4.7): the alternate stack is disabled while a
//    handler runs on it and restored by sigreturn; qemu refuses the flag.
//  - The fault address in the frame: mcontext fault_address is si_addr, and
//    on AArch64 an esr_context record follows fpsimd_context in __reserved
//    (arch/arm64/kernel/signal.c setup_sigframe), its ESR telling a write
//    (WnR, ISS bit 6); on ARM error_code's bit 11 tells a write
//    (arch/arm64/kernel/signal32.c compat_setup_sigframe, and the FSR on a
//    32-bit kernel). qemu writes zeros and no esr_context.
//  - A stack overflow of the main thread is SEGV_MAPERR: below the stack
//    there is no mapping; qemu puts a PROT_NONE guard page there (ACCERR).
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static sigjmp_buf env;
static volatile siginfo_t info;
static volatile uintptr_t frame_fault_address;
static volatile int frame_write_bit = -1, esr_found;

static void catcher(int sig, siginfo_t *si, void *p) {
	ucontext_t *uc = p;
	(void)sig;
	memcpy((void *)&info, si, sizeof *si);
#ifdef __aarch64__
	frame_fault_address = uc->uc_mcontext.fault_address;
	// struct _aarch64_ctx records: fpsimd (0x46508001), esr (0x45535201).
	unsigned char *r = uc->uc_mcontext.__reserved;
	esr_found = 0;
	frame_write_bit = -1;
	for (int off = 0; off + 8 <= (int)sizeof uc->uc_mcontext.__reserved;) {
		uint32_t magic, size;
		memcpy(&magic, r + off, 4);
		memcpy(&size, r + off + 4, 4);
		if (magic == 0 || size == 0)
			break;
		if (magic == 0x45535201) {
			uint64_t esr;
			memcpy(&esr, r + off + 8, 8);
			esr_found = 1;
			frame_write_bit = (esr >> 6) & 1;
		}
		off += size;
	}
#else
	frame_fault_address = uc->uc_mcontext.fault_address;
	frame_write_bit = (uc->uc_mcontext.error_code >> 11) & 1;
#endif
	siglongjmp(env, 1);
}

static void catch(int sig, int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = catcher;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

extern char udf_at[];
__attribute__((noinline, noclone)) static void run_udf(void) {
	__asm__ volatile(".globl udf_at\nudf_at: udf #0" ::: "memory");
}

static void illegal(void) {
	catch(SIGILL, 0);
	if (sigsetjmp(env, 1) == 0)
		run_udf();
	check("SIGILL si_code ILL_ILLOPC", info.si_signo == SIGILL && info.si_code == ILL_ILLOPC);
	check("SIGILL si_addr", info.si_addr == (void *)udf_at);
}

static void bus(void) {
	long pg = sysconf(_SC_PAGESIZE);
	int fd = open("sig_exact.tmp", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "x", 1) != 1) {
		check("create sig_exact.tmp", 0);
		return;
	}
	char *p = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, 0);
	char *volatile want = p + pg + 100;
	catch(SIGBUS, 0);
	if (sigsetjmp(env, 1) == 0)
		(void)*(volatile char *)want;
	check("SIGBUS BUS_ADRERR", info.si_signo == SIGBUS && info.si_code == BUS_ADRERR);
	check("SIGBUS si_addr", info.si_addr == want);
	munmap(p, 2 * pg);
	close(fd);
	unlink("sig_exact.tmp");
}

static volatile int kill_blocked = -1, stop_blocked = -1;
static void look_at_mask(int sig) {
	(void)sig;
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	kill_blocked = sigismember(&cur, SIGKILL);
	stop_blocked = sigismember(&cur, SIGSTOP);
}

static void unblockable(void) {
	struct sigaction sa, got;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = look_at_mask;
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR1, NULL, &got);
	check("sigaction drops SIGKILL, SIGSTOP from sa_mask",
	      !sigismember(&got.sa_mask, SIGKILL) && !sigismember(&got.sa_mask, SIGSTOP) &&
	          sigismember(&got.sa_mask, SIGTERM));
	raise(SIGUSR1);
	check("handler mask lacks SIGKILL, SIGSTOP", kill_blocked == 0 && stop_blocked == 0);
	signal(SIGUSR1, SIG_DFL);
}

static char altmem[65536];
static volatile int in_on_alt = -1, in_flags = -1;
static void autodisarmed(int sig) {
	volatile char local;
	(void)sig;
	stack_t now;
	sigaltstack(NULL, &now);
	in_flags = now.ss_flags;
	in_on_alt = (uintptr_t)&local >= (uintptr_t)altmem && (uintptr_t)&local < (uintptr_t)altmem + sizeof altmem;
}

static void autodisarm(void) {
	stack_t ss = {.ss_sp = altmem, .ss_size = sizeof altmem, .ss_flags = SS_AUTODISARM};
	int r = sigaltstack(&ss, NULL);
	check("sigaltstack SS_AUTODISARM accepted", r == 0);
	if (r != 0)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	// SA_SIGINFO: the kernel disarms the stack while saving it in uc_stack,
	// which ARM's non-rt frame does not have (only setup_rt_frame calls
	// __save_altstack), so without it ARM would keep the stack armed.
	sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))autodisarmed;
	sa.sa_flags = SA_ONSTACK | SA_SIGINFO;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	check("SS_AUTODISARM handler on the alternate stack", in_on_alt == 1);
	check("SS_AUTODISARM: disabled inside the handler", in_flags == SS_DISABLE);
	stack_t now;
	sigaltstack(NULL, &now);
	check("SS_AUTODISARM: restored after", now.ss_flags == (int)SS_AUTODISARM && now.ss_sp == altmem &&
	                                           now.ss_size == sizeof altmem);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	signal(SIGUSR2, SIG_DFL);
}

static void frame_fault(void) {
	long pg = sysconf(_SC_PAGESIZE);
	// Two pages: the first unmapped again, the second read-only.
	char *hole = mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, pg);
	char *p = hole + pg;
	char *volatile want = p + 24;
	catch(SIGSEGV, 0);
	if (sigsetjmp(env, 1) == 0)
		*(volatile char *)want = 1;
	check("write fault: SEGV_ACCERR at the address", info.si_code == SEGV_ACCERR && info.si_addr == want);
	check("write fault: mcontext fault_address", frame_fault_address == (uintptr_t)want);
#ifdef __aarch64__
	check("write fault: esr_context present", esr_found);
#endif
	check("write fault: the frame says write", frame_write_bit == 1);
	if (sigsetjmp(env, 1) == 0)
		(void)*(volatile char *)(want + 1000 - pg);
	check("read fault: SEGV_MAPERR, fault_address",
	      info.si_code == SEGV_MAPERR && frame_fault_address == (uintptr_t)want + 1000 - pg);
	check("read fault: the frame says read", frame_write_bit == 0);
	munmap(p, pg);
}

static long recurse(volatile char *up, long n) {
	volatile char frame[512];
	frame[0] = (char)n;
	frame[511] = up[0];
	if (n < 0)
		return 0;
	return recurse(frame, n + 1) + frame[0];
}

static void overflow(void) {
	static char alt[65536];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
	sigaltstack(&ss, NULL);
	catch(SIGSEGV, SA_ONSTACK);
	char top = 0;
	if (sigsetjmp(env, 1) == 0)
		recurse(&top, 0);
	check("stack overflow: SIGSEGV SEGV_MAPERR", info.si_signo == SIGSEGV && info.si_code == SEGV_MAPERR);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	illegal();
	bus();
	unblockable();
	autodisarm();
	frame_fault();
	overflow();
	printf("%d failed\n", failures);
	return failures != 0;
}
