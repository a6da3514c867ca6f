// A report's JSON symbolized after the fact, for usercrashctl symbolize (a
// report made elsewhere) and analyze (a core file's report, when debuginfod
// is configured): the engine's Symbolizer over debug files by build-id and
// debuginfod, the report layer's rewriting, and the notes for the person.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "engine/debug_files.h"
#include "util/result.h"

namespace usercrash::tools {

// The debuginfod servers to ask: the command line's (--debuginfod), else
// the configuration's debuginfod_urls, else DEBUGINFOD_URLS; none when
// none of them names one.
std::optional<std::string> debuginfod_urls(const std::optional<std::string>& option, const config::Config& config);

// --debuginfod-timeout SECONDS (1 to 3600), 30 s when not given.
util::Result<std::chrono::seconds> debuginfod_budget(const std::optional<std::string>& option);

struct SymbolizeRequest {
  engine::DebugSearch search;       // its remote is set from `urls`
  std::optional<std::string> urls;  // debuginfod, when asked
  std::chrono::seconds budget{30};  // for every debuginfod fetch together
  bool as_text = false;             // the text report instead of the JSON
  bool brief = false;               // as text, one line per frame (debugger --brief)
};

struct SymbolizedReport {
  std::string text;                // the report, ending in a newline
  std::vector<std::string> notes;  // modules without debug info and why, then a summary
};

// `json_text`: a report's JSON (hostile: bounded nesting, checked frames).
util::Result<SymbolizedReport> symbolize_report(const std::string& json_text, SymbolizeRequest request);

}  // namespace usercrash::tools
