// Faults of our own parts and of the machine: a server or client killed
// mid-dump, a hung client, a full disk, a crash storm.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/fake_client.h"
#include "e2e/harness.h"
#include "util/file_io.h"

namespace usercrash::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

class Faults : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

std::vector<std::string> directory_entries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(Faults, AServerKilledMidDumpLeavesNoHalfReportAndRestartsCleanly) {
  TempDir dir;
  ServerProcess server(dir);
  {
    FakeClient c(server.socket());
    ASSERT_TRUE(c.request());
    auto fds = c.await_fds();
    ASSERT_EQ(fds.size(), 2u);
    ASSERT_TRUE(util::write_all(fds[0].get(), "half a report"));
    server.kill_hard();
  }
  // Unnamed files vanish with their last fd: nothing looks like a report.
  EXPECT_TRUE(list_reports(server.directory()).empty());
  for (const auto& name : directory_entries(server.directory())) EXPECT_EQ(name, ".lock");
  server.start();
  ASSERT_TRUE(server.running()) << server.log();
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["pid"], crash.pid);
}

TEST_F(Faults, AClientThatDiesMidDumpLeavesAPartialReportThatSaysSo) {
  TempDir dir;
  ServerProcess server(dir);
  {
    FakeClient c(server.socket());
    ASSERT_TRUE(c.request(777, 6, "dying"));
    auto fds = c.await_fds();
    ASSERT_EQ(fds.size(), 2u);
    ASSERT_TRUE(util::write_all(fds[0].get(), "*** *** ***\npid: 777, tgid: 777, comm: dying\n"));
    ASSERT_TRUE(util::write_all(fds[1].get(), "{\"pid\": 777, \"threa"));
    // dies here: no completion
  }
  ASSERT_TRUE(wait_for_report_count(server.directory(), 1, 5s)) << server.log();
  std::string text = read_file(server.directory() + "/usercrash_00");
  EXPECT_TRUE(text.starts_with("*** *** ***\npid: 777"));
  EXPECT_NE(text.find("*** report incomplete: client went away"), std::string::npos) << text;
  EXPECT_FALSE(exists(server.directory() + "/usercrash_00.json")) << "a JSON cut in half is not published";
  EXPECT_TRUE(server.running());
}

TEST_F(Faults, AHungClientFreesItsSlotAfterTheTimeoutAndTheQueueMovesOn) {
  TempDir dir;
  ServerProcess server(dir, {"completion_timeout=500ms", "max_concurrent=1"});
  FakeClient hung(server.socket());
  ASSERT_TRUE(hung.request(1001));
  auto hung_fds = hung.await_fds();
  ASSERT_EQ(hung_fds.size(), 2u);
  ASSERT_TRUE(util::write_all(hung_fds[0].get(), "started, then stuck\n"));
  FakeClient next(server.socket());
  ASSERT_TRUE(next.request(1002));
  auto start = std::chrono::steady_clock::now();
  auto fds = next.await_fds(5000);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(fds.size(), 2u) << "the queued client got its slot once the hung one timed out";
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 3s);
  ASSERT_TRUE(util::write_all(fds[0].get(), "pid: 1002\n"));
  ASSERT_TRUE(util::write_all(fds[1].get(), "{\"pid\": 1002}\n"));
  ASSERT_TRUE(next.complete());
  auto slot = next.await_published();
  ASSERT_TRUE(slot);
  EXPECT_EQ(*slot, "usercrash_01");
  std::string hung_text = read_file(server.directory() + "/usercrash_00");
  EXPECT_NE(hung_text.find("did not complete within 500 ms"), std::string::npos) << hung_text;
  EXPECT_TRUE(hung.closed_by_server(1000));
}

TEST_F(Faults, AFullDiskCutsTheReportWithANoteAndLaterCrashesAreRecorded) {
  TempDir dir;
  ServerProcess server(dir, {}, /*start=*/false);
  std::string crashes = server.directory();
  ASSERT_EQ(::mkdir(crashes.c_str(), 0750), 0);
  ASSERT_EQ(::mount("none", crashes.c_str(), "tmpfs", 0, "size=1m,mode=0750"), 0) << std::strerror(errno);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{crashes};
  // Leave about 12 KiB free: less than a report.
  std::string filler = crashes + "/filler";
  {
    util::UniqueFd fd(::open(filler.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    std::string block(4096, 'x');
    while (util::write_all(fd.get(), block)) {
    }
    EXPECT_EQ(::ftruncate(fd.get(), ::lseek(fd.get(), 0, SEEK_CUR) - 12 * 1024), 0);
  }
  server.start();
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult first = run_crasher(crasher("crasher"), {"null"});
  ASSERT_TRUE(wait_for_report_count(crashes, 1, 20s)) << server.log();
  std::string text = read_file(crashes + "/usercrash_00");
  EXPECT_FALSE(text.empty());
  bool noted = text.find("no room for the report") != std::string::npos ||
               text.find("writing the report failed") != std::string::npos ||
               text.find("report cut") != std::string::npos || text.find("report incomplete") != std::string::npos;
  EXPECT_TRUE(noted) << text.substr(text.size() > 600 ? text.size() - 600 : 0);
  EXPECT_TRUE(server.running());
  // Space returns: the next crash is whole.
  ::unlink(filler.c_str());
  CrashResult second = run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(crashes, "usercrash_01");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["pid"], second.pid);
  EXPECT_FALSE((*r)["threads"][0]["frames"].empty());
}

// 200 processes crash at once.
class Storm : public Faults, public ::testing::WithParamInterface<int> {};

TEST_P(Storm, EveryCrashOfAStormIsRecordedWithBoundedServerResources) {
  const int concurrency = GetParam();
  constexpr int kCrashes = 200;
  TempDir dir;
  // Every crash of the storm is the same bug: keep_per_signature=0 keeps each.
  ServerProcess server(
      dir, {"count=250", "max_queue=256", "keep_per_signature=0", "max_concurrent=" + std::to_string(concurrency)});
  size_t fds_before = fd_count(server.pid());
  std::string fds_before_list = fd_list(server.pid());
  CorePatternGuard guard(client_pattern(server.config()), 0);
  ::setenv("CRASHER_PARKED", "0", 1);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> crashers;
  std::atomic<int> crashed{0};
  for (int i = 0; i < kCrashes; ++i)
    crashers.emplace_back([&] {
      if (WIFSIGNALED(run_crasher(crasher("crasher"), {"null"}).status)) ++crashed;
    });
  long peak_rss = 0;
  size_t peak_fds = 0;
  bool drained = false;
  while (std::chrono::steady_clock::now() - start < 120s) {
    peak_rss = std::max(peak_rss, rss_kib(server.pid()));
    peak_fds = std::max(peak_fds, fd_count(server.pid()));
    if (list_reports(server.directory()).size() >= static_cast<size_t>(kCrashes)) {
      drained = true;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  auto drain = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  for (auto& t : crashers) t.join();
  ::unsetenv("CRASHER_PARKED");
  EXPECT_EQ(crashed.load(), kCrashes);
  EXPECT_TRUE(drained) << list_reports(server.directory()).size() << " reports\n" << server.log();
  std::cout << "[ storm    ] max_concurrent " << concurrency << ": " << kCrashes << " crashes drained in "
            << drain.count() << " ms; server peak RSS " << peak_rss << " KiB, peak fds " << peak_fds << "\n";
  if (!programs_sanitized()) {
    EXPECT_LT(peak_rss, 64 * 1024) << server.log();
  }
  EXPECT_LT(peak_fds, fds_before + 3 * kCrashes + 8) << fds_before << " fds before the storm";
  // The last clients are finishing (on a loaded machine, with the sanitizer
  // pass beside this one, that can take seconds): then nothing may remain.
  eventually([&] { return !clients_running(server.config()) && fd_count(server.pid()) <= fds_before; }, 30s);
  EXPECT_LE(fd_count(server.pid()), fds_before) << "every connection closed after the storm; before it:\n"
                                                << fds_before_list << "after it:\n"
                                                << fd_list(server.pid()) << server.log();
  EXPECT_FALSE(clients_running(server.config())) << "no client left behind\n" << server.log();
  for (const auto& slot : list_reports(server.directory()))
    EXPECT_TRUE(exists(server.directory() + "/" + slot + ".json")) << slot;
}

INSTANTIATE_TEST_SUITE_P(Concurrency, Storm, ::testing::Values(1, 4));

TEST_F(Faults, PastTheRateLimitCrashesAreCountedAndLoggedAsDropped) {
  TempDir dir;
  // One program's crashes: keep_per_signature=0 gives each a slot of its own
  // until its group is past rate_limit.
  ServerProcess server(dir, {"count=100", "max_queue=256", "rate_limit=20", "keep_per_signature=0"});
  CorePatternGuard guard(client_pattern(server.config()), 0);
  ::setenv("CRASHER_PARKED", "0", 1);
  std::vector<std::thread> crashers;
  for (int i = 0; i < 60; ++i) crashers.emplace_back([&] { run_crasher(crasher("crasher"), {"null"}); });
  for (auto& t : crashers) t.join();
  ::unsetenv("CRASHER_PARKED");
  // Every crasher is dead; their clients may still be writing. Wait for the
  // twenty the limit lets through and for every client to be gone, then
  // no more than twenty may be there.
  EXPECT_TRUE(wait_for_report_count(server.directory(), 20, 60s)) << server.log();
  EXPECT_TRUE(eventually([&] { return !clients_running(server.config()); }, 60s));
  EXPECT_EQ(list_reports(server.directory()).size(), 20u);
  int status = server.stop();
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::string log = server.log();
  EXPECT_NE(log.find("dropped (rate limit) 40"), std::string::npos) << log;
  EXPECT_NE(log.find("rate_limit"), std::string::npos);
}

}  // namespace
}  // namespace usercrash::test

namespace usercrash::test {
namespace {

TEST_F(Faults, SigtermWithADumpInFlightWaitsForItThenStopsCleanly) {
  TempDir dir;
  ServerProcess server(dir);
  FakeClient busy(server.socket());
  ASSERT_TRUE(busy.request(31337));
  auto fds = busy.await_fds();
  ASSERT_EQ(fds.size(), 2u);
  ASSERT_TRUE(util::write_all(fds[0].get(), "pid: 31337\n"));
  ASSERT_TRUE(util::write_all(fds[1].get(), "{\"pid\": 31337}\n"));
  FakeClient queued(server.socket());
  ASSERT_TRUE(queued.request(31338));
  std::this_thread::sleep_for(100ms);
  ::kill(server.pid(), SIGTERM);
  EXPECT_TRUE(eventually([&] { return !exists(server.socket()); }, 5s)) << "no new clients once stopping";
  EXPECT_TRUE(queued.await_fds(2000).empty()) << "the queued client is told to write on its own";
  ASSERT_TRUE(busy.complete());
  auto slot = busy.await_published();
  ASSERT_TRUE(slot) << "the dump in flight still completes";
  int status = server.stop();
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(exists(server.directory() + "/" + *slot + ".json"));
}

}  // namespace
}  // namespace usercrash::test
