// Writing a rendered report into its files: the text, and the JSON beside
// it. Each write replaces what the files held, so a report can be written
// again once late facts (the saved core, who published it) are known.
#pragma once

#include <cstdint>
#include <string>

#include "engine/report.h"
#include "report/render.h"
#include "util/result.h"

namespace usercrash::collect {

struct ReportFiles {
  int text_fd = -1;  // owned by the caller; -1 for no text
  int json_fd = -1;  // owned by the caller; -1 for no JSON
};

struct JobResult {
  bool complete = false;  // the full report was written
  std::string note;       // why not, when not
  uint64_t text_bytes = 0;
  uint64_t json_bytes = 0;
};

// Renders `report` into the files (replacing what they held).
util::Result<JobResult> write_report(const engine::Report& report, const ReportFiles& files,
                                     const report::RenderOptions& render);

// When not even the report fits (a full disk): frees the space the JSON took
// and leaves one line in the text that says what happened. Returns its size.
uint64_t write_last_line(const engine::Report& report, const ReportFiles& files, const std::string& why);

}  // namespace usercrash::collect
