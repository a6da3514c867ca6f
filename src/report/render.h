// Renderers: pure functions of a Report. They never read /proc or memory.
#pragma once

#include <cstdint>
#include <string>

#include "engine/report.h"
#include "util/limits.h"

namespace usercrash::report {

struct RenderOptions {
  // Output beyond this many bytes is cut with a note saying so.
  uint64_t max_bytes = limits::kMaxReportSize;
  // Pretty-printed JSON (for people); compact otherwise.
  bool pretty_json = true;
  // Only the thread list with one line per frame (debugger --brief).
  bool brief = false;
};

// The text a person opens with less: the sections of ACRN's usercrash, kept recognisable.
std::string render_text(const engine::Report& report, const RenderOptions& options = {});

// One JSON object with the keys the README lists; always valid JSON.
std::string render_json(const engine::Report& report, const RenderOptions& options = {});

// "2026-11-26T04:14:49Z"
std::string iso8601_utc(int64_t seconds);

// "S (sleeping)" for "S".
std::string thread_state_name(const std::string& letter);

}  // namespace usercrash::report
