// Which reports usercrashctl list shows (issue 12.6, as coredumpctl's
// matches): by field (--pid, --uid, --comm, --exe, --signal, --signature,
// each repeatable), by bare MATCH operands (a number is a PID, a path with
// a '/' an EXE, anything else a COMM), by time (--since, --until), and how
// many (-n N, -1) in which order (-r: oldest first). Values of one field
// match either; different fields must all match.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/report_index.h"
#include "util/cli.h"
#include "util/result.h"

namespace usercrash::tools::ctl {

struct ReportFilter {
  std::vector<int64_t> pids, uids;
  std::vector<int> signals;
  std::vector<std::string> comms, exes;
  std::vector<std::string> signatures;  // lower-case hex prefixes
  std::optional<int64_t> since, until;  // seconds since the epoch, inclusive
  std::optional<size_t> newest;         // -n N, -1
  bool oldest_first = false;            // -r

  bool matches(const store::ReportSummary& r) const;
  // Whether anything narrows the list (for the "no report matches" line).
  bool narrows() const;
};

// The filter list's options and operands ask for; the error says which
// option or operand is wrong ("--since: ...", "'x=y' ...").
util::Result<ReportFilter> make_filter(const util::ParsedArgs& parsed, int64_t now, bool utc);

// Signal 11, "11", "SEGV", "sigsegv", "SIGSEGV" → 11.
std::optional<int> parse_signal(std::string_view text);

// When the report says the crash happened (its time, else its publication).
int64_t crash_time(const store::ReportSummary& r);

// ITEMS (newest first) cut to FILTER's -n and put in its order.
template <typename T>
void apply_window(std::vector<T>& items, const ReportFilter& filter) {
  if (filter.newest && items.size() > *filter.newest) items.erase(items.begin() + *filter.newest, items.end());
  if (filter.oldest_first) std::reverse(items.begin(), items.end());
}

// REPORTS (newest first) kept by FILTER's matches, cut to its -n, in its order.
std::vector<store::ReportSummary> filter_reports(const std::vector<store::ReportSummary>& reports,
                                                 const ReportFilter& filter);

}  // namespace usercrash::tools::ctl
