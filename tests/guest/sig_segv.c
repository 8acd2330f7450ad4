// Faults become signals a program survives with sigsetjmp/siglongjmp: reads,
// writes and jumps to an unmapped page (SEGV_MAPERR) and to PROT_NONE,
// PROT_READ and non-executable pages (SEGV_ACCERR), with si_addr the exact
// address, many times over (siglongjmp restores the mask that blocked
// SIGSEGV in the handler); SIGBUS from a file mapping past the end of the
// file (BUS_ADRERR); SIGILL from an undefined instruction and SIGTRAP from
// brk (AArch64) / bkpt (ARM), each with si_addr the instruction's address.
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static void *volatile want_addr;
static volatile int got_sig, got_code, addr_ok;

static void handler(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	addr_ok = si->si_addr == want_addr && si->si_signo == sig;
	siglongjmp(env, 1);
}

static void do_read(char *p) { (void)*(volatile char *)p; }
static void do_write(char *p) { *(volatile char *)p = 1; }
static void do_exec(char *p) { ((void (*)(void))p)(); }

static const char *code_name(int sig, int code) {
	if (sig == SIGSEGV && code == SEGV_MAPERR)
		return "SEGV_MAPERR";
	if (sig == SIGSEGV && code == SEGV_ACCERR)
		return "SEGV_ACCERR";
	if (sig == SIGBUS && code == BUS_ADRERR)
		return "BUS_ADRERR";
	if (sig == SIGTRAP && code == TRAP_BRKPT)
		return "TRAP_BRKPT";
	static char b[32];
	snprintf(b, sizeof b, "code %d", code);
	return b;
}

// attempt runs op on p and describes what happened.
static const char *attempt(void (*op)(char *), char *p) {
	static char out[96];
	got_sig = 0;
	want_addr = p;
	if (sigsetjmp(env, 1) == 0) {
		op(p);
		return "no signal";
	}
	snprintf(out, sizeof out, "%s %s addr %s", strsignal(got_sig), code_name(got_sig, got_code),
	         addr_ok ? "ok" : "WRONG");
	return out;
}

struct fault_case {
	const char *what;
	void (*op)(char *);
	char **page;
	int offset;
};

static char *unmapped, *none, *ro, *rw;

static const struct fault_case cases[] = {
    {"read unmapped", do_read, &unmapped, 123},
    {"write unmapped", do_write, &unmapped, 4001},
    {"exec unmapped", do_exec, &unmapped, 0},
    {"read PROT_NONE", do_read, &none, 7},
    {"write PROT_NONE", do_write, &none, 4095},
    {"exec PROT_NONE", do_exec, &none, 64},
    {"read PROT_READ", do_read, &ro, 1},
    {"write PROT_READ", do_write, &ro, 2048},
    {"exec PROT_READ", do_exec, &ro, 0},
    {"exec PROT_READ|PROT_WRITE", do_exec, &rw, 256},
    {"write PROT_READ|PROT_WRITE", do_write, &rw, 3},
};
#define NCASES (sizeof cases / sizeof cases[0])

static void page_faults(void) {
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 5 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	// Guard pages between the test pages keep their faults apart.
	unmapped = m;
	munmap(unmapped, pg);
	none = m + pg;
	mprotect(none, pg, PROT_NONE);
	ro = m + 2 * pg;
	mprotect(ro, pg, PROT_READ);
	rw = m + 3 * pg;
	const char *first[NCASES];
	for (size_t i = 0; i < NCASES; i++) {
		first[i] = strdup(attempt(cases[i].op, *cases[i].page + cases[i].offset));
		printf("%s: %s\n", cases[i].what, first[i]);
	}
	int differ = 0;
	for (int round = 0; round < 200; round++)
		for (size_t i = 0; i < NCASES; i++)
			if (strcmp(attempt(cases[i].op, *cases[i].page + cases[i].offset), first[i]) != 0)
				differ++;
	printf("200 rounds more: %d differ\n", differ);
	// The same pages once made accessible.
	mprotect(none, pg, PROT_READ | PROT_WRITE);
	printf("write after mprotect: %s, reads %d\n", attempt(do_write, none + 7), none[7]);
	printf("read NULL+16: %s\n", attempt(do_read, (char *)16));
	munmap(m, 5 * pg);
}

static void bus_error(void) {
	long pg = sysconf(_SC_PAGESIZE);
	int fd = open("sig_segv.tmp", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "hello", 5) != 5) {
		perror("sig_segv.tmp");
		return;
	}
	char *p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("read in the file's last page: %s, reads %c\n", attempt(do_read, p + 4), p[4]);
	// qemu-arm 7.2 reports SIGBUS's si_addr as its host address (not
	// translated to the guest's), so on ARM the address is sig_exact.c's.
	const char *r = attempt(do_read, p + pg + 10);
	printf("read past EOF: %.*s\n", (int)(strstr(r, " addr") - r), r);
	int read_addr_ok = addr_ok;
	r = attempt(do_write, p + 2 * pg + 1);
	printf("write past EOF: %.*s\n", (int)(strstr(r, " addr") - r), r);
#ifdef __aarch64__
	printf("addresses ok: %d %d\n", read_addr_ok, addr_ok);
#else
	(void)read_addr_ok;
#endif
	// Once the file is long enough the same page works.
	ftruncate(fd, 2 * pg);
	printf("after ftruncate: %s\n", attempt(do_write, p + pg + 10));
	close(fd);
	munmap(p, 3 * pg);
	unlink("sig_segv.tmp");
}

extern char udf_at[], trap_at[];
__attribute__((noinline, noclone)) static void run_udf(char *unused) {
	(void)unused;
	__asm__ volatile(".globl udf_at\nudf_at: udf #0" ::: "memory");
}
__attribute__((noinline, noclone)) static void run_trap(char *unused) {
	(void)unused;
#ifdef __aarch64__
	__asm__ volatile(".globl trap_at\ntrap_at: brk #0" ::: "memory");
#else
	__asm__ volatile(".globl trap_at\ntrap_at: bkpt #0" ::: "memory");
#endif
}

static void instructions(void) {
	// si_code of SIGILL is left to sig_exact.c (qemu-user gets it wrong).
	int ill = 0, trap = 0;
	for (int i = 0; i < 100; i++) {
		attempt(run_udf, udf_at);
		ill += got_sig == SIGILL && addr_ok;
		attempt(run_trap, trap_at);
		trap += got_sig == SIGTRAP && addr_ok;
	}
	printf("udf: SIGILL at its address %d times of 100\n", ill);
#ifdef __aarch64__
	printf("brk: SIGTRAP at its address %d times of 100, %s\n", trap, code_name(got_sig, got_code));
#else
	// 32-bit ARM kernels report a bkpt as TRAP_HWBKPT, arm64 kernels
	// running ARM code as TRAP_BRKPT: the code is not checked.
	printf("bkpt: SIGTRAP at its address %d times of 100\n", trap);
#endif
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);
	page_faults();
	bus_error();
	instructions();
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("SIGSEGV blocked at the end: %d\n", sigismember(&cur, SIGSEGV));
	return 0;
}
