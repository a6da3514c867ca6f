#include "tools/ctl/report_groups.h"

#include "store/slot_ring.h"

#include <gtest/gtest.h>

namespace usercrash::tools::ctl {
namespace {

store::ReportSummary report(unsigned slot, std::optional<std::string> signature, int64_t uid, const char* time) {
  store::ReportSummary r;
  r.slot = slot;
  r.name = store::slot_name(slot);
  r.signature = std::move(signature);
  r.uid = uid;
  r.time = time;
  r.exe = "/usr/bin/x";
  return r;
}

TEST(ReportGroups, GroupsBySignatureAndUserNewestFirst) {
  // Newest first, as list_reports gives them.
  std::vector<store::ReportSummary> reports = {
      report(4, "aa", 0, "2026-01-01T00:00:04Z"), report(3, "bb", 0, "2026-01-01T00:00:03Z"),
      report(2, "aa", 1000, "2026-01-01T00:00:02Z"), report(1, std::nullopt, 0, "2026-01-01T00:00:01Z"),
      report(0, "aa", 0, "2026-01-01T00:00:00Z")};
  auto groups = group_reports(reports, nullptr);
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].signature, "aa");
  EXPECT_EQ(groups[0].uid, 0);
  EXPECT_EQ(groups[0].slots, (std::vector<std::string>{"usercrash_04", "usercrash_00"}));
  EXPECT_EQ(groups[0].count, 2u);
  EXPECT_FALSE(groups[0].counted_by_index);
  EXPECT_EQ(groups[0].first_seen, "2026-01-01T00:00:00Z");
  EXPECT_EQ(groups[0].last_seen, "2026-01-01T00:00:04Z");
  EXPECT_EQ(groups[2].signature, "aa") << "another user's crash is a group of its own";
  EXPECT_EQ(groups[2].uid, 1000);
  EXPECT_FALSE(groups[3].signature) << "a report without a signature stands alone";
}

TEST(ReportGroups, CountsComeFromTheIndexWhenItKnowsTheGroup) {
  store::RingIndex index;
  store::CrashFacts facts{store::GroupKey{"aa", 0}, "x", "/usr/bin/x"};
  for (int i = 0; i < 300; ++i) index.record(static_cast<unsigned>(i % 2), facts, 1'700'000'000 + i);
  std::vector<store::ReportSummary> reports = {report(1, "aa", 0, "2026-01-01T00:00:04Z"),
                                               report(0, "aa", 0, "2026-01-01T00:00:00Z")};
  auto groups = group_reports(reports, &index);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].count, 300u);
  EXPECT_TRUE(groups[0].counted_by_index);
  EXPECT_EQ(groups[0].first_seen, "2023-11-14T22:13:20Z");
}

}  // namespace
}  // namespace usercrash::tools::ctl
