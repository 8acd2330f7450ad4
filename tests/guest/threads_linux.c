// Thread behaviour qemu-user gets wrong or lacks (it deadlocks on a robust
// mutex whose owner died, having no robust-list processing, and has no
// futex_waitv), so the program checks itself: EOWNERDEAD after a thread and
// after a forked process die holding a robust mutex, a fault in one thread
// killing the whole process while others run, futex_waitv woken through its
// second futex, and membarrier.
// xemu-test: oracle=self
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t robust;

static void *die_holding(void *arg) {
	pthread_mutex_lock(arg);
	return NULL; // ends with the lock held
}

static void *spin(void *arg) {
	for (;;)
		;
	return NULL;
}

static void *fault(void *arg) {
	usleep(20000);
	*(volatile int *)8 = 1;
	return NULL;
}

static uint32_t fa, fb;

static void *wake_b(void *arg) {
	usleep(20000);
	__atomic_store_n(&fb, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &fb, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

struct waitv {
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

static void more(void) {
	struct waitv w[2] = {{0, (uintptr_t)&fa, FUTEX_32 | FUTEX_PRIVATE_FLAG, 0},
			     {0, (uintptr_t)&fb, FUTEX_32 | FUTEX_PRIVATE_FLAG, 0}};
	pthread_t t;
	pthread_create(&t, NULL, wake_b, NULL);
	long r = syscall(SYS_futex_waitv, w, 2, 0, NULL, CLOCK_MONOTONIC);
	pthread_join(t, NULL);
	check("futex_waitv woken through its second futex", r == 1);
	fb = 0;
	w[1].val = 5; // mismatch: EAGAIN at once
	r = syscall(SYS_futex_waitv, w, 2, 0, NULL, CLOCK_MONOTONIC);
	check("futex_waitv with a changed value: EAGAIN", r == -1 && errno == EAGAIN);

	long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	check("membarrier query offers private expedited", q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED));
	check("membarrier register and barrier",
	      syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 &&
		  syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0);
}

int main(void) {
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &attr);
	pthread_t t;
	pthread_create(&t, NULL, die_holding, &robust);
	pthread_join(t, NULL);
	int r = pthread_mutex_lock(&robust);
	check("thread died holding a robust mutex: EOWNERDEAD", r == EOWNERDEAD);
	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(&robust);
		pthread_mutex_unlock(&robust);
	}

	// Across processes: a process-shared robust mutex in shared memory.
	pthread_mutex_t *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(shared, &attr);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(shared);
		_exit(0); // dies holding it
	}
	waitpid(pid, NULL, 0);
	r = pthread_mutex_lock(shared);
	check("process died holding a shared robust mutex: EOWNERDEAD", r == EOWNERDEAD);

	// One thread's fault kills the process, the others included.
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pthread_t s1, s2, f;
		pthread_create(&s1, NULL, spin, NULL);
		pthread_create(&s2, NULL, spin, NULL);
		pthread_create(&f, NULL, fault, NULL);
		pthread_join(f, NULL);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	check("a faulting thread kills the process with SIGSEGV", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	more();
	return failures != 0;
}
