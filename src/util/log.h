// Logging for the programs: stderr, and syslog when stderr is not a terminal
// (the client runs from core_pattern with no terminal at all).
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace usercrash::util::log {

enum class Level { debug, info, warning, error };

// Called once by each program; `ident` prefixes every line.
void init(const char* ident);
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
