// The warm collector on the real crash path: usercrash_c hands the crash
// over (pipe mode), and the report is the same as usercrash_c's own.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

// A counter's value in the server's metrics file; -1 while it is not there.
long long metric(const std::string& file, const std::string& line_start) {
  std::string text = "\n" + read_file(file);
  size_t at = text.find("\n" + line_start + " ");
  if (at == std::string::npos) return -1;
  return std::atoll(text.c_str() + at + line_start.size() + 2);
}

constexpr const char* kPassed = "usercrash_warm_collector_crashes_total{outcome=\"passed\"}";
constexpr const char* kRefused = "usercrash_warm_collector_crashes_total{outcome=\"refused\"}";

class WarmCollector : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

// Frames, memory, disassembly: the report a crash gets through the warm
// collector is whole, and the collector itself lives on, untouched.
void expect_whole_null_report(const json& r, pid_t pid) {
  EXPECT_EQ(r["pid"], pid);
  EXPECT_EQ(r["signal"]["name"], "SIGSEGV");
  EXPECT_EQ(r["signal"]["cause"], "null-pointer dereference");
  ASSERT_FALSE(r["threads"].empty());
  EXPECT_TRUE(contains_in_order(function_names(r["threads"][0]), {"write_through", "null_level1", "main"}))
      << r["threads"][0]["frames"].dump(1);
  EXPECT_FALSE(r["disassembly"].empty()) << "the disassembler is loaded in the warm collector";
  EXPECT_FALSE(r["memory_near_registers"].empty());
  EXPECT_TRUE(r["problems"].empty()) << r["problems"].dump();
}

TEST_F(WarmCollector, PipeModeCrashIsHandedOverAndCollectedInFull) {
  TempDir dir;
  ServerProcess server(dir, {"metrics_file=" + dir / "usercrash.prom"});
  pid_t warm = server.warm_collector_pid();
  ASSERT_GT(warm, 0) << server.log();
  CorePatternGuard guard(client_pattern(server.config()));
  for (int i = 0; i < 3; ++i) {
    CrashResult crash = run_crasher(crasher("crasher"), {"null"});
    ASSERT_TRUE(WIFSIGNALED(crash.status));
    std::string slot = "usercrash_0" + std::to_string(i);
    auto r = wait_for_report(server.directory(), slot);
    ASSERT_TRUE(r) << server.log();
    expect_whole_null_report(*r, crash.pid);
    EXPECT_EQ((*r)["source"], "core_pattern");
  }
  EXPECT_TRUE(eventually([&] { return metric(dir / "usercrash.prom", kPassed) == 3; }))
      << read_file(dir / "usercrash.prom");
  EXPECT_EQ(metric(dir / "usercrash.prom", kRefused), 0);
  EXPECT_EQ(metric(dir / "usercrash.prom", "usercrash_warm_collector_ready"), 1);
  EXPECT_EQ(server.warm_collector_pid(), warm) << "the same warm collector served every crash";
  EXPECT_EQ(::kill(warm, 0), 0);
  EXPECT_TRUE(eventually([&] { return !clients_running(server.config()); }))
      << "the collector's process for each crash ended with it";
}

TEST_F(WarmCollector, KernelSocketCrashesStillGetTheirWorker) {
  // Not handed to the warm collector (yet): a kernel connection left
  // waiting in a hung collector's queue would hold the kernel's write.
  TempDir dir;
  ServerProcess server(dir, {"metrics_file=" + dir / "usercrash.prom"});
  CorePatternGuard guard("@@" + (dir / "run/core.sock"));
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  ASSERT_TRUE(WIFSIGNALED(crash.status));
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  expect_whole_null_report(*r, crash.pid);
  EXPECT_EQ((*r)["source"], "kernel_socket");
  EXPECT_TRUE(server.log_shows("worker ")) << server.log();
}

TEST_F(WarmCollector, OffMeansUsercrashCCollectsItself) {
  TempDir dir;
  ServerProcess server(dir, {"warm_collector=no", "metrics_file=" + dir / "usercrash.prom"});
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  expect_whole_null_report(*r, crash.pid);
  EXPECT_TRUE(eventually([&] { return metric(dir / "usercrash.prom", kPassed) == 0; }));
  EXPECT_EQ(server.log().find("warm collector"), std::string::npos) << server.log();
}

}  // namespace
}  // namespace usercrash::test
