// The isolated job (collect/job.h): the report built in a child, written
// with the late facts the caller learns, and a report that says why when the
// child crashes or runs out of time. (Its memory budget:
// job_budget_test.cpp.)
#include "collect/job.h"

#include <gtest/gtest.h>

#include "unit/job_child_target.h"

// The sanitizer build: these tests make the collector child crash and run
// out of memory on purpose, and judge how it ended. AddressSanitizer would
// catch the signal and the failed allocation itself and exit its own way, so
// in this binary it leaves both to the program, as the product sees them.
#if defined(USERCRASH_SANITIZED)
extern "C" const char* __asan_default_options() { return "handle_segv=0:allocator_may_return_null=1"; }
#endif

namespace usercrash::collect {
namespace {

using namespace job_test;

TEST(Job, WritesTheReportWithTheLateFactsAndAgainWithMore) {
  ChildTarget target(InChild::behave);
  Files files;
  Job job(target, options(), {}, files.get(), Budget{Clock::now() + std::chrono::seconds(10)}, sandbox());
  job.await_collected();
  LateFacts late;
  late.core = engine::CoreOutcome{true, 8192, 100, true, ""};
  late.problems.push_back("first late fact");
  JobResult written = job.write(late);
  ASSERT_TRUE(written.complete) << written.note;
  json report = files.read_json();
  EXPECT_EQ(written.json_bytes, files.read(files.json.get()).size());
  EXPECT_EQ(report["pid"], 4242);
  EXPECT_TRUE(report["core"]["saved"].get<bool>());
  EXPECT_EQ(report["core"]["bytes"], 8192);
  EXPECT_TRUE(report["core"]["truncated"].get<bool>());
  EXPECT_TRUE(has_problem(report, "first late fact"));
  EXPECT_NE(files.read_text().find("Core: saved beside this report"), std::string::npos);

  late.problems.push_back("second late fact");
  ASSERT_TRUE(job.write(late).complete);
  report = files.read_json();
  EXPECT_TRUE(has_problem(report, "first late fact"));
  EXPECT_TRUE(has_problem(report, "second late fact"));
  std::string text = files.read_text();
  EXPECT_EQ(text.find("first late fact"), text.rfind("first late fact")) << "each late fact said once";
}

TEST(Job, AChildThatCrashesLeavesAReportWithoutBacktracesThatSaysWhy) {
  ChildTarget target(InChild::crash);
  Files files;
  Job job(target, options(), {}, files.get(), Budget{Clock::now() + std::chrono::seconds(10)}, sandbox());
  job.await_collected();
  LateFacts late;
  late.core = engine::CoreOutcome{false, 0, 0, false, "disk full"};
  JobResult written = job.write(late);
  EXPECT_FALSE(written.complete);
  EXPECT_NE(written.note.find("the collector crashed"), std::string::npos) << written.note;
  json report = files.read_json();
  EXPECT_EQ(report["pid"], 4242);
  EXPECT_TRUE(has_problem(report, "the collector crashed")) << report["problems"].dump();
  EXPECT_FALSE(report["core"]["saved"].get<bool>());
  EXPECT_EQ(report["core"]["error"], "disk full");
  EXPECT_NE(files.read_text().find("Core: not saved: disk full"), std::string::npos);
}

TEST(Job, AChildPastTheTimeBudgetIsKilledAndTheReportSaysSo) {
  ChildTarget target(InChild::hang);
  Files files;
  auto start = Clock::now();
  Job job(target, options(), {}, files.get(), Budget{start + std::chrono::milliseconds(300)}, sandbox());
  job.await_collected();
  JobResult written = job.write();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(written.complete);
  EXPECT_TRUE(has_problem(files.read_json(), "the time budget ran out while collecting"));
}

TEST(Job, OnlyTheFilesAskedForAreWritten) {
  ChildTarget target(InChild::behave);
  util::UniqueFd json_only(::memfd_create("json", MFD_CLOEXEC));
  Job job(target, options(), {}, ReportFiles{-1, json_only.get()}, Budget{}, sandbox());
  job.await_collected();
  JobResult written = job.write();
  ASSERT_TRUE(written.complete);
  EXPECT_EQ(written.text_bytes, 0u);
  EXPECT_GT(written.json_bytes, 0u);
  EXPECT_EQ(json::parse(Files::read(json_only.get()))["core"], nullptr);
}

}  // namespace
}  // namespace usercrash::collect
