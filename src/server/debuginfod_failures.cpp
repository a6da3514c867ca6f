#include "server/debuginfod_failures.h"

#include <fmt/format.h>

#include "util/escape.h"

namespace usercrash::server {

std::optional<DebuginfodFailures::Line> DebuginfodFailures::note(ipc::DebuginfodOutcome outcome,
                                                                 std::string_view reason, std::string_view who) {
  using ipc::DebuginfodOutcome;
  if (outcome == DebuginfodOutcome::not_asked) return std::nullopt;
  if (!ipc::is_failure(outcome)) {
    if (said_.empty()) return std::nullopt;
    said_.clear();
    return Line{util::log::Level::info,
                fmt::format("crash_debuginfod: debuginfod answers again ({} crashes without it so far)", count_)};
  }
  ++count_;
  // A reason of a pause says how long ago the timeout was: the pause is
  // that timeout's failure, whatever its words.
  std::string key = outcome == DebuginfodOutcome::failed ? "failed: " + std::string(reason) : "unanswered";
  if (key == said_) return std::nullopt;
  said_ = std::move(key);
  return Line{util::log::Level::warning,
              fmt::format("crash_debuginfod: {}: no debug files: {} (further failures alike are only counted)", who,
                          util::escape_text(reason))};
}

}  // namespace usercrash::server
