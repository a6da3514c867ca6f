// The crash's structured journal entry, read back from a real
// systemd-journald with journalctl, then shipped with
// systemd-journal-upload to a systemd-journal-remote on 127.0.0.1 and found
// in the remote journal file; and a stuck journald holding nothing back.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "e2e/journald.h"

namespace usercrash::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kCrashMessageId = "MESSAGE_ID=76eb54f2cee04479a033d9849ff406a2";

class Journal : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }

  // A journald, a server, and one crash reported in usercrash_00.
  void crash_once() {
    journald_ = std::make_unique<Journald>();
    ASSERT_TRUE(journald_->ready());
    server_ = std::make_unique<ServerProcess>(dir_);
    CorePatternGuard guard(client_pattern(server_->config()));
    CrashResult crash = run_crasher(crasher("crasher"), {"null"});
    auto report = wait_for_report(server_->directory(), "usercrash_00");
    ASSERT_TRUE(report) << server_->log();
    report_ = *report;
    pid_match_ = fmt::format("USERCRASH_PID={}", crash.pid);
    path_ = server_->directory() + "/usercrash_00";
  }

  std::unique_ptr<Journald> journald_;
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  json report_;
  std::string pid_match_, path_;
};

// Checks one crash entry against the report it announces.
void expect_entry_matches(const json& e, const json& report, const std::string& path) {
  EXPECT_EQ(journal_field(e, "PRIORITY"), "2");
  EXPECT_EQ(journal_field(e, "SYSLOG_IDENTIFIER"), "usercrash_s");
  EXPECT_EQ(
      journal_field(e, "MESSAGE"),
      fmt::format("Process {} (crasher) of user 0 crashed with SIGSEGV: null-pointer dereference \u2014 report {}",
                  report["pid"].get<int>(), path));
  EXPECT_EQ(journal_field(e, "USERCRASH_PID"), std::to_string(report["pid"].get<int>()));
  EXPECT_EQ(journal_field(e, "USERCRASH_UID"), "0");
  EXPECT_EQ(journal_field(e, "USERCRASH_EXE"), report["exe"]);
  EXPECT_EQ(journal_field(e, "USERCRASH_COMM"), "crasher");
  EXPECT_EQ(journal_field(e, "USERCRASH_SIGNAL"), "11");
  EXPECT_EQ(journal_field(e, "USERCRASH_SIGNATURE"), report["signature"]);
  EXPECT_EQ(journal_field(e, "USERCRASH_BUILD_ID"), report["exe_build_id"]);
  EXPECT_EQ(journal_field(e, "USERCRASH_REPORT"), path);
  std::string backtrace = journal_field(e, "USERCRASH_BACKTRACE");
  EXPECT_TRUE(backtrace.starts_with("#00 pc 0x")) << backtrace;
  EXPECT_NE(backtrace.find("(write_through+"), std::string::npos) << backtrace;
  EXPECT_NE(backtrace.find("\n#01 pc 0x"), std::string::npos) << backtrace;
}

TEST_F(Journal, OneStructuredEntryPerCrashReadBackWithJournalctl) {
  ASSERT_NO_FATAL_FAILURE(crash_once());
  auto found = Journald::entries({kCrashMessageId, pid_match_});
  ASSERT_EQ(found.size(), 1u) << server_->log();
  expect_entry_matches(found[0], report_, path_);
  // One entry per crash: a moment later there is still one.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(Journald::entries({kCrashMessageId, pid_match_}, 2, 0ms).size(), 1u);
  // The server's other lines went to the journal too, through the same sink.
  auto lines = Journald::entries({"SYSLOG_IDENTIFIER=usercrash_s", fmt::format("_PID={}", server_->pid())}, 2);
  bool listening = false;
  for (const auto& l : lines) listening = listening || journal_field(l, "MESSAGE").starts_with("listening on ");
  EXPECT_TRUE(listening);
}

TEST_F(Journal, TheEntryIsShippedToACentralJournalWithItsFields) {
  ASSERT_NO_FATAL_FAILURE(crash_once());
  ASSERT_EQ(Journald::entries({kCrashMessageId, pid_match_}).size(), 1u);

  // The fleet path: this machine's journal, uploaded over HTTP to a central one.
  int port = free_port();
  std::string remote = dir_ / "remote.journal";
  pid_t receiver = spawn_logged({"/lib/systemd/systemd-journal-remote", fmt::format("--listen-http=127.0.0.1:{}", port),
                                 "--split-mode=none", "--output=" + remote},
                                dir_ / "remote.log");
  ASSERT_TRUE(eventually([&] { return tcp_listening(port); }, 10s)) << read_file(dir_ / "remote.log");
  pid_t uploader = spawn_logged({"/lib/systemd/systemd-journal-upload", fmt::format("--url=http://127.0.0.1:{}", port)},
                                dir_ / "upload.log");
  auto shipped = Journald::entries({kCrashMessageId, pid_match_}, 1, 30s, remote);
  stop_process(uploader);
  stop_process(receiver);
  ASSERT_EQ(shipped.size(), 1u) << read_file(dir_ / "remote.log") << read_file(dir_ / "upload.log");
  expect_entry_matches(shipped[0], report_, path_);
}

TEST_F(Journal, AStuckJournaldHoldsNoReportBack) {
  Journald journald;
  ASSERT_TRUE(journald.ready());
  if (!journald.ours()) GTEST_SKIP() << "the machine's own journald is not ours to stop";
  TempDir dir;
  ServerProcess server(dir, {"count=40", "keep_per_signature=0"});
  CorePatternGuard guard(client_pattern(server.config()), 0);
  // Stopped, it reads nothing: its socket's queue fills after a few entries
  // and a blocking send would wait forever.
  journald.pause();
  ::setenv("CRASHER_PARKED", "0", 1);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 30; ++i) run_crasher(crasher("crasher"), {"null"});
  ::unsetenv("CRASHER_PARKED");
  EXPECT_TRUE(wait_for_report_count(server.directory(), 30, 60s)) << server.log();
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, 30s);
  EXPECT_TRUE(eventually([&] { return !clients_running(server.config()); }, 10s)) << "no client is held by the log";
  journald.resume();
  // Once it reads again, the entries that waited are delivered.
  EXPECT_GE(Journald::entries({kCrashMessageId, fmt::format("_PID={}", server.pid())}, 1, 20s).size(), 1u);
}

}  // namespace
}  // namespace usercrash::test
