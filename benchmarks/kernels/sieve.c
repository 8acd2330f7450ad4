// sieve: the primes below N with a byte-per-number sieve of Eratosthenes, run
// several times. Load/store heavy over a large array. Arguments: N, repetitions.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000000;
  int reps = argc > 2 ? atoi(argv[2]) : 3;
  unsigned char *composite = malloc(n + 1);
  if (!composite)
    return 1;
  long count = 0, last = 0;
  for (int r = 0; r < reps; r++) {
    memset(composite, 0, n + 1);
    count = 0;
    for (long i = 2; i <= n; i++) {
      if (composite[i])
        continue;
      count++;
      last = i;
      if (i > n / i)
        continue;
      for (long j = i * i; j <= n; j += i)
        composite[j] = 1;
    }
  }
  printf("primes below %ld: %ld, largest %ld\n", n + 1, count, last);
  free(composite);
  return 0;
}
