#include "util/log.h"

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace usercrash::util::log {
namespace {

const char* g_ident = "usercrash";
bool g_syslog = false;
bool g_stderr = true;
bool g_verbose = false;

int syslog_priority(Level level) {
  switch (level) {
    case Level::debug: return LOG_DEBUG;
    case Level::info: return LOG_INFO;
    case Level::warning: return LOG_WARNING;
    case Level::error: return LOG_ERR;
  }
  return LOG_INFO;
}

const char* prefix(Level level) {
  switch (level) {
    case Level::debug: return "debug: ";
    case Level::info: return "";
    case Level::warning: return "warning: ";
    case Level::error: return "error: ";
  }
  return "";
}

}  // namespace

void init(const char* ident, Sink sink) {
  g_ident = ident;
  // stderr may be closed (the kernel starts core_pattern helpers with no fds
  // but the pipe); syslog is then the only place a line can go.
  g_stderr = ::fcntl(STDERR_FILENO, F_GETFD) != -1;
  g_syslog = sink == Sink::automatic && (!g_stderr || !::isatty(STDERR_FILENO));
  if (g_syslog) ::openlog(ident, LOG_PID | LOG_CONS, LOG_DAEMON);
}

void set_verbose(bool verbose) { g_verbose = verbose; }

void write(Level level, std::string_view message) {
  if (level == Level::debug && !g_verbose) return;
  if (g_stderr) {
    std::string line = std::string(g_ident) + ": " + prefix(level);
    line.append(message);
    line.push_back('\n');
    // One write per line so concurrent writers do not interleave mid-line.
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
  }
  if (g_syslog) {
    ::syslog(syslog_priority(level), "%.*s", static_cast<int>(message.size()), message.data());
  }
}

}  // namespace usercrash::util::log
