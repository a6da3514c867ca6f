// Turns a Target into a Report: threads unwound and symbolized, the crashing
// thread's registers, memory and code, the signal and its likely cause, the
// abort message, and the process facts. Never formats text.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "engine/report.h"
#include "engine/target.h"
#include "engine/warm_modules.h"
#include "util/limits.h"

namespace usercrash::engine {

// What to collect and the caps on it; collect/options.h fills it from a Config.
struct CollectOptions {
  size_t max_threads = limits::kMaxThreads;
  size_t max_frames = limits::kMaxFrames;
  limits::SourceLines source_lines = limits::kSourceLines;
  std::string debuginfo_path = limits::kDebuginfoPath;
  // Trusted libraries held warm by the collector's parent (see
  // UnwindOptions::warm); null: none. Not owned.
  const WarmModules* warm = nullptr;
  size_t max_modules = limits::kMaxModules;  // module files opened for the engine
  bool unwind = true;                        // false: registers and /proc facts only
  bool include_memory = true;                // memory near registers, code around pc, abort message
  bool dump_secure_memory = false;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  int64_t time = 0;  // seconds since the epoch of the crash; 0: now
};

Report build_report(Target& target, const CollectOptions& options);

// True when the process was setuid/setgid, changed credentials, or was
// marked non-dumpable: its memory must not reach a report others can read.
bool is_secure_process(const ProcessFacts& facts);
// Which of those it was, in words; nullopt when none.
std::optional<std::string> secure_reason(const ProcessFacts& facts);

}  // namespace usercrash::engine
