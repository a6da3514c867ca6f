/* Start-up cost of programs, measured side by side: each round runs every
 * command once (in turn, so that they share the machine's moods), N rounds.
 * Prints per command the median wall time from posix_spawn to the end of
 * wait4, and the median CPU time (user + system) of the child, in µs, and
 * both as ratios to the first command.
 *
 *   exec_bench N CMD [ARG...] [-- CMD [ARG...]]...
 *
 * Every command runs with stdout and stderr on /dev/null. Benchmark code
 * only (bench/crash_profile.py runs it).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

enum { kMaxCommands = 16 };

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int compare(const void* a, const void* b) {
  long long x = *(const long long*)a, y = *(const long long*)b;
  return (x > y) - (x < y);
}

static double median(long long* v, int n) {
  qsort(v, (size_t)n, sizeof *v, compare);
  return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: exec_bench N CMD [ARG...] [-- CMD [ARG...]]...\n");
    return 2;
  }
  int rounds = atoi(argv[1]);
  if (rounds < 1) return 2;
  char** commands[kMaxCommands];
  int count = 0;
  commands[count++] = &argv[2];
  for (int i = 2; i < argc; ++i) {
    if (strcmp(argv[i], "--") != 0) continue;
    argv[i] = NULL;
    if (i + 1 < argc && count < kMaxCommands) commands[count++] = &argv[i + 1];
  }
  long long* wall = calloc((size_t)(rounds * count), sizeof *wall);
  long long* cpu = calloc((size_t)(rounds * count), sizeof *cpu);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  for (int r = 0; r < rounds; ++r) {
    for (int c = 0; c < count; ++c) {
      long long start = now_ns();
      pid_t pid;
      if (posix_spawn(&pid, commands[c][0], &actions, NULL, commands[c], environ) != 0) {
        perror(commands[c][0]);
        return 1;
      }
      int status;
      struct rusage usage;
      wait4(pid, &status, 0, &usage);
      wall[c * rounds + r] = now_ns() - start;
      cpu[c * rounds + r] = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL +
                            (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
    }
  }
  double base_wall = 0, base_cpu = 0;
  printf("%-60s %10s %7s %10s %7s\n", "command", "wall us", "ratio", "cpu us", "ratio");
  for (int c = 0; c < count; ++c) {
    double w = median(&wall[c * rounds], rounds) / 1000.0, u = median(&cpu[c * rounds], rounds) / 1000.0;
    if (c == 0) base_wall = w, base_cpu = u;
    char name[61] = "";
    for (char** a = commands[c]; *a; ++a) {
      strncat(name, *a, sizeof name - strlen(name) - 1);
      strncat(name, " ", sizeof name - strlen(name) - 1);
    }
    printf("%-60s %10.0f %6.2fx %10.0f %6.2fx\n", name, w, base_wall > 0 ? w / base_wall : 0, u,
           base_cpu > 0 ? u / base_cpu : 0);
  }
  return 0;
}
