// usercrashctl list --group: the reports in the ring by crash group
// (signature and user, as the server groups them), with how many crashes
// each group had, when it was first and last seen, and its newest report.
// Counts come from the ring's index (store/ring_index.h) when it can be
// read (root), else from the reports still in the ring.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/report_index.h"
#include "store/ring_index.h"

namespace usercrash::tools::ctl {

struct ReportGroup {
  std::optional<std::string> signature;  // none: a report without a signature, a group of its own
  std::optional<int64_t> uid;
  uint64_t count = 0;                    // crashes of the group: kept, replaced and not stored
  bool counted_by_index = false;         // false: `count` is the reports in the ring only
  std::string first_seen, last_seen;     // ISO 8601 UTC
  std::vector<std::string> slots;        // its reports in the ring, newest first
  std::optional<std::string> exe, comm;  // of its newest report
};

// `reports` newest first (as store::list_reports gives them); `index` the
// ring's index, or nullptr. Groups come newest first (by their newest report).
std::vector<ReportGroup> group_reports(const std::vector<store::ReportSummary>& reports, const store::RingIndex* index);

}  // namespace usercrash::tools::ctl
