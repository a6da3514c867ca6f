// The metrics file: Prometheus text format, escaped labels, top signatures,
// the histogram, atomic writes, and a missing directory costing only a count.
#include "server/metrics.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "server/server.h"
#include "unit/test_support.h"

namespace usercrash::server {
namespace {

using test::TempDir;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, RendersCountersGaugesAndTheHistogram) {
  MetricsState s;
  s.recorded_new = 7;
  s.recorded_replaced = 296;
  s.per_signal["SIGSEGV"] = 5;
  s.per_signal["SIGABRT"] = 2;
  s.dropped["rate_limit_signature"] = 3;
  s.record_collection(0.004);
  s.record_collection(0.03);
  s.record_collection(20);
  for (int i = 0; i < 15; ++i) s.signatures[fmt::format("sig{:02}", i)] = {static_cast<uint64_t>(i), "/bin/x"};
  s.signatures["evil"] = {1000, "/opt/a\"b\\c\nd"};
  s.server_starts = 3;
  Counters k;
  k.queue_full = 4;
  k.accepted = 9;
  MetricsGauges g;
  g.queue_depth = 2;
  g.hooks_failed = 1;
  s.debuginfod_failures = 6;
  g.log.journal = 11;
  g.warm_ready = true;
  g.warm_passed = 12;
  g.warm_refused = 2;
  g.warm_restarts = 1;
  std::string text = "\n" + render_metrics(s, k, g);
  EXPECT_TRUE(has_line(text, "usercrash_warm_collector_ready 1")) << text;
  EXPECT_TRUE(has_line(text, "usercrash_warm_collector_crashes_total{outcome=\"passed\"} 12"));
  EXPECT_TRUE(has_line(text, "usercrash_warm_collector_crashes_total{outcome=\"refused\"} 2"));
  EXPECT_TRUE(has_line(text, "usercrash_warm_collector_restarts_total 1"));
  EXPECT_TRUE(has_line(text, "usercrash_reports_total{slot=\"new\"} 7")) << text;
  EXPECT_TRUE(has_line(text, "usercrash_reports_total{slot=\"replaced_group_newest\"} 296"));
  EXPECT_TRUE(has_line(text, "usercrash_crashes_dropped_total{reason=\"queue_full\"} 4"));
  EXPECT_TRUE(has_line(text, "usercrash_crashes_dropped_total{reason=\"rate_limit_signature\"} 3"));
  EXPECT_TRUE(has_line(text, "usercrash_crashes_dropped_total{reason=\"rate_limit\"} 0"));
  EXPECT_TRUE(has_line(text, "usercrash_crashes_by_signal_total{signal=\"SIGSEGV\"} 5"));
  EXPECT_TRUE(has_line(text, "usercrash_collection_seconds_bucket{le=\"0.005\"} 1"));
  EXPECT_TRUE(has_line(text, "usercrash_collection_seconds_bucket{le=\"0.05\"} 2"));
  EXPECT_TRUE(has_line(text, "usercrash_collection_seconds_bucket{le=\"10\"} 2"));
  EXPECT_TRUE(has_line(text, "usercrash_collection_seconds_bucket{le=\"+Inf\"} 3"));
  EXPECT_TRUE(has_line(text, "usercrash_collection_seconds_count 3"));
  EXPECT_TRUE(has_line(text, "usercrash_queue_depth 2"));
  EXPECT_TRUE(has_line(text, "usercrash_log_entries_total{sink=\"journald\"} 11"));
  EXPECT_TRUE(has_line(text, "usercrash_sink_failures_total{sink=\"on_report\"} 1"));
  EXPECT_TRUE(has_line(text, "usercrash_sink_failures_total{sink=\"debuginfod\"} 6"));
  EXPECT_TRUE(has_line(text, "usercrash_server_starts_total 3"));
  // The top ten signatures only, the most crashing first; labels escaped.
  EXPECT_TRUE(has_line(text, "usercrash_signature_crashes_total{signature=\"evil\",exe=\"/opt/a\\\"b\\\\c\\nd\"} 1000"))
      << text;
  EXPECT_TRUE(has_line(text, "usercrash_signature_crashes_total{signature=\"sig14\",exe=\"/bin/x\"} 14"));
  EXPECT_EQ(text.find("signature=\"sig05\""), std::string::npos);
  size_t top = 0;
  for (size_t at = text.find("\nusercrash_signature_crashes_total{"); at != std::string::npos;
       at = text.find("\nusercrash_signature_crashes_total{", at + 1))
    ++top;
  EXPECT_EQ(top, kMetricsTopSignatures);
  // Every sample line belongs to a family declared before it.
  std::istringstream lines(text);
  std::string line, family;
  while (std::getline(lines, line)) {
    if (line.starts_with("# TYPE ")) {
      family = line.substr(7, line.find(' ', 7) - 7);
    } else if (!line.empty() && line[0] != '#') {
      EXPECT_TRUE(line.starts_with(family)) << line;
    }
  }
}

TEST(Metrics, FileIsReplacedWholeAndReadableByNodeExporter) {
  TempDir dir;
  MetricsFile file(dir / "usercrash.prom");
  file.write("a 1\n");
  file.write("a 2\nb 3\n");
  EXPECT_EQ(test::read_file(dir / "usercrash.prom"), "a 2\nb 3\n");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "usercrash.prom").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(file.failures(), 0u);
  // Nothing else is left in the directory.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
  EXPECT_EQ(previous_starts("# x\nusercrash_server_starts_total 41\nother 2\n"), 41u);
  EXPECT_FALSE(previous_starts("nothing\n"));
}

TEST(Metrics, AMissingDirectoryIsCountedNotFatal) {
  TempDir dir;
  MetricsFile file(dir / "gone/usercrash.prom");
  file.write("a 1\n");
  file.write("a 1\n");
  EXPECT_EQ(file.failures(), 2u);
  ::mkdir((dir / "gone").c_str(), 0755);
  file.write("a 3\n");
  EXPECT_EQ(test::read_file(dir / "gone/usercrash.prom"), "a 3\n");
}

TEST(Metrics, WritesAtMostOnceASecondAndOnlyAfterAChange) {
  TempDir dir;
  MetricsFile file(dir / "m.prom");
  auto now = MetricsFile::Clock::now();
  int made = 0;
  auto text = [&] { return fmt::format("n {}\n", ++made); };
  file.write_if_due(now, text);
  EXPECT_EQ(made, 0) << "nothing changed";
  file.changed();
  file.write_if_due(now, text);
  EXPECT_EQ(made, 1);
  file.changed();
  file.write_if_due(now + std::chrono::milliseconds(100), text);
  EXPECT_EQ(made, 1) << "within the second";
  EXPECT_TRUE(file.next_write());
  file.write_if_due(now + std::chrono::milliseconds(1100), text);
  EXPECT_EQ(made, 2);
  EXPECT_FALSE(file.next_write());
}

}  // namespace
}  // namespace usercrash::server
