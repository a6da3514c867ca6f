// The isolated job's memory budget (collect/job.h): a child past it ends
// and the report says so, and the budget is the child's only memory limit.
// Never built with the sanitizers (tests/CMakeLists.txt): a sanitizer
// build's runtime reserves gigabytes of address space that RLIMIT_DATA
// refuses, so there the job leaves the budget out (collect/job.cpp).
#include <gtest/gtest.h>

#include "unit/job_child_target.h"

namespace usercrash::collect {
namespace {

using namespace job_test;

TEST(Job, AChildPastTheMemoryBudgetEndsAndTheReportSaysSo) {
  ChildTarget target(InChild::hog_memory);
  Files files;
  Job job(target, options(), {}, files.get(), Budget{Clock::now() + std::chrono::seconds(10), 256ULL << 20}, sandbox());
  job.await_collected();
  JobResult written = job.write();
  EXPECT_FALSE(written.complete);
  EXPECT_TRUE(has_problem(files.read_json(), "memory budget")) << written.note;
}

// The budget is the child's one memory limit: the sandbox it enters sets
// none of its own (it used to cap the address space at 64 MiB more than
// the child inherited, whatever the budget said).
TEST(Job, TheMemoryBudgetIsTheChildsOnlyMemoryLimit) {
  ChildTarget target(InChild::use_memory);
  Files files;
  Job job(target, options(), {}, files.get(), Budget{Clock::now() + std::chrono::seconds(10), 256ULL << 20}, sandbox());
  job.await_collected();
  JobResult written = job.write();
  EXPECT_TRUE(written.complete) << written.note;
  EXPECT_TRUE(files.read_json()["problems"].empty()) << files.read_json()["problems"].dump();
}

}  // namespace
}  // namespace usercrash::collect
