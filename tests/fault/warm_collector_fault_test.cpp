// The warm collector failing: killed, stopped, or crashing in one of its
// processes. Each costs at most the crash it was collecting: usercrash_c
// collects the crash itself, and the server starts another collector.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using namespace std::chrono_literals;

// A server with its warm collector ready, and the collector's one spare.
class WarmCollectorFault : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    server_ = std::make_unique<ServerProcess>(dir_);
    warm_ = server_->warm_collector_pid();
    ASSERT_GT(warm_, 0);
    std::vector<pid_t> spares = children_of(warm_);
    ASSERT_EQ(spares.size(), 1u) << "one spare waits for the next crash";
    spare_ = spares[0];
  }

  // A crash through core_pattern, reported in `slot` with its backtrace.
  void expect_crash_reported(const std::string& slot) {
    CrashResult crash = run_crasher(crasher("crasher"), {"null"});
    auto r = wait_for_report(server_->directory(), slot);
    ASSERT_TRUE(r) << server_->log();
    EXPECT_EQ((*r)["pid"], crash.pid);
    EXPECT_FALSE((*r)["threads"][0]["frames"].empty());
    EXPECT_TRUE((*r)["problems"].empty()) << (*r)["problems"].dump();
    last_pid_ = crash.pid;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  pid_t warm_ = -1, spare_ = -1, last_pid_ = -1;
};

TEST_F(WarmCollectorFault, KilledCollectorIsRestartedAndNoCrashIsLost) {
  CorePatternGuard guard(client_pattern(server_->config()));
  ASSERT_EQ(::kill(warm_, SIGKILL), 0);
  // At once: the collector is gone (its spare goes when the server closes
  // the channel), and usercrash_c collects by itself.
  expect_crash_reported("usercrash_00");
  EXPECT_TRUE(server_->log_shows("warm collector " + std::to_string(warm_) + " ended (Killed)")) << server_->log();
  EXPECT_TRUE(eventually([&] { return ::kill(spare_, 0) != 0; })) << "the old spare went with the channel";
  // Then another collector, warm again, takes the next crash.
  ASSERT_TRUE(
      eventually([&] { return server_->warm_collector_pid() > 0 && server_->warm_collector_pid() != warm_; }, 15s))
      << server_->log();
  expect_crash_reported("usercrash_01");
  EXPECT_TRUE(server_->running());
}

TEST_F(WarmCollectorFault, StoppedCollectorCostsASecondThenUsercrashCCollects) {
  CorePatternGuard guard(client_pattern(server_->config()));
  // Hung: neither the collector nor its spare runs.
  ::kill(spare_, SIGSTOP);
  ::kill(warm_, SIGSTOP);
  expect_crash_reported("usercrash_00");
  // Woken, the spare finds the hand-off it was passed long given up: it
  // reads nothing of it, and no second report appears.
  ::kill(warm_, SIGCONT);
  ::kill(spare_, SIGCONT);
  EXPECT_TRUE(server_->log_shows("gave up the crash of pid " + std::to_string(last_pid_))) << server_->log();
  EXPECT_TRUE(eventually([&] { return !clients_running(server_->config()); }));
  EXPECT_EQ(list_reports(server_->directory()).size(), 1u) << server_->log();
  // And it serves the next crash as before.
  expect_crash_reported("usercrash_01");
}

TEST_F(WarmCollectorFault, ServerStopTakesTheCollectorAlong) {
  EXPECT_EQ(server_->stop(), 0);
  EXPECT_TRUE(eventually([&] { return ::kill(warm_, 0) != 0 && ::kill(spare_, 0) != 0; }, 10s))
      << "no collector or spare outlives the server";
}

}  // namespace
}  // namespace usercrash::test
