/* A small program blocked deep in libc for bench/warm_modules_bench: qsort's
 * merge sort calls back into it, and the callback blocks in read() on
 * stdin after writing one byte to stdout. Benchmark code only. */
#include <stdlib.h>
#include <unistd.h>

static int blocked;

static int compare(const void* a, const void* b) {
  if (!blocked) {
    char c = 1;
    blocked = 1;
    if (write(1, &c, 1) != 1 || read(0, &c, 1) < 0) _exit(1);
  }
  return *(const int*)a - *(const int*)b;
}

int main(void) {
  int values[64];
  for (int i = 0; i < 64; ++i) values[i] = 64 - i;
  qsort(values, 64, sizeof values[0], compare);
  return 0;
}
