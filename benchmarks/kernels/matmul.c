// matmul: C = A x B for n x n doubles in i-k-j order (scalar fused multiply-add),
// repeated, then a checksum. Every row of C takes a pass over all of B (512 KiB
// for n = 256), so many pages are live at once: the TLB must be large.
// Arguments: n, repetitions.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 256;
  int reps = argc > 2 ? atoi(argv[2]) : 4;
  double *a = malloc(sizeof(double) * n * n);
  double *b = malloc(sizeof(double) * n * n);
  double *c = malloc(sizeof(double) * n * n);
  if (!a || !b || !c)
    return 1;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      a[i * n + j] = (double)((i * 7 + j * 3) % 17) / 16.0 - 0.5;
      b[i * n + j] = (double)((i * 5 + j * 11) % 13) / 12.0 - 0.25;
    }
  double sum = 0;
  for (int r = 0; r < reps; r++) {
    for (int i = 0; i < n * n; i++)
      c[i] = 0;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < n; k++) {
        double aik = a[i * n + k] + r * 1e-3;
        for (int j = 0; j < n; j++)
          c[i * n + j] += aik * b[k * n + j];
      }
    for (int i = 0; i < n * n; i++)
      sum += c[i] * (double)((i % 5) + 1);
  }
  printf("n %d reps %d checksum %.6f c[0] %.9f c[last] %.9f\n", n, reps, sum, c[0],
         c[n * n - 1]);
  free(a);
  free(b);
  free(c);
  return 0;
}
