// Which report a command means: SLOT (7, usercrash_07) or PID (the newest
// report of that process).
#pragma once

#include <string>
#include <vector>

#include "store/report_index.h"
#include "tools/ctl/context.h"
#include "util/unique_fd.h"

namespace usercrash::tools::ctl {

struct OpenedReports {
  util::UniqueFd dir;
  std::vector<store::ReportSummary> reports;
};

// The crash directory and its reports, newest first.
std::expected<OpenedReports, Failure> open_reports(const config::Config& config);

// A usage failure when `arg` cannot be a selector at all (checked before
// anything is read).
std::expected<void, Failure> check_selector(const std::string& verb, const std::string& arg, bool force_pid);

// The report `arg` names; `force_pid`: the argument is a pid (--pid).
std::expected<store::ReportSummary, Failure> resolve(const OpenedReports& opened, const std::string& arg,
                                                     bool force_pid);

// The report a command's SLOT|PID operand names, with the configuration and
// the opened directory it came from.
struct SelectedReport {
  config::Config config;
  OpenedReports opened;
  store::ReportSummary report;
};
std::expected<SelectedReport, Failure> select_report(const Context& ctx, const std::string& verb,
                                                     const std::string& selector, bool force_pid);

}  // namespace usercrash::tools::ctl
