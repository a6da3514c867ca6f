// /etc/usercrash.conf: KEY=VALUE lines, '#' comments. One validated value
// object shared by every program; command-line flags override single keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace usercrash::config {

using std::chrono::milliseconds;

inline constexpr const char* kDefaultPath = "/etc/usercrash.conf";

// Which modules get their DWARF loaded for file:line. Loading libc's DWARF
// alone costs ~40 ms, so by default only modules that carry their own
// .debug_info (the program's own code) pay for it.
enum class SourceLines { none, own, all };

// Who may read a report. `root`: root only. `owner`: an ordinary user's own
// dumpable crash is made readable to that user, never to anyone else.
enum class ReportAccess { root, owner };

struct Config {
  std::string directory = "/var/log/usercrashes";
  std::string socket = "/run/usercrash/usercrash.sock";
  // Root-only state of `usercrashctl enable`: the core_pattern and
  // core_pipe_limit it replaced (the client chains to the saved handler).
  std::string state_directory = "/var/lib/usercrash";
  // Listening socket for the kernel's coredump connections (core_pattern "@@").
  std::string kernel_socket = "/run/usercrash/coredump.sock";
  unsigned count = 50;          // ring size
  unsigned max_concurrent = 1;  // dumps running at once
  unsigned max_queue = 64;      // dumps waiting for a slot; more are dropped and counted
  milliseconds request_timeout{1000};
  milliseconds completion_timeout{100'000};
  milliseconds client_timeout{50'000};
  bool save_core = false;
  uint64_t max_core_size = 2ULL << 30;  // bytes of core (uncompressed) kept per crash
  bool include_environment = false;
  unsigned max_threads = 1024;     // threads unwound per report
  unsigned max_frames = 256;       // frames per thread
  unsigned max_maps = 20000;       // lines of /proc/<pid>/maps kept
  unsigned max_open_files = 4096;  // fds listed
  uint64_t max_report_size = 16ULL << 20;
  milliseconds time_budget{5000};  // whole report, crash to written
  SourceLines source_lines = SourceLines::own;
  // Where separate debug files are looked up (by build-id). Root-owned
  // trees only: a module's own directory may belong to whoever crashed.
  std::string debuginfo_path = "/usr/lib/debug";
  ReportAccess report_access = ReportAccess::root;
  // Memory dumps of setuid / non-dumpable processes are left out unless set.
  bool dump_secure_memory = false;
  // Crashes accepted per minute before further ones are counted and dropped (0: no limit).
  unsigned rate_limit = 0;
};

// Parses the text of a config file; errors read "FILE:LINE: reason".
util::Result<Config> parse(std::string_view text, std::string_view filename, Config base = {});

// Reads and parses `path`. When `must_exist` is false and the file is absent,
// returns the defaults. As root, refuses a file other users could have written.
util::Result<Config> load(const std::string& path, bool must_exist);

// Sets one key from a command-line flag (same validation as the file, and
// a value in double quotes loses them as in the file).
util::Result<void> set(Config& config, std::string_view key, std::string_view value);

// Every key with its current value, quoted where needed, so that both the
// file and `set` read it back to the same value (the server hands its
// settings to its workers this way).
std::vector<std::pair<std::string, std::string>> dump(const Config& config);

// Names of every key, in documentation order.
const std::vector<std::string>& keys();

}  // namespace usercrash::config
