// The warm collector as the server sees it (client/warm_collector.h): a
// child process, `usercrash_c --warm-collector 3` with the same
// configuration arguments as the kernel-socket workers, on a socket pair.
// It is started with the server and started again when it dies (after a
// second, so that one that cannot start does not spin); hand-offs go to it
// only once it said it is warm. A hand-off it cannot take now is refused
// at once, and usercrash_c collects that crash itself.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ipc/protocol.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::server {

class WarmCollectorProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // `argv`: the program and its configuration arguments; `--warm-collector
  // 3` is added. Its channel is watched on `epoll` under `tag`.
  WarmCollectorProcess(std::vector<std::string> argv, int epoll, uint64_t tag);
  ~WarmCollectorProcess();
  WarmCollectorProcess(const WarmCollectorProcess&) = delete;
  WarmCollectorProcess& operator=(const WarmCollectorProcess&) = delete;

  void start();
  // The channel is readable: the collector says it is warm (or went away).
  void on_readable();
  // Our child `pid` ended: true when it was the collector.
  bool on_exit(pid_t pid, int status);
  // When a restart is due, for the event loop's timeout; restarts it then.
  std::optional<Clock::time_point> next_restart() const { return restart_at_; }
  void restart_if_due(Clock::time_point now);
  // Stops it for good (SIGTERM); spares busy with a crash finish it.
  void stop();

  bool ready() const { return ready_; }
  // Passes a crash on: `packet` with `fds` (the client's connection, then
  // the core and pidfd; or the kernel's connection alone). Fails when the
  // collector is not warm or cannot take more now.
  util::Result<void> pass(const ipc::HandOff& packet, std::span<const int> fds);

  uint64_t restarts() const { return restarts_; }
  uint64_t handed_off() const { return handed_off_; }

 private:
  void close_channel();

  std::vector<std::string> argv_;
  int epoll_;
  uint64_t tag_;
  util::UniqueFd channel_;
  pid_t pid_ = -1;
  bool ready_ = false;
  bool stopped_ = false;
  std::optional<Clock::time_point> restart_at_;
  uint64_t restarts_ = 0;
  uint64_t handed_off_ = 0;
};

}  // namespace usercrash::server
