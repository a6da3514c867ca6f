/* core_pattern helper for bench/crash_profile.py: starts usercrash_c with
 * its phase trace on (src/util/phase_trace.h).
 *
 *   trace_handler DIR ARGS...   runs ../bin/usercrash_c -c DIR/c.conf ARGS
 *                               with USERCRASH_TRACE_FD on DIR/trace.PID
 *
 * It writes its own two marks first: "handler" when it started (how long
 * the kernel took to start a helper after the fault) and "exec" just before
 * usercrash_c's exec (from there to usercrash_c's "main" is exec, dynamic
 * loading and relocation). Linked statically so that its own start costs
 * as little as a helper's can. Benchmark code only.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void mark(int fd, const char* phase) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  char line[128];
  int n = snprintf(line, sizeof line, "%d mark %s %lld\n", (int)getpid(), phase,
                   (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
  if (write(fd, line, (size_t)n) != n) _exit(1);
}

int main(int argc, char** argv) {
  struct timespec started;
  clock_gettime(CLOCK_MONOTONIC, &started);
  if (argc < 3) return 2;
  char self[512], client[600], conf[600], trace[600];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return 1;
  self[n] = 0;
  *strrchr(self, '/') = 0;
  snprintf(client, sizeof client, "%s/../bin/usercrash_c", self);
  snprintf(conf, sizeof conf, "%s/c.conf", argv[1]);
  snprintf(trace, sizeof trace, "%s/trace.%d", argv[1], (int)getpid());
  int opened = open(trace, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW, 0600);
  if (opened < 0) return 1;
  /* The kernel starts a helper with only stdin open: keep the trace off
   * the standard fds, which usercrash_c points at /dev/null. */
  int fd = fcntl(opened, F_DUPFD, 10);
  if (fd < 0) return 1;
  close(opened);
  char line[128];
  int len = snprintf(line, sizeof line, "%d mark handler %lld\n", (int)getpid(),
                     (long long)started.tv_sec * 1000000000LL + started.tv_nsec);
  if (write(fd, line, (size_t)len) != len) return 1;
  char number[16];
  snprintf(number, sizeof number, "%d", fd);
  setenv("USERCRASH_TRACE_FD", number, 1);
  char* args[64];
  int k = 0;
  args[k++] = client;
  args[k++] = "-c";
  args[k++] = conf;
  for (int i = 2; i < argc && k < 62; ++i) args[k++] = argv[i];
  args[k] = NULL;
  mark(fd, "exec");
  execv(client, args);
  return 127;
}
