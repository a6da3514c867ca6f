// Backtraces and symbols, through elfutils' libdwfl fed by our Target: the
// one place in the project that calls libdw. CFI first; where no CFI covers
// a frame, elfutils falls back to the frame-pointer chain and the frame is
// marked so.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/memory_cache.h"
#include "engine/report.h"
#include "engine/target.h"
#include "engine/warm_modules.h"
#include "util/limits.h"

namespace usercrash::engine {

struct UnwindOptions {
  size_t max_frames = limits::kMaxFrames;
  // `automatic`: `all` with warm modules (below), else `own`.
  limits::SourceLines source_lines = limits::kSourceLines;
  std::string debuginfo_path = limits::kDebuginfoPath;
  // Trusted libraries held warm by the parent (engine/warm_modules.h): a
  // module with a build-id found there takes its function, file:line and
  // inlined calls from it. Null: everything is loaded from the target's
  // files. Not owned; must outlive the unwinder.
  const WarmModules* warm = nullptr;
  // Work stops (with a note) once this passes.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct Backtrace {
  std::vector<Frame> frames;
  // Why the backtrace ends early, if it does: "frame limit (256) reached",
  // "frame loop", "time budget", "unreadable stack at 0x...".
  std::optional<std::string> stopped;
  bool truncated = false;  // cut by max_frames
};

class Unwinder {
 public:
  // `target` and `memory` (a cache over the same target) must outlive the
  // unwinder. Modules are reported from the target's mappings; their files
  // are opened only when a frame needs them.
  Unwinder(Target& target, MemoryCache& memory, UnwindOptions options);
  ~Unwinder();
  Unwinder(const Unwinder&) = delete;
  Unwinder& operator=(const Unwinder&) = delete;

  Backtrace backtrace(const ThreadRegisters& thread);

  // Address of symbol `name` in the first module whose file name starts
  // with `module_prefix` (e.g. "libc.so"); nullopt when not found.
  std::optional<uint64_t> find_symbol(std::string_view name, std::string_view module_prefix);

  // Build-id (hex) of the module mapped from `path` (as the maps name it),
  // when it has one.
  std::optional<std::string> module_build_id(std::string_view path);

  // Problems met while opening modules or debug info, for the report.
  const std::vector<std::string>& problems() const;

  // Opaque; public only so the libdwfl callbacks in the .cpp can name it.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace usercrash::engine
