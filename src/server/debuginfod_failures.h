// The crash path's debuginfod failures (crash_debuginfod), as each client
// tells them when it completes (ipc::Completed.debuginfod): counted for the
// metrics (usercrash_sink_failures_total{sink="debuginfod"}) and said once
// with their reason, not per crash: in a storm against a down server every
// crash fails alike. Another reason is said again; a silent server's
// timeout and the pause that follows it (the crashes after it do not ask)
// are one failure. A crash whose servers answered ends it, said once too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/protocol.h"
#include "util/log.h"

namespace usercrash::server {

class DebuginfodFailures {
 public:
  struct Line {
    util::log::Level level;
    std::string message;
  };

  // Takes one crash's outcome; `reason` as the codec checked it, `who` the
  // crash as the server names it (already safe to print). Returns the line
  // to log, if any, the reason escaped in it.
  std::optional<Line> note(ipc::DebuginfodOutcome outcome, std::string_view reason, std::string_view who);

  // Crashes whose fetch failed, timed out or was paused.
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
  std::string said_;  // what the failure being said is ("" when none)
};

}  // namespace usercrash::server
