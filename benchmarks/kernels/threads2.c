// threads2: two threads of integer work in parallel, meeting through a
// shared atomic counter and a mutex-protected total now and then. Measures
// guest threads on their own engines (and the cost of parallel-mode
// atomics). Arguments: iterations per thread.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static long iters;
static atomic_long ticks;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t total;

static void *work(void *arg) {
  uint64_t x = 88172645463325252ULL + (uintptr_t)arg, acc = 0;
  for (long i = 0; i < iters; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    acc += x >> 40;
    if ((i & 4095) == 0) {
      atomic_fetch_add(&ticks, 1);
      pthread_mutex_lock(&mu);
      total += acc & 0xffff;
      pthread_mutex_unlock(&mu);
    }
  }
  pthread_mutex_lock(&mu);
  total += acc;
  pthread_mutex_unlock(&mu);
  return NULL;
}

int main(int argc, char **argv) {
  iters = argc > 1 ? atol(argv[1]) : 100000000;
  pthread_t t[2];
  for (long i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, work, (void *)i);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  printf("ticks %ld total %llu\n", (long)ticks, (unsigned long long)total);
  return 0;
}
