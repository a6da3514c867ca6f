// The warm collector failing: killed, stopped, or crashing in one of its
// processes. Each costs at most the crash it was collecting: usercrash_c
// collects the crash itself, and the server starts another collector.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using namespace std::chrono_literals;

class WarmCollectorFault : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

TEST_F(WarmCollectorFault, KilledCollectorIsRestartedAndNoCrashIsLost) {
  TempDir dir;
  ServerProcess server(dir);
  pid_t warm = server.warm_collector_pid();
  ASSERT_GT(warm, 0);
  std::vector<pid_t> spares = children_of(warm);
  ASSERT_EQ(spares.size(), 1u) << "one spare waits for the next crash";
  CorePatternGuard guard(client_pattern(server.config()));
  ASSERT_EQ(::kill(warm, SIGKILL), 0);
  // At once: the collector is gone (its spare goes when the server closes
  // the channel), and usercrash_c collects by itself.
  CrashResult first = run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["pid"], first.pid);
  EXPECT_FALSE((*r)["threads"][0]["frames"].empty());
  EXPECT_TRUE(server.log_shows("warm collector " + std::to_string(warm) + " ended (Killed)")) << server.log();
  EXPECT_TRUE(eventually([&] { return ::kill(spares[0], 0) != 0; })) << "the old spare went with the channel";
  // Then another collector, warm again, takes the next crash.
  ASSERT_TRUE(eventually([&] { return server.warm_collector_pid() > 0 && server.warm_collector_pid() != warm; }, 15s))
      << server.log();
  CrashResult second = run_crasher(crasher("crasher"), {"null"});
  r = wait_for_report(server.directory(), "usercrash_01");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["pid"], second.pid);
  EXPECT_TRUE(server.running());
}

TEST_F(WarmCollectorFault, StoppedCollectorCostsASecondThenUsercrashCCollects) {
  TempDir dir;
  ServerProcess server(dir);
  pid_t warm = server.warm_collector_pid();
  ASSERT_GT(warm, 0);
  std::vector<pid_t> spares = children_of(warm);
  ASSERT_EQ(spares.size(), 1u);
  CorePatternGuard guard(client_pattern(server.config()));
  // Hung: neither the collector nor its spare runs.
  ::kill(spares[0], SIGSTOP);
  ::kill(warm, SIGSTOP);
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["pid"], crash.pid);
  EXPECT_FALSE((*r)["threads"][0]["frames"].empty());
  EXPECT_TRUE((*r)["problems"].empty()) << (*r)["problems"].dump();
  // Woken, the spare finds the hand-off it was passed long given up: it
  // reads nothing of it, and no second report appears.
  ::kill(warm, SIGCONT);
  ::kill(spares[0], SIGCONT);
  EXPECT_TRUE(server.log_shows("gave up the crash of pid " + std::to_string(crash.pid))) << server.log();
  EXPECT_TRUE(eventually([&] { return !clients_running(server.config()); }));
  EXPECT_EQ(list_reports(server.directory()).size(), 1u) << server.log();
  // And it serves the next crash as before.
  CrashResult next = run_crasher(crasher("crasher"), {"null"});
  r = wait_for_report(server.directory(), "usercrash_01");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["pid"], next.pid);
}

TEST_F(WarmCollectorFault, ServerStopTakesTheCollectorAlong) {
  TempDir dir;
  ServerProcess server(dir);
  pid_t warm = server.warm_collector_pid();
  ASSERT_GT(warm, 0);
  std::vector<pid_t> spares = children_of(warm);
  ASSERT_EQ(spares.size(), 1u);
  EXPECT_EQ(server.stop(), 0);
  EXPECT_TRUE(eventually([&] { return ::kill(warm, 0) != 0 && ::kill(spares[0], 0) != 0; }, 10s))
      << "no collector or spare outlives the server";
}

}  // namespace
}  // namespace usercrash::test
