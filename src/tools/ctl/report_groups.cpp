#include "tools/ctl/report_groups.h"

#include "report/render.h"

namespace usercrash::tools::ctl {

namespace {

std::string report_time(const store::ReportSummary& r) {
  return r.time ? *r.time : report::iso8601_utc(r.mtime.tv_sec);
}

}  // namespace

std::vector<ReportGroup> group_reports(const std::vector<store::ReportSummary>& reports,
                                       const store::RingIndex* index) {
  std::vector<ReportGroup> groups;
  for (const auto& r : reports) {
    ReportGroup* group = nullptr;
    if (r.signature)
      for (auto& g : groups)
        if (g.signature == r.signature && g.uid == r.uid) group = &g;
    if (!group) {
      // The first report seen of a group is its newest.
      groups.push_back(ReportGroup{r.signature, r.uid, 0, false, report_time(r), report_time(r), {}, r.exe, r.comm});
      group = &groups.back();
    }
    group->slots.push_back(r.name);
    group->count++;
    // Reports come newest first: the last one seen is the oldest.
    group->first_seen = report_time(r);
  }
  if (!index) return groups;
  for (auto& g : groups) {
    if (!g.signature || !g.uid || *g.uid < 0) continue;
    const store::GroupRecord* record = index->group(store::GroupKey{*g.signature, static_cast<uint32_t>(*g.uid)});
    if (!record || record->count < g.count) continue;
    g.count = record->count;
    g.counted_by_index = true;
    if (record->first_seen > 0) g.first_seen = report::iso8601_utc(record->first_seen);
    if (record->last_seen > 0) g.last_seen = report::iso8601_utc(record->last_seen);
  }
  return groups;
}

}  // namespace usercrash::tools::ctl
