// The one log sink of every program: journald when it runs (structured
// entries in its native protocol, util/journal_socket.h), else syslog, else stderr; never
// /dev/console. Interactive tools write to stderr only. A daemon whose
// stderr is a file or a pipe (run by hand, or by the tests) also gets a
// copy of each line there, unless that stderr is journald's own stream.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace usercrash::util::log {

// Priorities as syslog and journald number them: critical is 2.
enum class Level { debug, info, warning, error, critical };

// How a program's lines are delivered.
enum class Sink {
  automatic,    // journald, else syslog, else stderr (daemons, core_pattern helpers)
  stderr_only,  // interactive tools: their stderr is the user's
};

// One field of a structured entry: a journald field name (upper case,
// digits and '_', not starting with '_') and its value (any bytes).
struct Field {
  std::string name;
  std::string value;
};

// Called once by each program; `ident` prefixes every line (and is the
// journal's SYSLOG_IDENTIFIER).
void init(const char* ident, Sink sink = Sink::automatic);
void set_verbose(bool verbose);
void write(Level level, std::string_view message);

// A structured entry: journald gets MESSAGE, PRIORITY and `fields`;
// syslog and stderr get the message followed by `plain_suffix`.
void entry(Level level, std::string_view message, const std::vector<Field>& fields, std::string_view plain_suffix = {});

// From now on entries go to journald and syslog from a background thread,
// so a journald that has stopped reading (its socket queue full) never
// blocks the caller; past `max_queued` waiting entries, new ones are
// dropped and counted. At exit, queued entries get up to `exit_flush`.
// For the server, whose loop must never wait, and the client, which must
// never be held by a log.
void deliver_in_background(size_t max_queued = 1024,
                           std::chrono::milliseconds exit_flush = std::chrono::milliseconds(200));
// Waits up to `timeout` for queued entries to be delivered (before exit).
void flush(std::chrono::milliseconds timeout);

// What happened to the entries so far (for the metrics).
struct Delivery {
  uint64_t journal = 0;           // sent to journald
  uint64_t syslog = 0;            // sent to syslog
  uint64_t journal_failures = 0;  // journald refused one (it then went to syslog)
  uint64_t dropped = 0;           // background queue full
};
Delivery delivery();

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::warning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace usercrash::util::log
