// The isolated job (collect/job.h): the report built in a child, written
// with the late facts the caller learns, and a report that says why when the
// child crashes, runs out of time or runs out of memory.
#include "collect/job.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "unit/fake_target.h"
#include "util/file_io.h"

// The sanitizer build: these tests make the collector child crash and run
// out of memory on purpose, and judge how it ended. AddressSanitizer would
// catch the signal and the failed allocation itself and exit its own way, so
// in this binary it leaves both to the program, as the product sees them.
#if defined(__SANITIZE_ADDRESS__)
extern "C" const char* __asan_default_options() { return "handle_segv=0:allocator_may_return_null=1"; }
#endif

namespace usercrash::collect {
namespace {

using Clock = std::chrono::steady_clock;
using engine::Reg;
using nlohmann::json;

// What a target does in the job's child (never in the test's own process).
enum class InChild { behave, crash, hang, hog_memory, use_memory };

class ChildTarget : public test::FakeTarget {
 public:
  explicit ChildTarget(InChild mode) : mode_(mode), parent_(::getpid()) {
    facts_mut().pid = 4242;
    facts_mut().comm = "fake";
    map(0x400000, 0x1000, "r-xp");
    add_thread(4242).set(Reg::rip, 0x400010);
    set_signal({SIGSEGV, 0, SEGV_MAPERR, 0x10, 0, 0});
  }
  size_t read_memory(uint64_t address, std::span<std::byte> out) override {
    if (::getpid() != parent_) misbehave();
    return FakeTarget::read_memory(address, out);
  }

 private:
  void misbehave() {
    switch (mode_) {
      case InChild::behave: return;
      // The sandbox's filter refuses to send signals and to sleep: a trap
      // and a spin, as a parser gone wrong would do.
      case InChild::crash: __builtin_trap();
      case InChild::hang:
        for (volatile bool forever = true; forever;) {
        }
        return;
      case InChild::hog_memory: {
        hog_ = new char[512ULL << 20];
        std::memset(hog_, 1, 512ULL << 20);
        return;
      }
      case InChild::use_memory: {  // within a 256 MiB budget, past 64 MiB
        hog_ = new char[192ULL << 20];
        std::memset(hog_, 1, 192ULL << 20);
        return;
      }
    }
  }
  InChild mode_;
  pid_t parent_;
  char* volatile hog_ = nullptr;
};

struct Files {
  util::UniqueFd text{::memfd_create("text", MFD_CLOEXEC)};
  util::UniqueFd json{::memfd_create("json", MFD_CLOEXEC)};
  ReportFiles get() const { return {text.get(), json.get()}; }
  static std::string read(int fd) {
    ::lseek(fd, 0, SEEK_SET);
    return util::read_all(fd, 1 << 24).value_or("");
  }
  std::string read_text() const { return read(text.get()); }
  nlohmann::json read_json() const { return json::parse(read(json.get())); }
};

engine::CollectOptions options() {
  engine::CollectOptions o;
  o.source_lines = limits::SourceLines::none;
  o.deadline = Clock::now() + std::chrono::seconds(10);
  return o;
}

// The sandbox the collection step enters (the defaults of sandbox_options).
Sandbox sandbox() { return Sandbox::prepare({}); }

bool has_problem(const json& report, const std::string& needle) {
  for (const auto& p : report["problems"])
    if (p.get<std::string>().find(needle) != std::string::npos) return true;
  return false;
}

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
