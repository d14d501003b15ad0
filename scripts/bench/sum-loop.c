/* The baseline the issue names: a plain C loop, built with cc -O1 (no vectorisation). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  long n = (long)atof(argc > 1 ? argv[1] : "1e8");
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  long sum = 0;
  for (long i = 0; i < n; i++) sum += i;
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  printf("{\"result\": \"%ld\", \"ms\": %.1f}\n", sum, ms);
  return 0;
}
