// What every usercrashctl command is handed: who we are called as, the
// global options, where to print, and the configuration on demand. Commands
// return an Outcome (an exit status, or a failure with its kind) and never
// exit on their own, so each one can be run and checked in a unit test.
#pragma once

#include <cstdio>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "config/config.h"
#include "tools/enabler.h"
#include "util/result.h"

namespace usercrash::tools::ctl {

// Exit statuses: 0 done (status/is-active: active), 1 failed, 2 bad usage,
// 3 not active (as systemctl is-active).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitInactive = 3;

struct Failure {
  enum class Kind {
    usage,          // the command line was wrong: exit 2, with the --help hint
    configuration,  // the configuration file is bad: exit 2, FILE:LINE says where
    failed,         // the work could not be done: exit 1
  };
  Kind kind = Kind::failed;
  std::string message;
};

using Outcome = std::expected<int, Failure>;

inline std::unexpected<Failure> usage(std::string message) {
  return std::unexpected(Failure{Failure::Kind::usage, std::move(message)});
}
inline std::unexpected<Failure> failed(std::string message) {
  return std::unexpected(Failure{Failure::Kind::failed, std::move(message)});
}
inline std::unexpected<Failure> failed(const util::Error& error) { return failed(error.message); }

struct Context {
  std::string program = "usercrashctl";  // or crashlogctl, as called
  std::string config_path;               // --config; empty: the default
  bool utc = false;                      // --utc: times in UTC, not the local zone
  std::string color_option = "auto";     // --color=auto|always|never
  bool no_pager = false;                 // --no-pager
  bool color = false;                    // decided from color_option, NO_COLOR, TERM and out
  std::FILE* out = stdout;
  std::FILE* err = stderr;
  // Set by tests instead of reading a config file.
  std::optional<config::Config> preloaded;
  // The two sysctls enable, disable, status and is-active read and write;
  // tests point them at plain files.
  KernelFiles kernel;

  // The configuration (--config, else /etc/usercrash.conf when it exists,
  // else the defaults). A bad file is a usage failure with FILE:LINE.
  std::expected<config::Config, Failure> config() const;
  // The path a message should name for the configuration.
  std::string config_name() const { return config_path.empty() ? config::kDefaultPath : config_path; }

  template <typename... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) const {
    fmt::print(out, format, std::forward<Args>(args)...);
  }
  // "PROGRAM: note: MESSAGE" on the error stream.
  void note(std::string_view message) const;
};

}  // namespace usercrash::tools::ctl
