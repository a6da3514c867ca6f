// The server dies while crashes are in flight: no crash may be lost. A
// client that holds the server's files publishes them itself; one queued or
// connecting falls back to writing on its own; the kernel-socket workers
// the server started do the same.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ServerDeath : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

// usercrash_c processes of this configuration: clients run by the kernel
// and workers the server started for its kernel socket.
int clients_of(const std::string& config) {
  // Not the warm collector ("usercrash_c --warm-collector 3 -c ..."), which
  // lives as long as the server; its processes for crashes show the
  // crash's command line (client/process_title.h) and are counted.
  RunResult r = run({"pgrep", "-c", "-f", "usercrash_c (-[^-]|--[^w]).*" + config});
  return std::atoi(r.output.c_str());
}

// Every report in `directory`: the pid it is about, by slot; fails the test
// on a report that is not whole (no JSON, JSON that does not parse, a text
// cut short).
std::map<std::string, pid_t> whole_reports(const std::string& directory) {
  std::map<std::string, pid_t> pids;
  for (const auto& slot : list_reports(directory)) {
    std::string text = read_file(directory + "/" + slot);
    EXPECT_EQ(text.find("report incomplete"), std::string::npos) << slot;
    EXPECT_NE(text.find("\nOpen files:\n"), std::string::npos) << slot << " is cut short";
    json doc = json::parse(read_file(directory + "/" + slot + ".json"), nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << slot << ".json is not whole JSON";
    if (!doc.is_discarded()) pids[slot] = doc["pid"].get<pid_t>();
  }
  return pids;
}

// Each crash in exactly one report.
void expect_each_once(const std::vector<pid_t>& crashed, const std::map<std::string, pid_t>& reports) {
  std::multiset<pid_t> reported;
  for (const auto& [slot, pid] : reports) reported.insert(pid);
  size_t lost = 0;
  for (pid_t pid : crashed) {
    if (!reported.contains(pid)) ++lost;
    EXPECT_LE(reported.count(pid), 1u) << "pid " << pid << " reported twice";
  }
  EXPECT_EQ(lost, 0u) << "crashes without a report";
}

TEST_F(ServerDeath, AMixedStormLosesNoCrashWhenTheServerIsKilledFourTimes) {
  constexpr int kCrashes = 120;
  constexpr int kKills = 4;
  const std::vector<std::vector<std::string>> kinds = {
      {"null"}, {"abort"}, {"threads", "12"}, {"div-zero", "0"}, {"assert"}, {"stack-overflow"}, {"libc"}};
  TempDir dir;
  // Seven crash sites crash 17 times each: keep_per_signature=0 gives every
  // crash a slot of its own, so that each can be found (by default a crash
  // group keeps its first 3 reports and its newest, and counts the rest).
  ServerProcess server(dir, {"count=250", "max_queue=256", "max_concurrent=4", "keep_per_signature=0"});
  CorePatternGuard guard(client_pattern(server.config()), 0);
  std::vector<pid_t> crashed(kCrashes, -1);
  std::atomic<int> started{0};
  std::vector<std::thread> crashers;
  for (int i = 0; i < kCrashes; ++i)
    crashers.emplace_back([&, i] {
      ++started;
      crashed[i] = run_crasher(crasher("crasher"), kinds[i % kinds.size()]).pid;
    });
  // Kill it four times while the storm is under way: each time once a few
  // more reports are out, so that dumps are in flight, clients are queued
  // and others are still connecting.
  for (int kill = 1; kill <= kKills; ++kill) {
    eventually([&] { return list_reports(server.directory()).size() >= static_cast<size_t>(kill * 8); }, 60s);
    server.kill_hard();
    std::this_thread::sleep_for(30ms);
    server.start();
    ASSERT_TRUE(server.running()) << server.log();
  }
  for (auto& t : crashers) t.join();
  EXPECT_TRUE(eventually([&] { return clients_of(server.config()) == 0; }, 120s)) << "no helper left running";
  auto reports = whole_reports(server.directory());
  std::cout << "[ storm    ] " << kCrashes << " crashes, " << kKills << " server kills: " << reports.size()
            << " reports\n";
  EXPECT_EQ(reports.size(), static_cast<size_t>(kCrashes));
  expect_each_once(crashed, reports);
  EXPECT_EQ(clients_of(server.config()), 0);
}

TEST_F(ServerDeath, KernelSocketWorkersPublishTheirReportsWhenTheServerDiesUnderThem) {
  constexpr int kCrashes = 6;
  TempDir dir;
  // One dump at a time: when the server dies, one worker is dumping and the
  // others wait in its queue.
  // Six crashes of one site, each to be found: keep_per_signature=0 (the
  // default keeps a group's first 3 and its newest).
  ServerProcess server(dir, {"count=50", "max_concurrent=1", "keep_per_signature=0"});
  ASSERT_TRUE(wait_for_file(dir / "run/core.sock")) << server.log();
  CorePatternGuard guard("@@" + (dir / "run/core.sock"), 0);
  std::vector<pid_t> crashed(kCrashes, -1);
  std::vector<std::thread> crashers;
  // Crashes whose /proc maps take a few hundred milliseconds to read (3,000
  // mappings under long names), so that the six workers are all there, one
  // dumping and five queued, when the server dies; a quick crash is done
  // before the last one arrives.
  ::setenv("CRASHER_WORKDIR", dir.path().c_str(), 1);
  for (int i = 0; i < kCrashes; ++i)
    crashers.emplace_back([&, i] { crashed[i] = run_crasher(crasher("crasher"), {"hostile-maps", "3000"}).pid; });
  // Every crash has its worker (the kernel keeps each process until its
  // worker is done): then the server goes.
  bool all_started = eventually([&] { return clients_of(server.config()) >= kCrashes; }, 60s);
  int seen = clients_of(server.config());
  server.kill_hard();
  // The crashers end with their workers, whatever this test finds: join
  // them before an assertion can leave the test (a joinable std::thread
  // would abort the whole binary).
  for (auto& t : crashers) t.join();
  ::unsetenv("CRASHER_WORKDIR");
  ASSERT_TRUE(all_started) << "workers seen: " << seen << "\n" << server.log();
  EXPECT_TRUE(eventually([&] { return clients_of(server.config()) == 0; }, 60s)) << "no worker left running";
  auto reports = whole_reports(server.directory());
  EXPECT_EQ(reports.size(), static_cast<size_t>(kCrashes));
  expect_each_once(crashed, reports);
  // Those the server could not publish say who did.
  size_t by_client = 0;
  for (const auto& [slot, pid] : reports) {
    json doc = json::parse(read_file(server.directory() + "/" + slot + ".json"));
    for (const auto& p : doc["problems"])
      by_client += p.get<std::string>().find("usercrash_c published this report itself") != std::string::npos ||
                   p.get<std::string>().find("usercrash_c wrote this report itself") != std::string::npos;
  }
  EXPECT_GE(by_client, 1u) << "the workers the server left behind published their own reports";
}

}  // namespace
}  // namespace usercrash::test
