// A crash storm: 50 processes that crash within the same few milliseconds.
//
// usercrashctl enable sets kernel.core_pipe_limit to 0 (see
// tools/core_pattern.h and usercrashctl(1)). These tests show why:
//  - under 0, the kernel runs a helper for every crash and each one becomes
//    a report (the server queues them, max_concurrent at a time);
//  - under a small N, the kernel skips every crash that comes while N
//    helpers are still running: no helper, no report, only a kernel log line.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kStorm = 50;

struct Storm {
  std::vector<pid_t> pids;
  std::vector<int> statuses;
  std::chrono::milliseconds release_to_last_death{0};
};

// Starts `n` crashers that wait on stdin, waits until each is ready, then
// releases them all at once and reaps them.
Storm crash_together(int n) {
  struct Child {
    pid_t pid;
    int in, out;
  };
  std::vector<Child> children;
  for (int i = 0; i < n; ++i) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      std::string exe = crasher("crasher");
      ::execl(exe.c_str(), exe.c_str(), "wait-stdin", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    children.push_back({pid, in[1], out[0]});
  }
  for (auto& c : children) {
    char ch;
    while (::read(c.out, &ch, 1) == 1 && ch != '\n') {
    }
  }
  Storm storm;
  auto released = Clock::now();
  for (auto& c : children) (void)!::write(c.in, "x", 1);
  for (auto& c : children) {
    int status = 0;
    ::waitpid(c.pid, &status, 0);
    storm.pids.push_back(c.pid);
    storm.statuses.push_back(status);
    ::close(c.in);
    ::close(c.out);
  }
  storm.release_to_last_death = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - released);
  return storm;
}

std::set<pid_t> report_pids(const std::string& dir) {
  std::set<pid_t> pids;
  for (const auto& name : list_reports(dir))
    if (auto j = wait_for_report(dir, name, std::chrono::seconds(5))) pids.insert((*j)["pid"].get<pid_t>());
  return pids;
}

// Waits until the number of reports stops changing for `quiet`.
size_t settled_report_count(const std::string& dir, std::chrono::seconds quiet, std::chrono::seconds limit) {
  auto deadline = Clock::now() + limit;
  size_t count = list_reports(dir).size();
  auto last_change = Clock::now();
  while (Clock::now() < deadline && Clock::now() - last_change < quiet) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    size_t now = list_reports(dir).size();
    if (now != count) {
      count = now;
      last_change = Clock::now();
    }
  }
  return count;
}

class Storms : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

TEST_F(Storms, UnderTheChosenPipeLimitEveryCrashOfAStormGetsAReport) {
  TempDir dir;
  // Defaults but for the ring, large enough to keep every report, and no
  // grouping: every crash of the storm is the same bug.
  ServerProcess server(dir, {"count=100", "keep_per_signature=0", "state_directory=" + dir / "state"});
  CorePatternGuard guard("core", 7);
  RunResult on = run({program("usercrashctl"), "--config", server.config(), "enable"});
  ASSERT_EQ(WEXITSTATUS(on.status), 0) << on.output;
  ASSERT_EQ(read_file("/proc/sys/kernel/core_pipe_limit"), "0\n") << "enable chooses 0";

  auto started = Clock::now();
  Storm storm = crash_together(kStorm);
  for (int status : storm.statuses) {
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  }
  ASSERT_TRUE(wait_for_report_count(server.directory(), kStorm, std::chrono::seconds(180)))
      << list_reports(server.directory()).size() << " reports\n"
      << server.log();
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::set<pid_t> expected(storm.pids.begin(), storm.pids.end());
  EXPECT_EQ(report_pids(server.directory()), expected);
  EXPECT_EQ(server.log().find("dropped"), std::string::npos) << server.log();
  RecordProperty("storm_ms", static_cast<int>(elapsed.count()));
  RecordProperty("release_to_last_death_ms", static_cast<int>(storm.release_to_last_death.count()));

  RunResult off = run({program("usercrashctl"), "--config", server.config(), "disable"});
  EXPECT_EQ(WEXITSTATUS(off.status), 0) << off.output;
  EXPECT_EQ(read_file("/proc/sys/kernel/core_pattern"), "core\n");
  EXPECT_EQ(read_file("/proc/sys/kernel/core_pipe_limit"), "7\n");
}

TEST_F(Storms, UnderASmallPipeLimitTheKernelSkipsMostOfAStorm) {
  // The reasoning behind choosing 0: the same storm with core_pipe_limit 4.
  // Each helper lives for milliseconds (collecting, queued behind the
  // others at the server), while all 50 crashes arrive within a few: the
  // kernel skips every crash that finds 4 helpers running.
  TempDir dir;
  ServerProcess server(dir, {"count=100", "keep_per_signature=0"});
  CorePatternGuard guard(client_pattern(server.config()), 4);
  Storm storm = crash_together(kStorm);
  for (int status : storm.statuses) ASSERT_TRUE(WIFSIGNALED(status));
  size_t reports = settled_report_count(server.directory(), std::chrono::seconds(3), std::chrono::seconds(120));
  RecordProperty("reports_of_50", static_cast<int>(reports));
  EXPECT_GE(reports, 1u) << server.log();
  EXPECT_LT(reports, static_cast<size_t>(kStorm)) << "crashes past the limit were expected to be skipped";
  std::set<pid_t> crashed(storm.pids.begin(), storm.pids.end());
  for (pid_t pid : report_pids(server.directory())) EXPECT_TRUE(crashed.contains(pid)) << pid;
}

}  // namespace
}  // namespace usercrash::test
