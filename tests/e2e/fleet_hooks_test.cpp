// The fleet's other outlets, with real components: the on_report hook run
// after each report, and the metrics file scraped by a real
// prometheus-node-exporter on 127.0.0.1. Either absent, slow or failing
// holds no report back.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "e2e/journald.h"

namespace usercrash::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Outlets : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

// A hook that records its arguments, its environment and whether the
// report was complete when it ran, beside itself. (A site's hook may well
// be a script; the server still never runs a shell of its own.)
std::string write_hook(const TempDir& dir, const std::string& body = "") {
  std::string path = dir / "hook";
  write_file(path,
             "#!/bin/sh\n"
             "out=\"$(dirname \"$0\")/hook.$4\"\n"
             "{ printf 'arg:%s\\n' \"$@\"; env | sort; test -s \"$1\" && echo report-complete; } > \"$out.tmp\"\n"
             "mv \"$out.tmp\" \"$out\"\n" +
                 body,
             0755);
  return path;
}

TEST_F(Outlets, TheHookRunsAfterEachReportWithItsPathsSignatureAndPid) {
  TempDir dir;
  std::string hook = write_hook(dir);
  ServerProcess server(dir, {"on_report=" + hook});
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  auto report = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(report) << server.log();
  std::string signature = (*report)["signature"];
  std::string out = dir / ("hook." + signature);
  ASSERT_TRUE(wait_for_file(out, 10s)) << server.log();
  std::string text = read_file(out);
  std::string slot = server.directory() + "/usercrash_00";
  EXPECT_NE(text.find("arg:" + slot + "\narg:" + slot + ".json\narg:usercrash_00\narg:" + signature +
                      fmt::format("\narg:{}\n", crash.pid)),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("USERCRASH_REPORT=" + slot + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("USERCRASH_SIGNATURE=" + signature + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("USERCRASH_PID={}\n", crash.pid)), std::string::npos) << text;
  EXPECT_NE(text.find("USERCRASH_SIGNAL=SIGSEGV\n"), std::string::npos) << text;
  EXPECT_NE(text.find("PATH=/sbin:/bin:/usr/sbin:/usr/bin\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("CRASHER_"), std::string::npos) << "a fixed environment: nothing of the server's";
  EXPECT_NE(text.find("report-complete"), std::string::npos) << "it runs after the report is published";
  EXPECT_TRUE(server.log_shows("on_report: usercrash_00: exit status 0"));
}

TEST_F(Outlets, ASlowFailingOrMissingHookHoldsNoReportBack) {
  for (const char* kind : {"slow", "failing", "missing"}) {
    SCOPED_TRACE(kind);
    TempDir dir;
    std::string hook = std::string(kind) == "slow"      ? write_hook(dir, "sleep 60\n")
                       : std::string(kind) == "failing" ? write_hook(dir, "exit 3\n")
                                                        : dir / "no-such-hook";
    ServerProcess server(dir, {"on_report=" + hook, "on_report_timeout=1s", "keep_per_signature=0"});
    CorePatternGuard guard(client_pattern(server.config()), 0);
    ::setenv("CRASHER_PARKED", "0", 1);
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 6; ++i) run_crasher(crasher("crasher"), {"null"});
    ::unsetenv("CRASHER_PARKED");
    EXPECT_TRUE(wait_for_report_count(server.directory(), 6, 30s)) << server.log();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
    std::string expected = std::string(kind) == "slow"      ? "killed after the timeout of 1000 ms"
                           : std::string(kind) == "failing" ? "exit status 3"
                                                            : "not passed on:";
    EXPECT_TRUE(server.log_shows(expected, 15s)) << server.log();
    if (std::string(kind) == "missing") {
      std::string log = server.log();
      size_t said = 0;
      for (size_t at = log.find("not passed on:"); at != std::string::npos; at = log.find("not passed on:", at + 1))
        ++said;
      EXPECT_EQ(said, 1u) << "the same failure is said once, then counted\n" << log;
    }
  }
}

// GET http://127.0.0.1:PORT/PATH, the body.
std::string http_get(int port, const std::string& path) {
  RunResult r = run({"curl", "-sf", "--max-time", "10", fmt::format("http://127.0.0.1:{}{}", port, path)});
  return r.output;
}

TEST_F(Outlets, NodeExporterServesTheMetricsAfterCrashes) {
  TempDir dir;
  std::string textfiles = dir / "textfile";
  ASSERT_EQ(::mkdir(textfiles.c_str(), 0755), 0);
  ServerProcess server(dir, {"metrics_file=" + textfiles + "/usercrash.prom"});
  int port = free_port();
  pid_t exporter = ::fork();
  if (exporter == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl("/usr/bin/prometheus-node-exporter", "prometheus-node-exporter",
            fmt::format("--web.listen-address=127.0.0.1:{}", port).c_str(), "--collector.disable-defaults",
            "--collector.textfile", ("--collector.textfile.directory=" + textfiles).c_str(), nullptr);
    ::_exit(127);
  }
  struct Stop {
    pid_t pid;
    ~Stop() {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  } stop{exporter};
  ASSERT_TRUE(eventually([&] { return tcp_listening(port); }, 10s));
  {
    CorePatternGuard guard(client_pattern(server.config()));
    run_crasher(crasher("crasher"), {"null"});
    ASSERT_TRUE(wait_for_report(server.directory(), "usercrash_00")) << server.log();
    run_crasher(crasher("crasher"), {"abort"});
    ASSERT_TRUE(wait_for_report(server.directory(), "usercrash_01")) << server.log();
  }
  std::string scraped;
  bool seen = eventually(
      [&] {
        scraped = http_get(port, "/metrics");
        return scraped.find("usercrash_reports_total{slot=\"new\"} 2\n") != std::string::npos;
      },
      15s);
  EXPECT_TRUE(seen) << scraped;
  EXPECT_NE(scraped.find("usercrash_crashes_by_signal_total{signal=\"SIGSEGV\"} 1\n"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find("usercrash_crashes_by_signal_total{signal=\"SIGABRT\"} 1\n"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find("usercrash_collection_seconds_count 2\n"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find("usercrash_queue_depth 0\n"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find("usercrash_server_starts_total 1\n"), std::string::npos) << scraped;
  // node_exporter sorts the labels: exe, then signature.
  EXPECT_NE(scraped.find(",signature=\""), std::string::npos) << scraped;
  EXPECT_NE(scraped.find("usercrash_signature_crashes_total{exe=\"" + crasher("crasher")), std::string::npos)
      << scraped;
  EXPECT_NE(scraped.find("node_textfile_scrape_error 0\n"), std::string::npos) << scraped;
  // A restart counts.
  server.stop();
  server.start();
  EXPECT_TRUE(eventually(
      [&] { return http_get(port, "/metrics").find("usercrash_server_starts_total 2\n") != std::string::npos; }, 15s));
}

TEST_F(Outlets, AMissingMetricsDirectoryIsSaidOnceAndCostsNoReport) {
  TempDir dir;
  ServerProcess server(dir, {"metrics_file=" + dir / "absent/usercrash.prom", "keep_per_signature=0"});
  CorePatternGuard guard(client_pattern(server.config()));
  for (int i = 0; i < 3; ++i) {
    run_crasher(crasher("crasher"), {"null"});
    ASSERT_TRUE(wait_for_report_count(server.directory(), static_cast<size_t>(i + 1))) << server.log();
    std::this_thread::sleep_for(1100ms);  // a write is due after each
  }
  std::string log = server.log();
  size_t said = 0;
  for (size_t at = log.find("metrics: cannot write"); at != std::string::npos;
       at = log.find("metrics: cannot write", at + 1))
    ++said;
  EXPECT_EQ(said, 1u) << log;
  // Once the directory is there, the file follows, with the failures counted.
  ASSERT_EQ(::mkdir((dir / "absent").c_str(), 0755), 0);
  run_crasher(crasher("crasher"), {"abort"});
  ASSERT_TRUE(wait_for_file(dir / "absent/usercrash.prom", 10s)) << server.log();
  EXPECT_TRUE(eventually([&] {
    std::string m = read_file(dir / "absent/usercrash.prom");
    return m.find("usercrash_sink_failures_total{sink=\"metrics_file\"} 0\n") == std::string::npos &&
           m.find("usercrash_sink_failures_total{sink=\"metrics_file\"} ") != std::string::npos;
  }));
}

}  // namespace
}  // namespace usercrash::test
