// bintree: the binary-trees benchmark — many short-lived trees built and freed
// with malloc, and one long-lived tree. Allocation heavy. Argument: max depth.
#include <stdio.h>
#include <stdlib.h>

struct node {
  struct node *left, *right;
};

static struct node *make(int depth) {
  struct node *n = malloc(sizeof *n);
  if (!n)
    exit(1);
  if (depth > 0) {
    n->left = make(depth - 1);
    n->right = make(depth - 1);
  } else {
    n->left = n->right = NULL;
  }
  return n;
}

static long check(const struct node *n) {
  return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

static void drop(struct node *n) {
  if (n->left) {
    drop(n->left);
    drop(n->right);
  }
  free(n);
}

int main(int argc, char **argv) {
  int max = argc > 1 ? atoi(argv[1]) : 16;
  const int min = 4;
  if (max < min + 2)
    max = min + 2;
  struct node *stretch = make(max + 1);
  printf("stretch tree of depth %d\t check: %ld\n", max + 1, check(stretch));
  drop(stretch);
  struct node *longlived = make(max);
  for (int d = min; d <= max; d += 2) {
    long iters = 1L << (max - d + min), sum = 0;
    for (long i = 0; i < iters; i++) {
      struct node *t = make(d);
      sum += check(t);
      drop(t);
    }
    printf("%ld\t trees of depth %d\t check: %ld\n", iters, d, sum);
  }
  printf("long lived tree of depth %d\t check: %ld\n", max, check(longlived));
  drop(longlived);
  return 0;
}
