#include "util/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "util/unique_fd.h"

namespace usercrash::util {

Result<pid_t> spawn_program(const std::vector<std::string>& argv, const SpawnFds& fds, const SpawnOptions& options) {
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
  // No signal blocked, and every one at its default: a handler must not
  // inherit our SIGPIPE ignored (it would then never die of a closed reader).
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The environment the kernel gives core_pattern helpers.
  std::vector<std::string> environment = {"HOME=/", "PATH=/sbin:/bin:/usr/sbin:/usr/bin"};
  environment.insert(environment.end(), options.environment.begin(), options.environment.end());
  std::vector<char*> env;
  for (auto& e : environment) env.push_back(e.data());
  env.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail_errno("start " + argv[0], rc);
  return pid;
}

std::optional<int> wait_for_exit(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  using Clock = std::chrono::steady_clock;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    auto now = Clock::now();
    if (now >= deadline) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    int timeout = static_cast<int>(std::clamp<int64_t>(left, 1, 1000));
    // Without a pidfd (a kernel before 5.3), a short sleep instead.
    pollfd p{pidfd.get(), POLLIN, 0};
    if (pidfd) ::poll(&p, 1, timeout);
    else ::usleep(1000);
  }
}

}  // namespace usercrash::util
