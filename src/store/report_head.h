// What a report's text says in its head: the header lines and the crashing
// thread's backtrace. The server learns from it how to group a report, what
// to log and what to pass on, without parsing the whole JSON (a report of
// hundreds of threads is megabytes); usercrashctl falls back on it when the
// JSON is missing. Values are as the text shows them: escaped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace usercrash::store {

// Bytes of the text read for its head: the header and a backtrace of a
// couple of hundred frames.
inline constexpr size_t kReportHeadBytes = 64 * 1024;

struct ReportHead {
  std::optional<std::string> id;  // "id: " as written (usercrashctl takes only the UUID form)
  std::optional<int64_t> pid;
  std::optional<int64_t> uid;
  std::optional<std::string> comm;
  std::optional<std::string> thread;  // the crashing thread's name
  std::optional<std::string> exe;
  std::optional<std::string> build_id;  // the executable's
  std::optional<std::string> time;      // ISO 8601 UTC
  std::optional<int> signal;
  std::optional<std::string> signal_name;
  std::optional<std::string> cause;
  std::optional<std::string> signature;
  std::vector<std::string> backtrace;  // "#00 pc 0x... module+0x... (function+0x1c) ..." lines
};

ReportHead parse_report_head(std::string_view text);

// Reads the head of the text report behind `fd` (from offset 0, the file
// position untouched) and parses it.
util::Result<ReportHead> read_report_head(int fd);

}  // namespace usercrash::store
