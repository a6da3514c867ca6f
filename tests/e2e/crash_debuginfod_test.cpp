// debuginfod in the crash path (issue 11.5, crash_debuginfod): a stripped
// crasher's crash through the real core_pattern path gets file:line from a
// real debuginfod on 127.0.0.1, then from the cache with the server gone;
// a down or silent server costs at most crash_debuginfod_timeout and the
// report says why, and a silent one is not asked again by the next crash;
// with the key off, no request is made. The server counts each crash's
// failure in its metrics and says the reason once.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e/debuginfod_server.h"
#include "e2e/harness.h"
#include "e2e/journald.h"
#include "util/unique_fd.h"

namespace usercrash::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

class CrashDebuginfod : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

// The crashing thread's frames of `module` (all when empty): function, file, line.
std::vector<std::string> frame_symbols(const json& report, const std::string& module = "") {
  std::vector<std::string> out;
  for (const auto& f : report["threads"][0]["frames"])
    if (module.empty() || f["module"] == module)
      out.push_back(fmt::format("{} {} {}", f["function"].dump(), f["file"].dump(), f["line"].dump()));
  return out;
}

std::vector<std::string> problems(const json& report) {
  std::vector<std::string> out;
  for (const auto& p : report["problems"]) out.push_back(p.get<std::string>());
  return out;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& l : lines)
    if (l.find(needle) != std::string::npos) return true;
  return false;
}

// How many times `text` holds `needle`.
size_t times_said(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Whether the metrics file comes to hold `line` (it is written at most once
// a second after a change).
bool metrics_show(const std::string& path, const std::string& line) {
  return eventually([&] { return read_file(path).find("\n" + line + "\n") != std::string::npos; }, 10s);
}

constexpr const char* kDebuginfodFailures = "usercrash_sink_failures_total{sink=\"debuginfod\"}";

// A TCP socket on 127.0.0.1 that listens and never answers; accept() on
// it tells whether anyone connected.
struct SilentServer {
  util::UniqueFd fd;
  std::string url;
  SilentServer() : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd.get(), 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    url = fmt::format("http://127.0.0.1:{}", ntohs(a.sin_port));
  }
  bool was_asked() const {
    util::UniqueFd peer(::accept4(fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    return peer.valid();
  }
};

TEST_F(CrashDebuginfod, AStrippedCrashGetsFileLineFromTheServerThenFromTheCache) {
  ::unsetenv("DEBUGINFOD_URLS");
  TempDir dir;
  StrippedCrasher stripped = strip_crasher(dir);
  DebuginfodServer debuginfod(dir, stripped.served_dir);
  ASSERT_TRUE(debuginfod.serves(dir, stripped.build_id)) << read_file(dir / "debuginfod.log");
  std::string cache = dir / "crash-cache";
  ServerProcess server(dir, {"count=8", "debuginfod_urls=" + debuginfod.url(), "crash_debuginfod=yes",
                             "crash_debuginfod_timeout=10s", "crash_debuginfod_cache=" + cache});
  CorePatternGuard guard(client_pattern(server.config()));
  run_crasher(crasher("crasher_opt"), {"inline"});
  auto unstripped = wait_for_report(server.directory(), "usercrash_00");
  run_crasher(stripped.exe, {"inline"});
  auto device = wait_for_report(server.directory(), "usercrash_01", 30s);
  ASSERT_TRUE(unstripped && device) << server.log();

  // The stripped build's frames: what the unstripped build's report says,
  // inlined calls included (libc's frames: no file in either).
  EXPECT_EQ(frame_symbols(*device), frame_symbols(*unstripped)) << device->dump(1);
  EXPECT_EQ(frame_symbols(*device, stripped.exe).size(), 5u);  // 2 inlined, crash_in_inline, main, _start
  EXPECT_TRUE(any_contains(frame_symbols(*device, stripped.exe), "crasher.c")) << (*device)["threads"][0].dump(1);
  ASSERT_TRUE((*device)["symbolized"].is_object()) << device->dump(1);
  const json& modules = (*device)["symbolized"]["modules"];
  ASSERT_EQ(modules.size(), 1u) << modules.dump() << " (with source_lines=own, libc is not asked)";
  EXPECT_EQ(modules[0]["build_id"], stripped.build_id);
  EXPECT_EQ(modules[0]["source"], "debuginfod");
  EXPECT_EQ(modules[0]["debug_file"].get<std::string>().rfind(cache + "/", 0), 0u) << modules[0].dump();
  EXPECT_TRUE(!any_contains(problems(*device), "crash_debuginfod")) << (*device)["problems"].dump();
  std::string text = read_file(server.directory() + "/usercrash_01");
  EXPECT_NE(text.find("[symbolized]"), std::string::npos) << text;
  // The cache is root's alone.
  struct stat st {};
  ASSERT_EQ(::stat(cache.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, 0u);

  // The server gone, the same crash is symbolized from the cache, and keeps
  // its signature.
  debuginfod.stop();
  run_crasher(stripped.exe, {"inline"});
  auto cached = wait_for_report(server.directory(), "usercrash_02", 30s);
  ASSERT_TRUE(cached) << server.log();
  EXPECT_EQ(frame_symbols(*cached), frame_symbols(*unstripped));
  EXPECT_EQ((*cached)["symbolized"]["modules"][0]["debug_file"], modules[0]["debug_file"]);
  EXPECT_EQ((*cached)["signature"], (*device)["signature"]);
}

TEST_F(CrashDebuginfod, ADownOrSilentServerCostsAtMostTheBudgetAndTheReportSaysWhy) {
  ::unsetenv("DEBUGINFOD_URLS");
  TempDir dir;
  StrippedCrasher stripped = strip_crasher(dir);
  SilentServer silent;
  std::string down = fmt::format("http://127.0.0.1:{}", free_port());
  std::string metrics = dir / "metrics/usercrash.prom";
  ASSERT_EQ(::mkdir((dir / "metrics").c_str(), 0755), 0);
  {
    // Down: nothing listens on the port; a refused connection.
    ServerProcess server(dir, {"debuginfod_urls=" + down, "crash_debuginfod=yes", "crash_debuginfod_timeout=2s",
                               "crash_debuginfod_cache=" + dir / "cache-down", "metrics_file=" + metrics});
    CorePatternGuard guard(client_pattern(server.config()));
    run_crasher(stripped.exe, {"inline"});
    auto report = wait_for_report(server.directory(), "usercrash_00", 30s);
    ASSERT_TRUE(report) << server.log();
    EXPECT_TRUE(any_contains(problems(*report), "crash_debuginfod: no debug file for build-id " + stripped.build_id +
                                                    ": debuginfod (" + down + ")"))
        << (*report)["problems"].dump();
    EXPECT_TRUE((*report)["threads"][0]["frames"][0]["file"].is_null());
    EXPECT_EQ((*report)["symbolized"]["modules"][0]["build_id"], stripped.build_id);
    // The server hears of it from the client (the kernel socket's worker
    // too): each crash counted, the reason said once.
    guard.set("@@" + (dir / "run/core.sock"));
    run_crasher(stripped.exe, {"inline"});
    auto socketed = wait_for_report(server.directory(), "usercrash_01", 30s);
    ASSERT_TRUE(socketed) << server.log();
    EXPECT_EQ((*socketed)["source"], "kernel_socket");
    EXPECT_TRUE(any_contains(problems(*socketed), "debuginfod (" + down + ")")) << (*socketed)["problems"].dump();
    EXPECT_TRUE(metrics_show(metrics, kDebuginfodFailures + std::string(" 2"))) << read_file(metrics);
    std::string log = server.log();
    EXPECT_EQ(times_said(log, "crash_debuginfod: "), 1u) << log;
    EXPECT_NE(log.find("no debug files: debuginfod (" + down + "): "), std::string::npos) << log;
  }
  // Silent: it accepts connections and never answers. The report waits for
  // it at most the budget (libdebuginfod's own default would be 90 s).
  TempDir second;  // a crash directory of its own
  std::string silent_metrics = dir / "metrics/silent.prom";
  ServerProcess server(second, {"debuginfod_urls=" + silent.url, "crash_debuginfod=yes", "crash_debuginfod_timeout=2s",
                                "crash_debuginfod_cache=" + dir / "cache-silent", "metrics_file=" + silent_metrics});
  CorePatternGuard guard(client_pattern(server.config()));
  auto start = Clock::now();
  run_crasher(stripped.exe, {"inline"});
  auto report = wait_for_report(server.directory(), "usercrash_00", 60s);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_TRUE(report) << server.log();
  EXPECT_TRUE(silent.was_asked());
  EXPECT_TRUE(any_contains(problems(*report), "gave no debug file within the 2000 ms budget"))
      << (*report)["problems"].dump();
  EXPECT_LT(seconds, 20) << "bounded by the budget, not hung";
  // The report is whole: backtraces and all, only without file:line.
  EXPECT_GE(frame_symbols(*report, stripped.exe).size(), 3u);
  EXPECT_TRUE((*report)["truncated"].empty()) << (*report)["truncated"].dump();
  // The cut-off fetch is not left in the cache as "not there".
  EXPECT_FALSE(exists(dir / ("cache-silent/" + stripped.build_id + "/debuginfo")));

  // The next crash does not wait for it again (a storm would fill the
  // queue): the server is not asked for a while, and the report says so.
  while (silent.was_asked()) {
  }
  run_crasher(stripped.exe, {"inline"});
  auto next = wait_for_report(server.directory(), "usercrash_01", 60s);
  ASSERT_TRUE(next) << server.log();
  EXPECT_FALSE(silent.was_asked());
  EXPECT_TRUE(any_contains(problems(*next), "let the timeout pass")) << (*next)["problems"].dump();
  EXPECT_TRUE(any_contains(problems(*next), "not asked for 60 s")) << (*next)["problems"].dump();
  // Both crashes counted; the timeout said once, the pause after it only
  // counted (in a storm, one line).
  EXPECT_TRUE(metrics_show(silent_metrics, kDebuginfodFailures + std::string(" 2"))) << read_file(silent_metrics);
  std::string log = server.log();
  EXPECT_EQ(times_said(log, "crash_debuginfod: "), 1u) << log;
  EXPECT_NE(log.find("gave no debug file within the 2000 ms budget"), std::string::npos) << log;
}

TEST_F(CrashDebuginfod, OffByDefaultNoRequestIsMade) {
  ::unsetenv("DEBUGINFOD_URLS");
  TempDir dir;
  StrippedCrasher stripped = strip_crasher(dir);
  SilentServer listening;
  // debuginfod_urls is for the tools; without crash_debuginfod=yes the
  // crash path never asks.
  ServerProcess server(dir, {"debuginfod_urls=" + listening.url, "crash_debuginfod_cache=" + dir / "cache"});
  CorePatternGuard guard(client_pattern(server.config()));
  run_crasher(stripped.exe, {"inline"});
  auto report = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(report) << server.log();
  EXPECT_FALSE(listening.was_asked());
  EXPECT_TRUE((*report)["symbolized"].is_null());
  EXPECT_FALSE(any_contains(problems(*report), "debuginfod"));
  EXPECT_FALSE(exists(dir / "cache"));
  EXPECT_EQ(server.log().find("crash_debuginfod: "), std::string::npos) << server.log();
}

}  // namespace
}  // namespace usercrash::test
