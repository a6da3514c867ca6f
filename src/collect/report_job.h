// Collecting a report and writing it into its files, with the parts that
// read hostile ELF/DWARF in a forked child: if that child crashes or runs
// past the time budget, it is killed and a report without backtraces is
// written instead, saying why. A crash is never left without a report.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "engine/report_builder.h"
#include "engine/target.h"
#include "report/render.h"

namespace usercrash::collect {

struct ReportFiles {
  int text_fd = -1;  // owned by the caller
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

// Builds and writes the report in a child; falls back as described above.
// `options.deadline` is the hard limit for the child.
JobResult run_report_job(engine::Target& target, const engine::CollectOptions& options, const ReportFiles& files,
                         const report::RenderOptions& render);

}  // namespace usercrash::collect
