#include "collect/report_writer.h"

#include <unistd.h>

#include <fmt/format.h>

#include "util/escape.h"
#include "util/file_io.h"
#include "util/log.h"

namespace usercrash::collect {

namespace {

util::Result<void> replace_contents(int fd, const std::string& data) {
  if (fd < 0) return {};
  if (::ftruncate(fd, 0) != 0) return util::fail_errno("truncate report file");
  if (::lseek(fd, 0, SEEK_SET) < 0) return util::fail_errno("seek report file");
  return util::write_all(fd, data);
}

}  // namespace

util::Result<JobResult> write_report(const engine::Report& report, const ReportFiles& files,
                                     const report::RenderOptions& render) {
  JobResult result;
  if (files.text_fd >= 0) {
    std::string text = report::render_text(report, render);
    if (auto r = replace_contents(files.text_fd, text); !r) return std::unexpected(r.error());
    result.text_bytes = text.size();
  }
  if (files.json_fd >= 0) {
    std::string json = report::render_json(report, render);
    if (auto r = replace_contents(files.json_fd, json); !r) return std::unexpected(r.error());
    result.json_bytes = json.size();
  }
  result.complete = true;
  return result;
}

uint64_t write_last_line(const engine::Report& report, const ReportFiles& files, const std::string& why) {
  if (auto r = replace_contents(files.json_fd, ""); !r)
    util::log::warn("emptying the JSON report failed: {}", r.error().message);
  std::string line =
      fmt::format("*** pid {} ({}): no room for the report: {} ***\n", report.pid, util::escape_text(report.comm), why);
  return replace_contents(files.text_fd, line) ? line.size() : 0;
}

}  // namespace usercrash::collect
