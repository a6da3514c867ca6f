// Reading the crash directory back: summaries, order, tolerance of missing
// or broken JSON, usage and clean.
#include "store/report_index.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "report/render.h"
#include "unit/sample_report.h"

namespace usercrash::store {
namespace {

namespace fs = std::filesystem;

constexpr const char* kText =
    "*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***\n"
    "pid: 4242, tgid: 4242, comm: worker\n"
    "thread: worker, tid: 4242\n"
    "uid: 1000, gid: 1000\n"
    "exe: /opt/app/bin/worker\n"
    "cmdline: /opt/app/bin/worker --serve\n"
    "time: 2025-01-02T03:04:05Z\n"
    "source: core_pattern\n"
    "signal: 6 (SIGABRT), code: -6 (SI_TKILL)\n"
    "\n"
    "Registers:\n"
    "pid: 1, tgid: 1, comm: not-the-header\n";

// Nested keys named like the summary's must not be taken for them.
constexpr const char* kJson = R"({
 "abort_message": null,
 "comm": "crasher",
 "exe": "/usr/bin/crasher",
 "maps": [{"path": "/x", "pid": 1}],
 "pid": 31337,
 "signal": {"code": 1, "name": "SIGSEGV", "number": 11, "sender_pid": 99, "nested": {"number": 5}},
 "threads": [{"tid": 31337, "name": "main", "registers": {"pid": "0x1"}, "frames": [{"function": "f"}]}],
 "time": "2025-06-07T08:09:10Z",
 "uid": 0
})";

class ReportIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/usercrash-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ::chmod(root_.c_str(), 0750);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& name, const std::string& text, time_t mtime) {
    std::ofstream(root_ + "/" + name, std::ios::binary) << text;
    timespec times[2] = {{mtime, 0}, {mtime, 0}};
    ::utimensat(AT_FDCWD, (root_ + "/" + name).c_str(), times, 0);
  }
  int dirfd() {
    auto fd = open_report_directory(root_);
    EXPECT_TRUE(fd) << fd.error().message;
    dir_ = std::move(*fd);
    return dir_.get();
  }

  std::string root_;
  util::UniqueFd dir_;
};

TEST_F(ReportIndex, ListsNewestFirstFromJsonOrText) {
  const time_t t0 = 1'700'000'000;
  write("usercrash_00", kText, t0);
  write("usercrash_00.json", kJson, t0);
  write("usercrash_00.core.zst", std::string(5000, 'z'), t0);
  write("usercrash_01", kText, t0 + 10);  // no JSON
  write("usercrash_02", kText, t0 + 20);
  write("usercrash_02.json", "{\"pid\": 12, \"threads\": [", t0 + 20);  // cut short
  write("usercrash_03.json", kJson, t0);                                // an orphan: no report
  write("usercrash_7", kText, t0);                                      // not a slot name
  write("usercrash_004", kText, t0);
  write("notes.txt", "x", t0);

  auto reports = list_reports(dirfd());
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].name, "usercrash_02");
  EXPECT_EQ(reports[1].name, "usercrash_01");
  EXPECT_EQ(reports[2].name, "usercrash_00");

  const ReportSummary& json = reports[2];
  EXPECT_EQ(json.slot, 0u);
  EXPECT_EQ(json.pid, 31337);
  EXPECT_EQ(json.uid, 0);
  EXPECT_EQ(json.signal, 11);
  EXPECT_EQ(json.signal_name, "SIGSEGV");
  EXPECT_EQ(json.comm, "crasher");
  EXPECT_EQ(json.exe, "/usr/bin/crasher");
  EXPECT_EQ(json.time, "2025-06-07T08:09:10Z");
  EXPECT_TRUE(json.has_json);
  EXPECT_TRUE(json.has_core);
  EXPECT_FALSE(json.problem);
  EXPECT_GT(json.disk_bytes, 5000u);

  for (const ReportSummary* text : {&reports[0], &reports[1]}) {
    EXPECT_EQ(text->pid, 4242) << text->name;
    EXPECT_EQ(text->uid, 1000);
    EXPECT_EQ(text->signal, 6);
    EXPECT_EQ(text->signal_name, "SIGABRT");
    EXPECT_EQ(text->comm, "worker");
    EXPECT_EQ(text->exe, "/opt/app/bin/worker");
    EXPECT_EQ(text->time, "2025-01-02T03:04:05Z");
    EXPECT_FALSE(text->has_core);
    ASSERT_TRUE(text->problem);
  }
  EXPECT_EQ(*reports[1].problem, "no JSON");
  EXPECT_TRUE(reports[0].problem->starts_with("broken JSON")) << *reports[0].problem;

  auto newest = newest_with_pid(reports, 4242);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->name, "usercrash_02");
  EXPECT_FALSE(newest_with_pid(reports, 5));

  auto usage = directory_usage(dir_.get());
  EXPECT_EQ(usage.reports, 3u);
  EXPECT_GT(usage.bytes, 5000u);
}

// The index reads what the renderers write, not a copy of their format:
// a report rendered both ways gives the same summary from its text and from
// its JSON.
TEST_F(ReportIndex, ReadsBackWhatTheRenderersWrite) {
  const engine::Report report = test::sample_report();
  const time_t t0 = 1'700'000'000;
  write("usercrash_00", report::render_text(report), t0);
  write("usercrash_00.json", report::render_json(report), t0);
  write("usercrash_01", report::render_text(report), t0 + 10);

  auto reports = list_reports(dirfd());
  ASSERT_EQ(reports.size(), 2u);
  const ReportSummary& from_text = reports[0];
  const ReportSummary& from_json = reports[1];
  EXPECT_TRUE(from_json.has_json);
  EXPECT_FALSE(from_json.problem) << *from_json.problem;
  EXPECT_EQ(from_json.pid, 4242);
  EXPECT_EQ(from_json.uid, 1000);
  EXPECT_EQ(from_json.signal, SIGSEGV);
  EXPECT_EQ(from_json.signal_name, "SIGSEGV");
  EXPECT_EQ(from_json.exe, "/opt/demo/bin/demo");
  ASSERT_TRUE(from_json.time);
  EXPECT_TRUE(from_json.time->starts_with("2026-")) << *from_json.time;
  EXPECT_EQ(from_text.pid, from_json.pid);
  EXPECT_EQ(from_text.uid, from_json.uid);
  EXPECT_EQ(from_text.signal, from_json.signal);
  EXPECT_EQ(from_text.signal_name, from_json.signal_name);
  EXPECT_EQ(from_text.exe, from_json.exe);
  EXPECT_EQ(from_text.time, from_json.time);
  EXPECT_EQ(from_json.id, report.id);
  EXPECT_EQ(from_text.id, report.id);
}

// Issue 12.7: the id is taken only in its UUID form, from the JSON or the text.
TEST(ReportSummaryId, OnlyAWellFormedIdIsTaken) {
  ReportSummary good;
  ASSERT_TRUE(summary_from_json(R"({"id": "0F1E2D3C-4B5A-4978-8796-A5B4C3D2E1F0", "pid": 1})", good));
  EXPECT_EQ(good.id, "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0");
  for (const char* id : {"usercrash_01", "7", "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0 and more"}) {
    ReportSummary bad;
    ASSERT_TRUE(summary_from_json(std::string(R"({"id": ")") + id + R"("})", bad)) << id;
    EXPECT_FALSE(bad.id) << id;
  }
  ReportSummary text;
  summary_from_text("pid: 5, tgid: 5, comm: x\nid: 0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0\n", text);
  EXPECT_EQ(text.id, "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0");
}

TEST_F(ReportIndex, TextWithoutHeaderGivesEmptyFields) {
  ReportSummary s;
  summary_from_text("garbage\nmore garbage\n", s);
  EXPECT_FALSE(s.pid);
  EXPECT_FALSE(s.exe);
  ReportSummary j;
  EXPECT_FALSE(summary_from_json("[1, 2]", j));
  EXPECT_TRUE(j.problem);
  EXPECT_FALSE(summary_from_json("", j));
}

TEST_F(ReportIndex, CleanRemovesOldSlotsWithTheirCompanions) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const time_t day = 86400;
  write("usercrash_00", kText, now.tv_sec - 10 * day);
  write("usercrash_00.json", kJson, now.tv_sec - 10 * day);
  write("usercrash_00.core.zst", "z", now.tv_sec - 10 * day);
  write("usercrash_01", kText, now.tv_sec - 1 * day);
  write("usercrash_01.json", kJson, now.tv_sec - 1 * day);
  write("usercrash_05.json", kJson, now.tv_sec - 9 * day);  // orphan, old
  write("usercrash_06.json", kJson, now.tv_sec);            // orphan, new (being published?)
  write(".lock", "", now.tv_sec - 30 * day);

  auto result = clean_reports(dirfd(), std::chrono::hours(24 * 7), now);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->reports, 1u);
  EXPECT_EQ(result->removed, (std::vector<std::string>{"usercrash_00", "usercrash_00.json", "usercrash_00.core.zst",
                                                       "usercrash_05.json"}));
  EXPECT_TRUE(fs::exists(root_ + "/usercrash_01"));
  EXPECT_TRUE(fs::exists(root_ + "/usercrash_01.json"));
  EXPECT_TRUE(fs::exists(root_ + "/usercrash_06.json"));
  EXPECT_TRUE(fs::exists(root_ + "/.lock"));

  auto all = clean_reports(dir_.get(), std::nullopt, now);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->reports, 1u);
  EXPECT_TRUE(list_reports(dir_.get()).empty());
  EXPECT_FALSE(fs::exists(root_ + "/usercrash_06.json"));
  EXPECT_TRUE(fs::exists(root_ + "/.lock"));
}

TEST_F(ReportIndex, DirectoryOthersCanWriteIsRefused) {
  ::chmod(root_.c_str(), 0777);
  auto fd = open_report_directory(root_);
  ASSERT_FALSE(fd);
  EXPECT_NE(fd.error().message.find("writable by group or others"), std::string::npos);
}

}  // namespace
}  // namespace usercrash::store
