// /etc/usercrash.conf and /etc/usercrash.conf.d/*.conf: KEY=VALUE lines, '#'
// comment lines. One validated value object shared by every program;
// command-line flags override single keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/limits.h"
#include "util/result.h"

namespace usercrash::config {

using std::chrono::milliseconds;

inline constexpr const char* kDefaultPath = "/etc/usercrash.conf";

// Which modules get their DWARF loaded for file:line (see util/limits.h).
using limits::SourceLines;

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
  // The server keeps a collector process warm (libraries, disassembler,
  // sandbox plan loaded once) and usercrash_c hands crashes to it.
  bool warm_collector = true;
  milliseconds request_timeout{1000};
  milliseconds completion_timeout{100'000};
  milliseconds client_timeout{50'000};
  bool save_core = false;
  uint64_t max_core_size = limits::kMaxCoreSize;  // bytes of core (uncompressed) kept per crash
  bool include_environment = false;
  unsigned max_threads = limits::kMaxThreads;       // threads unwound per report
  unsigned max_frames = limits::kMaxFrames;         // frames per thread
  unsigned max_maps = limits::kMaxMaps;             // lines of /proc/<pid>/maps kept
  unsigned max_open_files = limits::kMaxOpenFiles;  // fds listed
  uint64_t max_report_size = limits::kMaxReportSize;
  milliseconds time_budget = limits::kTimeBudget;  // whole report, crash to written
  uint64_t memory_budget = limits::kMemoryBudget;  // data memory of the collection
  SourceLines source_lines = limits::kSourceLines;
  // Where separate debug files are looked up (by build-id). Root-owned
  // trees only: a module's own directory may belong to whoever crashed.
  std::string debuginfo_path = limits::kDebuginfoPath;
  // debuginfod servers (space-separated URLs) that usercrashctl symbolize
  // and analyze ask for the debug files the host lacks; "": none (then
  // DEBUGINFOD_URLS, if set). The crash path asks them only with
  // crash_debuginfod.
  std::string debuginfod_urls;
  // The crash path asks debuginfod_urls too, for the modules of the frames
  // that lack file:line, within crash_debuginfod_timeout (after collecting,
  // outside the engine's sandbox; collect/late_symbols.h).
  bool crash_debuginfod = false;
  milliseconds crash_debuginfod_timeout{2000};
  // The crash path's debuginfod cache: root's alone (created 0700).
  std::string crash_debuginfod_cache = "/var/cache/usercrash/debuginfod";
  // The unprivileged user the engine runs as while it parses the crashed
  // process's ELF, DWARF and code; nobody when it does not exist.
  std::string engine_user = limits::kEngineUser;
  ReportAccess report_access = ReportAccess::root;
  // Memory dumps of setuid / non-dumpable processes are left out unless set.
  bool dump_secure_memory = false;
  // Crashes stored per minute, per crash group (signature and user) first,
  // then in slots of their own overall; further ones are counted, not
  // stored (0: no limit). See server/crash_admission.h.
  unsigned rate_limit = 0;
  // Per crash group, the first N reports and the newest are kept; a further
  // crash of the group replaces its newest, and all are counted (0: no grouping).
  unsigned keep_per_signature = 3;
  // Run after each published report with its paths, slot, signature and
  // pid (posix_spawn, no shell); empty for none.
  std::string on_report;
  milliseconds on_report_timeout{30'000};
  // Prometheus text metrics for node_exporter's textfile collector; empty for none.
  std::string metrics_file;
};

// Parses the text of a config file; errors read "FILE:LINE: reason".
util::Result<Config> parse(std::string_view text, std::string_view filename, Config base = {});

// Reads and parses `path`, then its drop-ins `path`.d/*.conf in the byte
// order of their names, each setting keys over what came before (a key once
// per file). When `must_exist` is false and the file is absent, starts from
// the defaults. As root, refuses a file or drop-in directory other users
// could have written.
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

// For the programs: loads `path` when given (it must exist), else the
// default path if it exists, else the defaults. On error prints
// "PROGRAM: bad configuration: reason" and exits with status 2.
Config load_or_exit(const char* program, const std::string& path);

// Applies one flag override ("--count 5" is key "count"); a bad value is a
// usage error (exit 2).
void override_or_exit(const char* program, Config& config, const char* key, const char* value);

}  // namespace usercrash::config
