/* Stand-ins for the peers the benchmark compares usercrash with, run by the
 * kernel from core_pattern:
 *   handler seed DIR HIDE %P %E      the seed's method: save the core from stdin
 *                                    to a file, then run gdb with the seed's
 *                                    command set on it
 *   handler eu-stack DIR HIDE %P %E  save the core, then `eu-stack -s --core`
 *   handler rss DIR ARGS...          run ../bin/usercrash_c -c DIR/c.conf ARGS and
 *                                    write its CPU time (user + system, us) to
 *                                    DIR/cpu, then its peak RSS (KiB) to DIR/rss,
 *                                    children (the collector) included
 * HIDE is 1 to hide libc's separate debug info from the peer. The result goes
 * to DIR/report.PID.tmp, renamed to DIR/done.PID when complete.
 * Benchmark code only: the product never runs gdb or a shell.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void save_stdin(const char* path) {
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) exit(1);
  static char buffer[1 << 20];
  ssize_t n;
  while ((n = read(0, buffer, sizeof buffer)) > 0)
    if (write(out, buffer, (size_t)n) != n) exit(1);
  close(out);
}

static void run_to(const char* out, char* const argv[]) {
  pid_t child = fork();
  if (child == 0) {
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  waitpid(child, NULL, 0);
}

static const char* seed_commands[] = {
    "bt",
    "printf \"\\nRegisters\\n\"",
    "info registers",
    "printf \"\\n\\nMemory near rax\\n\"",
    "x/16x $rax-0x20",
    "x/48x $rax",
    "printf \"\\n\\nMemory near rbx\\n\"",
    "x/16x $rbx-0x20",
    "x/48x $rbx",
    "printf \"\\n\\nMemory near rcx\\n\"",
    "x/16x $rcx-0x20",
    "x/48x $rcx",
    "printf \"\\n\\nMemory near rdx\\n\"",
    "x/16x $rdx-0x20",
    "x/48x $rdx",
    "printf \"\\n\\nMemory near rsi\\n\"",
    "x/16x $rsi-0x20",
    "x/48x $rsi",
    "printf \"\\n\\nMemory near rdi\\n\"",
    "x/16x $rdi-0x20",
    "x/48x $rdi",
    "printf \"\\n\\nMemory near rbp\\n\"",
    "x/16x $rbp-0x20",
    "x/48x $rbp",
    "printf \"\\n\\nMemory near rsp\\n\"",
    "x/16x $rsp-0x20",
    "x/48x $rsp",
    "printf \"\\n\\ncode around rip\\n\"",
    "x/8i $rip-0x20",
    "x/48i $rip",
    "printf \"\\nThreads\\n\\n\"",
    "info threads",
    "printf \"\\nThreads backtrace\\n\\n\"",
    "thread apply all bt",
    "quit",
};

int main(int argc, char** argv) {
  if (argc >= 4 && !strcmp(argv[1], "rss")) {
    char self[512], client[600], conf[600], out[600], cpu[600];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    *strrchr(self, '/') = 0;
    snprintf(client, sizeof client, "%s/../bin/usercrash_c", self);
    snprintf(conf, sizeof conf, "%s/c.conf", argv[2]);
    snprintf(out, sizeof out, "%s/rss", argv[2]);
    snprintf(cpu, sizeof cpu, "%s/cpu", argv[2]);
    char* args[64];
    int k = 0;
    args[k++] = client;
    args[k++] = "-c";
    args[k++] = conf;
    for (int i = 3; i < argc && k < 62; ++i) args[k++] = argv[i];
    args[k] = NULL;
    pid_t child = fork();
    if (child == 0) {
      execv(client, args);
      _exit(127);
    }
    int status;
    struct rusage usage;
    wait4(child, &status, 0, &usage);
    FILE* c = fopen(cpu, "w");
    if (c) {
      fprintf(c, "%ld\n",
              (long)((usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000L + usage.ru_utime.tv_usec +
                     usage.ru_stime.tv_usec));
      fclose(c);
    }
    FILE* f = fopen(out, "w");
    if (f) {
      fprintf(f, "%ld\n", usage.ru_maxrss);
      fclose(f);
    }
    return 0;
  }
  if (argc < 6) return 2;
  const char *mode = argv[1], *dir = argv[2], *pid = argv[4], *exe = argv[5];
  int hide = !strcmp(argv[3], "1");
  char core[512], tmp[512], done[512];
  snprintf(core, sizeof core, "%s/core.%s", dir, pid);
  snprintf(tmp, sizeof tmp, "%s/report.%s.tmp", dir, pid);
  snprintf(done, sizeof done, "%s/done.%s", dir, pid);
  /* %E is the path with '/' replaced by '!'. */
  char path[512];
  snprintf(path, sizeof path, "%s", exe);
  for (char* p = path; *p; ++p)
    if (*p == '!') *p = '/';
  save_stdin(core);
  if (!strcmp(mode, "seed")) {
    char* args[128];
    int n = 0;
    args[n++] = "gdb";
    args[n++] = "-nx";
    if (hide) {
      args[n++] = "-iex";
      args[n++] = "set debug-file-directory /var/empty";
    }
    args[n++] = path;
    args[n++] = core;
    args[n++] = "-batch";
    for (size_t i = 0; i < sizeof seed_commands / sizeof *seed_commands; ++i) {
      args[n++] = "-ex";
      args[n++] = (char*)seed_commands[i];
    }
    args[n] = NULL;
    run_to(tmp, args);
  } else {
    char core_arg[600];
    snprintf(core_arg, sizeof core_arg, "--core=%s", core);
    char* args[] = {"eu-stack", "-s", "-e", path, core_arg, hide ? "--debuginfo-path=/var/empty" : NULL, NULL};
    run_to(tmp, args);
  }
  unlink(core);
  rename(tmp, done);
  return 0;
}
