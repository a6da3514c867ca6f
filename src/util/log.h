// Logging for the programs: stderr, and syslog when stderr is not a terminal
// (the client runs from core_pattern with no terminal at all).
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace usercrash::util::log {

enum class Level { debug, info, warning, error };

// How a program's lines are delivered.
enum class Sink {
  automatic,    // stderr, and syslog too when stderr is not a terminal (daemons, core_pattern helpers)
  stderr_only,  // interactive tools: their stderr is the user's
};

// Called once by each program; `ident` prefixes every line.
void init(const char* ident, Sink sink = Sink::automatic);
void set_verbose(bool verbose);
void write(Level level, std::string_view message);

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
