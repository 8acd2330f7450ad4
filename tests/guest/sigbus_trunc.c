// A load or store to a page of a file mapping that lies wholly past the end
// of the file, because the file was truncated after it was mapped, raises
// SIGBUS with si_code BUS_ADRERR and si_addr the exact address, at the
// faulting instruction (mm/filemap.c filemap_fault returns VM_FAULT_SIGBUS;
// arch/arm64/mm/fault.c and arch/arm/mm/fault.c do_page_fault send it with
// the fault address), exactly once per access, on whichever thread made the
// access; without a handler it kills the process with SIGBUS. After the file
// grows again the same page reads the file's new contents.
//
// Cases: a page the CPU has already used (its translation is cached, so the
// access is made by translated code), a page never touched (the access goes
// through the emulator's slow path), MAP_SHARED and MAP_PRIVATE, loads,
// stores, an atomic add, memset (DC ZVA on AArch64), an instruction fetch
// (SIGBUS with si_addr and PC the instruction's address), a second thread,
// and a child with the default action. qemu-user reports host addresses or the
// wrong signal for some of these, so the program checks itself.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

#define PG 4096

static __thread sigjmp_buf *jump;
static volatile int caught, caught_code, caught_sig;
static volatile uintptr_t caught_addr, caught_pc;
static volatile pid_t caught_tid;

static void on_bus(int sig, siginfo_t *si, void *p) {
	ucontext_t *uc = p;
	caught++;
	caught_sig = sig;
	caught_code = si->si_code;
	caught_addr = (uintptr_t)si->si_addr;
	caught_tid = (pid_t)syscall(SYS_gettid);
#ifdef __aarch64__
	caught_pc = uc->uc_mcontext.pc;
#else
	caught_pc = uc->uc_mcontext.arm_pc;
#endif
	if (jump)
		siglongjmp(*jump, 1);
}

// The faulting instructions, each at a label so the handler's PC can be
// compared with it. noinline: each asm (and its global label) exists once.
#ifdef __aarch64__
#define ASM_LOAD(lbl) ".global " lbl "\n" lbl ": ldr %0, [%1]\n"
#define ASM_STORE(lbl) ".global " lbl "\n" lbl ": str %1, [%0]\n"
#else
#define ASM_LOAD(lbl) ".global " lbl "\n" lbl ": ldr %0, [%1]\n"
#define ASM_STORE(lbl) ".global " lbl "\n" lbl ": str %1, [%0]\n"
#endif

extern char load_a[], load_b[], load_c[], store_a[], store_b[];

__attribute__((noinline)) static unsigned long do_load_a(volatile void *p) {
	unsigned long v;
	__asm__ volatile(ASM_LOAD("load_a") : "=r"(v) : "r"(p) : "memory");
	return v;
}
__attribute__((noinline)) static unsigned long do_load_b(volatile void *p) {
	unsigned long v;
	__asm__ volatile(ASM_LOAD("load_b") : "=r"(v) : "r"(p) : "memory");
	return v;
}
__attribute__((noinline)) static unsigned long do_load_c(volatile void *p) {
	unsigned long v;
	__asm__ volatile(ASM_LOAD("load_c") : "=r"(v) : "r"(p) : "memory");
	return v;
}
__attribute__((noinline)) static void do_store_a(volatile void *p, unsigned long v) {
	__asm__ volatile(ASM_STORE("store_a") : : "r"(p), "r"(v) : "memory");
}
__attribute__((noinline)) static void do_store_b(volatile void *p, unsigned long v) {
	__asm__ volatile(ASM_STORE("store_b") : : "r"(p), "r"(v) : "memory");
}

// Runs f(arg) expecting exactly one SIGBUS at address want from the
// instruction at pc (0: anywhere); returns whether it came.
static int expect_bus(const char *what, void (*f)(void *), void *arg, uintptr_t want, uintptr_t pc) {
	sigjmp_buf here;
	caught = 0;
	caught_pc = 0;
	jump = &here;
	int faulted = sigsetjmp(here, 1);
	if (!faulted)
		f(arg);
	jump = NULL;
	char line[200];
	snprintf(line, sizeof line, "%s: one SIGBUS BUS_ADRERR at the address%s", what, pc ? " and instruction" : "");
	int ok = faulted && caught == 1 && caught_sig == SIGBUS && caught_code == BUS_ADRERR && caught_addr == want &&
		 (!pc || caught_pc == pc);
	if (!ok)
		printf("  (faulted %d, %d signals, signal %d code %d addr %#lx want %#lx pc %#lx want %#lx)\n", faulted, caught,
		       caught_sig, caught_code, (unsigned long)caught_addr, (unsigned long)want, (unsigned long)caught_pc,
		       (unsigned long)pc);
	check(line, ok);
	return ok;
}

static char *shared, *priv;

static void load_a_at(void *p) { do_load_a(p); }
static void load_b_at(void *p) { do_load_b(p); }
static void load_c_at(void *p) { do_load_c(p); }
static void store_a_at(void *p) { do_store_a(p, 0x5a5a); }
static void store_b_at(void *p) { do_store_b(p, 0xa5a5); }
static void memset_at(void *p) { memset(p, 0, PG); }
static void atomic_at(void *p) { __atomic_fetch_add((int *)p, 1, __ATOMIC_SEQ_CST); }
static void call_at(void *p) { ((void (*)(void))p)(); }

static void *thread_main(void *arg) {
	(void)arg;
	pid_t me = (pid_t)syscall(SYS_gettid);
	int ok = expect_bus("second thread: load", load_c_at, shared + 2 * PG + 64, (uintptr_t)(shared + 2 * PG + 64),
			    (uintptr_t)load_c);
	check("second thread: the handler ran on the faulting thread", ok && caught_tid == me);
	return NULL;
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	// Named until the end: a fork child maps the same file again.
	char path[] = "xemu-sigbus-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 2;
	static char fill[4 * PG];
	memset(fill, 'x', sizeof fill);
	if (write(fd, fill, sizeof fill) != (ssize_t)sizeof fill)
		return 3;
	// A return instruction at the start of the last page, mapped executable
	// and never run before the truncation.
#ifdef __aarch64__
	unsigned ret = 0xd65f03c0; // ret
#else
	unsigned ret = 0xe12fff1e; // bx lr (ARM state: the address is even)
#endif
	if (pwrite(fd, &ret, 4, 3 * PG) != 4)
		return 3;
	char *code = mmap(NULL, PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 3 * PG);
	shared = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	priv = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (shared == MAP_FAILED || priv == MAP_FAILED || code == MAP_FAILED)
		return 4;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);

	// Used before the truncation: translations of these pages are cached.
	unsigned long xs = (unsigned long)0x7878787878787878ULL;
	check("before: shared page 2 reads the file", do_load_a(shared + 2 * PG + 8) == xs);
	do_store_a(shared + 2 * PG + 16, xs);
	check("before: private page 2 reads the file", do_load_b(priv + 2 * PG + 8) == xs);
	if (ftruncate(fd, PG + 100) != 0)
		return 5;
	check("page 0 and the rest of the last page still read", shared[4000] == 'x' && shared[PG + 50] == 'x' &&
									shared[PG + 200] == 0);

	expect_bus("shared, cached page: load", load_a_at, shared + 2 * PG + 8, (uintptr_t)(shared + 2 * PG + 8),
		   (uintptr_t)load_a);
	expect_bus("shared, cached page: load again", load_a_at, shared + 2 * PG + 8, (uintptr_t)(shared + 2 * PG + 8),
		   (uintptr_t)load_a);
	expect_bus("shared, new page: load", load_b_at, shared + 3 * PG + 24, (uintptr_t)(shared + 3 * PG + 24),
		   (uintptr_t)load_b);
	expect_bus("shared, cached page: store", store_a_at, shared + 2 * PG + 16, (uintptr_t)(shared + 2 * PG + 16),
		   (uintptr_t)store_a);
	expect_bus("shared, new page: store", store_b_at, shared + 3 * PG + 32, (uintptr_t)(shared + 3 * PG + 32),
		   (uintptr_t)store_b);
	expect_bus("private, cached page: load", load_b_at, priv + 2 * PG + 8, (uintptr_t)(priv + 2 * PG + 8),
		   (uintptr_t)load_b);
	expect_bus("private, new page: store", store_a_at, priv + 3 * PG + 40, (uintptr_t)(priv + 3 * PG + 40),
		   (uintptr_t)store_a);
	expect_bus("atomic add", atomic_at, shared + 3 * PG + 128, (uintptr_t)(shared + 3 * PG + 128), 0);
	sigjmp_buf here;
	caught = 0;
	jump = &here;
	if (!sigsetjmp(here, 1))
		memset_at(shared + 2 * PG);
	jump = NULL;
	check("memset of a whole page: one SIGBUS in that page", caught == 1 && caught_code == BUS_ADRERR &&
								      caught_addr >= (uintptr_t)(shared + 2 * PG) &&
								      caught_addr < (uintptr_t)(shared + 3 * PG));

	expect_bus("instruction fetch", call_at, code, (uintptr_t)code, (uintptr_t)code);

	pthread_t th;
	if (pthread_create(&th, NULL, thread_main, NULL) != 0)
		return 6;
	pthread_join(th, NULL);

	// The signal was not left blocked by the jumps out of the handler.
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	check("SIGBUS not blocked after the handlers", !sigismember(&now, SIGBUS));

	// Default action: killed by SIGBUS.
	pid_t child = fork();
	if (child == 0) {
		signal(SIGBUS, SIG_DFL);
		do_load_a(shared + 2 * PG);
		_exit(0);
	}
	int status;
	waitpid(child, &status, 0);
	check("default action: killed by SIGBUS", WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);

	// The file grows again: the same pages read its new contents (zeros
	// where nothing was written), through cached translations and new.
	if (ftruncate(fd, 4 * PG) != 0)
		return 7;
	check("grown again: cached page reads zeros", do_load_a(shared + 2 * PG + 8) == 0);
	do_store_a(shared + 3 * PG + 8, 0x1234);
	check("grown again: store and load back", do_load_b(shared + 3 * PG + 8) == 0x1234);
	char back[8];
	check("grown again: the store reached the file",
	      pread(fd, back, 4, 3 * PG + 8) == 4 && back[0] == 0x34 && back[1] == 0x12);
	check("grown again: private page reads the file", do_load_c(priv + 3 * PG + 8) == 0x1234);
	unlink(path);
	return failures ? 1 : 0;
}
