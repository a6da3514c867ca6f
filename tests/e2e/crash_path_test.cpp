// The whole path: kernel → core_pattern → usercrash_c → usercrash_s → report.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "engine/report.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

const json* crashed_thread(const json& report) {
  for (const auto& t : report["threads"])
    if (t["crashed"].get<bool>()) return &t;
  return nullptr;
}

class CrashPath : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

TEST_F(CrashPath, SegfaultBecomesAReportThroughTheServer) {
  TempDir dir;
  ServerProcess server(dir);
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  ASSERT_TRUE(WIFSIGNALED(crash.status));
  ASSERT_EQ(WTERMSIG(crash.status), SIGSEGV);

  auto report = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(report) << server.log();
  const json& r = *report;
  EXPECT_EQ(r["version"], engine::kReportVersion);
  EXPECT_EQ(r["pid"], crash.pid);
  EXPECT_EQ(r["tid"], crash.pid);
  EXPECT_EQ(r["comm"], "crasher");
  EXPECT_EQ(r["exe"], crasher("crasher"));
  EXPECT_EQ(r["uid"], 0);
  EXPECT_EQ(r["cmdline"], json({crasher("crasher"), "null"}));
  EXPECT_EQ(r["signal"]["number"], SIGSEGV);
  EXPECT_EQ(r["signal"]["name"], "SIGSEGV");
  EXPECT_EQ(r["signal"]["code"], 1);
  EXPECT_EQ(r["signal"]["code_name"], "SEGV_MAPERR");
  EXPECT_EQ(r["signal"]["fault_address"], "0x0");
  EXPECT_EQ(r["signal"]["cause"], "null-pointer dereference");
  EXPECT_TRUE(r["abort_message"].is_null());
  EXPECT_EQ(r["source"], "core_pattern");
  EXPECT_TRUE(r["time"].get<std::string>().ends_with("Z"));

  ASSERT_EQ(r["threads"].size(), 4u);
  const json* t = crashed_thread(r);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(&r["threads"][0], t) << "the crashing thread comes first";
  EXPECT_EQ((*t)["tid"], crash.pid);
  EXPECT_TRUE(
      contains_in_order(function_names(*t), {"write_through", "null_level3", "null_level2", "null_level1", "main"}))
      << (*t)["frames"].dump(1);
  EXPECT_EQ((*t)["frames"][0]["function"], "write_through");
  EXPECT_EQ((*t)["frames"][0]["method"], "context");
  EXPECT_TRUE((*t)["frames"][0]["file"].get<std::string>().ends_with("crasher.c"));
  EXPECT_TRUE((*t)["frames"][0]["build_id"].is_string());
  EXPECT_TRUE((*t)["registers"].contains("rip"));
  EXPECT_EQ((*t)["registers"]["rip"], (*t)["frames"][0]["pc"]);

  std::vector<std::string> parked;
  for (const auto& th : r["threads"])
    if (!th["crashed"].get<bool>()) parked.push_back(th["name"]);
  std::sort(parked.begin(), parked.end());
  EXPECT_EQ(parked, (std::vector<std::string>{"parked-cond", "parked-pause", "parked-read"}));

  EXPECT_FALSE(r["maps"].empty());
  EXPECT_FALSE(r["open_files"].empty());
  EXPECT_FALSE(r["kernel_stack"].empty());
  EXPECT_FALSE(r["disassembly"].empty());

  std::string text = read_file(server.directory() + "/usercrash_00");
  EXPECT_TRUE(text.starts_with("*** *** ***"));
  EXPECT_NE(text.find("pid: " + std::to_string(crash.pid) + ", tgid: " + std::to_string(crash.pid) + ", comm: crasher"),
            std::string::npos);
  EXPECT_NE(text.find("signal: 11 (SIGSEGV), code: 1 (SEGV_MAPERR), fault addr: 0x0000000000000000"),
            std::string::npos);
  for (const char* section : {"\nRegisters:\n", "\nBackTrace:\n", "\nStack:\n", "\nMaps:\n", "\nOpen files:\n",
                              "\nThreads backtrace:\n", "\nCode around rip:\n"})
    EXPECT_NE(text.find(section), std::string::npos) << section;
  EXPECT_NE(text.find("(write_through+0x"), std::string::npos);
  EXPECT_NE(text.find("--->Fault address falls at 0x0000000000000000 before the first mapping"), std::string::npos);

  // Report files are root's alone.
  struct stat st {};
  ASSERT_EQ(::stat((server.directory() + "/usercrash_00").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(server.directory().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  EXPECT_TRUE(server.running());
}

struct SignalCase {
  const char* mode;
  std::vector<std::string> args;
  int signal;
  int code;
  const char* code_name;
  const char* function;  // must appear on the crashing thread
};

void PrintTo(const SignalCase& c, std::ostream* os) { *os << c.mode; }

class CrashSignals : public CrashPath, public ::testing::WithParamInterface<SignalCase> {};

TEST_P(CrashSignals, EachSignalIsReportedWithItsCode) {
  const SignalCase& c = GetParam();
  TempDir dir;
  ServerProcess server(dir);
  CorePatternGuard guard(client_pattern(server.config()));
  std::vector<std::string> args = {c.mode};
  args.insert(args.end(), c.args.begin(), c.args.end());
  CrashResult crash = run_crasher(crasher("crasher"), args);
  ASSERT_TRUE(WIFSIGNALED(crash.status));
  ASSERT_EQ(WTERMSIG(crash.status), c.signal);
  auto report = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(report) << server.log();
  EXPECT_EQ((*report)["signal"]["number"], c.signal);
  EXPECT_EQ((*report)["signal"]["code"], c.code);
  EXPECT_EQ((*report)["signal"]["code_name"], c.code_name);
  const json* t = crashed_thread(*report);
  ASSERT_NE(t, nullptr);
  auto names = function_names(*t);
  EXPECT_NE(std::find(names.begin(), names.end(), c.function), names.end()) << (*t)["frames"].dump(1);
}

INSTANTIATE_TEST_SUITE_P(Signals, CrashSignals,
                         ::testing::Values(SignalCase{"abort", {}, SIGABRT, -6, "SI_TKILL", "main"},
                                           SignalCase{"div-zero", {"0"}, SIGFPE, 1, "FPE_INTDIV", "divide"},
                                           SignalCase{"ud2", {}, SIGILL, 2, "ILL_ILLOPN", "trap_here"},
                                           SignalCase{
                                               "sigbus", {}, SIGBUS, 2, "BUS_ADRERR", "touch_truncated_mapping"}),
                         [](const auto& param_info) {
                           std::string name = param_info.param.mode;
                           std::erase(name, '-');
                           return name;
                         });

TEST_F(CrashPath, KillFromOutsideNamesTheSender) {
  TempDir dir;
  ServerProcess server(dir);
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash = run_crasher(crasher("crasher"), {"wait-signal"}, [](pid_t pid, int) { ::kill(pid, SIGSEGV); });
  ASSERT_TRUE(WIFSIGNALED(crash.status));
  auto report = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(report) << server.log();
  EXPECT_EQ((*report)["signal"]["number"], SIGSEGV);
  EXPECT_EQ((*report)["signal"]["code_name"], "SI_USER");
  EXPECT_TRUE((*report)["signal"]["fault_address"].is_null());
  EXPECT_EQ((*report)["signal"]["sender_pid"], ::getpid());
  EXPECT_EQ((*report)["signal"]["sender_uid"], 0);
}

TEST_F(CrashPath, RingWrapsAtCountReplacingTheOldest) {
  TempDir dir;
  ServerProcess server(dir, {"count=3"});
  CorePatternGuard guard(client_pattern(server.config()));
  std::vector<pid_t> pids;
  auto pid_in = [&](const std::string& slot) {
    auto j = wait_for_report(server.directory(), slot);
    return j ? (*j)["pid"].get<pid_t>() : -1;
  };
  for (int i = 0; i < 5; ++i) {
    pid_t pid = run_crasher(crasher("crasher"), {"null"}).pid;
    pids.push_back(pid);
    // Each report must be complete before the next crash so mtimes order them.
    ASSERT_TRUE(eventually([&] {
      for (const auto& slot : list_reports(server.directory()))
        if (pid_in(slot) == pid) return true;
      return false;
    })) << "crash "
        << i << "\n"
        << server.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // distinct mtimes
  }
  EXPECT_EQ(list_reports(server.directory()),
            (std::vector<std::string>{"usercrash_00", "usercrash_01", "usercrash_02"}));
  // Crashes 1-3 filled 00-02; crash 4 replaced 00 (oldest), crash 5 replaced 01.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pid_in("usercrash_01") != pids[4] && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(pid_in("usercrash_00"), pids[3]);
  EXPECT_EQ(pid_in("usercrash_01"), pids[4]);
  EXPECT_EQ(pid_in("usercrash_02"), pids[2]);
}

TEST_F(CrashPath, RestartedServerPicksUpWhereTheDirectoryLeftOff) {
  TempDir dir;
  auto server = std::make_unique<ServerProcess>(dir, std::vector<std::string>{"count=4"});
  CorePatternGuard guard(client_pattern(server->config()));
  run_crasher(crasher("crasher"), {"null"});
  run_crasher(crasher("crasher"), {"null"});
  ASSERT_TRUE(wait_for_report_count(server->directory(), 2));
  EXPECT_EQ(server->stop(), 0);
  EXPECT_FALSE(exists(server->socket())) << "the socket is removed on SIGTERM";
  server->start();
  CrashResult third = run_crasher(crasher("crasher"), {"null"});
  auto report = wait_for_report(server->directory(), "usercrash_02");
  ASSERT_TRUE(report) << server->log();
  EXPECT_EQ((*report)["pid"], third.pid);
}

TEST_F(CrashPath, ClientWritesTheReportItselfWhenTheServerIsDown) {
  TempDir dir;
  ServerProcess server(dir, {}, /*start=*/false);
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  auto report = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["pid"], crash.pid);
  EXPECT_EQ((*report)["signal"]["number"], SIGSEGV);
  struct stat st {};
  ASSERT_EQ(::stat(server.directory().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(CrashPath, ServerStopsCleanlyOnSigterm) {
  TempDir dir;
  ServerProcess server(dir);
  ASSERT_TRUE(exists(server.socket()));
  int status = server.stop();
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(exists(server.socket()));
}

// Not through the kernel: the client run by hand on a live process with no
// core on stdin still reports what /proc holds, and says the core is missing.
TEST_F(CrashPath, ClientWithoutACoreStreamStillReportsProcFacts) {
  TempDir dir;
  ServerProcess server(dir);
  Sleeper sleeping;
  pid_t sleeper = sleeping.pid();
  RunResult r = run({program("usercrash_c"), "--config", server.config(), std::to_string(sleeper), "sleep", "11"}, "");
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.output;
  // Handed to the warm collector, the crash is collected after
  // usercrash_c exits: the process must live until then.
  auto report = wait_for_report(server.directory(), "usercrash_00");
  sleeping.stop();
  ASSERT_TRUE(report) << server.log();
  EXPECT_EQ((*report)["pid"], sleeper);
  EXPECT_EQ((*report)["comm"], "sleep");
  EXPECT_FALSE((*report)["maps"].empty());
  bool said = false;
  for (const auto& p : (*report)["problems"]) said = said || p.get<std::string>().find("core") != std::string::npos;
  EXPECT_TRUE(said) << (*report)["problems"].dump();
}

TEST(ClientUsage, WrongArgumentsGiveUsageAndExit2) {
  for (auto args : std::vector<std::vector<std::string>>{
           {},
           {"abc", "comm", "11"},
           {"123", "comm"},
           {"123", "comm", "99"},
           {"--pidfd", "x", "1", "c", "11"},
           {"--bogus", "1", "c", "11"},
       }) {
    std::vector<std::string> argv = {program("usercrash_c")};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run(argv);
    EXPECT_TRUE(WIFEXITED(r.status));
    EXPECT_EQ(WEXITSTATUS(r.status), 2) << r.output;
    EXPECT_NE(r.output.find("usercrash_c:"), std::string::npos) << r.output;
  }
}

// What the kernel starts for every crash maps only what every crash needs:
// capstone is dlopen()ed for the collector's disassembly (before its
// sandbox, EngineSandbox.* check the disassembly on every path) and the log
// speaks journald's protocol without libsystemd (Journal.*). Each cost
// about 2 and 1.2 ms of start-up (bench/crash_profile.py).
TEST(ClientUsage, StartsWithoutMappingCapstoneOrLibsystemd) {
  // The dynamic loader's own listing (what ldd prints): main never runs.
  RunResult r = run({"/usr/bin/env", "LD_TRACE_LOADED_OBJECTS=1", program("usercrash_c")});
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.output;
  EXPECT_NE(r.output.find("libdw.so"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("libcapstone"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("libsystemd"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace usercrash::test
