// Starting a program directly (posix_spawn, never a shell) the way the
// kernel starts a core_pattern helper: a fixed minimal environment, chosen
// fds, everything else closed (our fds are all close-on-exec).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/result.h"

namespace usercrash::util {

struct SpawnFds {
  // (fd here, fd number in the child), applied in order.
  std::vector<std::pair<int, int>> map;
  // Standard fds not in `map` are opened on /dev/null.
};

struct SpawnOptions {
  // KEY=VALUE entries added to the fixed environment.
  std::vector<std::string> environment;
  // The child leads a process group of its own, so that it can be killed
  // with whatever it started.
  bool new_process_group = false;
};

// argv[0] must be an absolute path. The child starts with an empty signal
// mask, every signal at its default action, and HOME=/
// PATH=/sbin:/bin:/usr/sbin:/usr/bin (plus `options.environment`).
Result<pid_t> spawn_program(const std::vector<std::string>& argv, const SpawnFds& fds,
                            const SpawnOptions& options = {});

// Waits for our child `pid` to exit, until `deadline` (on a pidfd, so the
// wait ends the moment it exits); its wait status, reaped, or nullopt when
// it still runs at the deadline (it is left running).
std::optional<int> wait_for_exit(pid_t pid, std::chrono::steady_clock::time_point deadline);

}  // namespace usercrash::util
