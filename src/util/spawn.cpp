#include "util/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <algorithm>

namespace usercrash::util {

Result<pid_t> spawn_program(const std::vector<std::string>& argv, const SpawnFds& fds) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
    return fail("not an absolute path: " + (argv.empty() ? "" : argv[0]));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (auto [from, to] : fds.map) posix_spawn_file_actions_adddup2(&actions, from, to);
  for (int std_fd = 0; std_fd <= 2; ++std_fd) {
    bool mapped = std::any_of(fds.map.begin(), fds.map.end(), [&](auto m) { return m.second == std_fd; });
    if (!mapped) posix_spawn_file_actions_addopen(&actions, std_fd, "/dev/null", std_fd == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The environment the kernel gives core_pattern helpers.
  char home[] = "HOME=/";
  char path[] = "PATH=/sbin:/bin:/usr/sbin:/usr/bin";
  char* env[] = {home, path, nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), env);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail_errno("start " + argv[0], rc);
  return pid;
}

}  // namespace usercrash::util
