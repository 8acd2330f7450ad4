// Threads in parallel, one engine each: 8 threads of atomic increments,
// mutex-protected increments, a condition variable, a barrier and
// thread-local storage, with exact counts; pthread_kill, cancellation,
// joining return values, a forked child of a threaded parent, and
// execve from a thread (which ends the others).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 8
#define ITERS 200000

static atomic_long atomic_count;
static long locked_count;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t barrier;
static __thread long tls_value = 7;
static long tls_seen[THREADS];

static void *counter(void *arg) {
	long id = (long)arg;
	tls_value = id * 100;
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < ITERS; i++) {
		atomic_fetch_add(&atomic_count, 1);
		pthread_mutex_lock(&mu);
		locked_count++;
		pthread_mutex_unlock(&mu);
	}
	tls_seen[id] = tls_value;
	return (void *)(id + 1);
}

// A bounded queue with two condition variables: producers and consumers.
static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER, nonfull = PTHREAD_COND_INITIALIZER;
static int queue[16], qhead, qlen;
static long consumed_sum;

static void *producer(void *arg) {
	for (int i = 1; i <= 20000; i++) {
		pthread_mutex_lock(&qmu);
		while (qlen == 16)
			pthread_cond_wait(&nonfull, &qmu);
		queue[(qhead + qlen++) % 16] = i;
		pthread_cond_signal(&nonempty);
		pthread_mutex_unlock(&qmu);
	}
	return NULL;
}

static void *consumer(void *arg) {
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&qmu);
		while (qlen == 0)
			pthread_cond_wait(&nonempty, &qmu);
		int v = queue[qhead];
		qhead = (qhead + 1) % 16;
		qlen--;
		consumed_sum += v;
		pthread_cond_signal(&nonfull);
		pthread_mutex_unlock(&qmu);
	}
	return NULL;
}

static volatile sig_atomic_t usr1_tid;
static void on_usr1(int sig) { (void)sig; usr1_tid = syscall(SYS_gettid); }

static void *waiter(void *arg) {
	pause();
	return NULL;
}

static void *cancellable(void *arg) {
	for (;;)
		sleep(1);
	return NULL;
}

static void *forker(void *arg) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		// Only the forking thread goes on in the child.
		printf("child of a threaded parent: counter=%ld\n", (long)atomic_count);
		fflush(stdout);
		_exit(5);
	}
	int st;
	waitpid(pid, &st, 0);
	return (void *)(long)WEXITSTATUS(st);
}

static void *execer(void *arg) {
	char *argv[] = {"sh", "-c", "echo exec from a thread replaced the process", NULL};
	execv("/bin/sh", argv);
	return NULL;
}

static void *spinner(void *arg) {
	for (;;)
		;
	return NULL;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_t th[THREADS];
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (long i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, counter, (void *)i);
	long rets = 0;
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(th[i], &r);
		rets += (long)r;
	}
	int tls_ok = 1;
	for (int i = 0; i < THREADS; i++)
		tls_ok &= tls_seen[i] == i * 100;
	printf("atomic %ld locked %ld (want %d) returns %ld tls %s main tls %ld\n", (long)atomic_count,
	       locked_count, THREADS * ITERS, rets, tls_ok ? "ok" : "WRONG", tls_value);

	pthread_t p[2], c[2];
	for (int i = 0; i < 2; i++) {
		pthread_create(&p[i], NULL, producer, NULL);
		pthread_create(&c[i], NULL, consumer, NULL);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(p[i], NULL);
		pthread_join(c[i], NULL);
	}
	printf("condition variables: sum %ld (want %ld)\n", consumed_sum, 2L * 20000 * 20001 / 2);

	signal(SIGUSR1, on_usr1);
	pthread_t w;
	pthread_create(&w, NULL, waiter, NULL);
	usleep(50000);
	pthread_kill(w, SIGUSR1);
	pthread_join(w, NULL);
	printf("pthread_kill: handled on another thread: %d\n", usr1_tid != 0 && usr1_tid != syscall(SYS_gettid));

	pthread_t k;
	pthread_create(&k, NULL, cancellable, NULL);
	usleep(20000);
	pthread_cancel(k);
	void *kr;
	pthread_join(k, &kr);
	printf("cancelled: %d\n", kr == PTHREAD_CANCELED);

	pthread_t f;
	pthread_create(&f, NULL, forker, NULL);
	void *fr;
	pthread_join(f, &fr);
	printf("fork from a thread: child exited %ld\n", (long)fr);

	pthread_t s, e;
	pthread_create(&s, NULL, spinner, NULL);
	pthread_create(&e, NULL, execer, NULL);
	pthread_join(e, NULL);
	printf("not reached\n");
	return 1;
}
