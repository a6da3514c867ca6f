/* A stand-in for a previously configured core_pattern pipe handler
 * (systemd-coredump, apport): writes its argv, one per line, to DIR/argv,
 * everything it reads on stdin to DIR/core, whether fd 3 is a pidfd for the
 * crashed pid to DIR/pidfd, then renames DIR/argv.tmp to DIR/done.
 * Usage: record_handler DIR [ARGS...]; with RECORD_FAIL as its second
 * argument it exits at once without reading (a broken handler).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  if (argc > 2 && !strcmp(argv[2], "RECORD_FAIL")) return 3;
  char path[4096];
  /* First, while the crashed process is surely there: what fd 3 names. */
  char fdinfo[4096] = "";
  int info = open("/proc/self/fdinfo/3", O_RDONLY);
  if (info >= 0) {
    ssize_t got = read(info, fdinfo, sizeof fdinfo - 1);
    if (got > 0) fdinfo[got] = 0;
    close(info);
  }
  char* pid = strstr(fdinfo, "Pid:");
  if (pid && strchr(pid, '\n')) *strchr(pid, '\n') = 0;
  snprintf(path, sizeof path, "%s/pidfd", argv[1]);
  FILE* f = fopen(path, "w");
  fprintf(f, "%s\n", pid ? pid : "none");
  fclose(f);

  snprintf(path, sizeof path, "%s/core", argv[1]);
  int core = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  static char buffer[1 << 20];
  ssize_t n;
  while ((n = read(0, buffer, sizeof buffer)) > 0)
    if (write(core, buffer, (size_t)n) != n) return 1;
  close(core);
  snprintf(path, sizeof path, "%s/argv.tmp", argv[1]);
  f = fopen(path, "w");
  for (int i = 0; i < argc; ++i) fprintf(f, "%s\n", argv[i]);
  fclose(f);
  char done[4096];
  snprintf(done, sizeof done, "%s/done", argv[1]);
  rename(path, done);
  return 0;
}
