// The collection engine on real crashes, checked against gdb on the saved
// core of the same crash: signal, code, address, crashing thread, and the
// function names of every thread's frames, in order.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e/gdb_oracle.h"
#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

struct Scenario {
  std::string name;
  std::string exe;  // crasher binary name
  std::vector<std::string> args;
  int signal;
  std::string code_name;
  std::string cause;                // substring of signal.cause ("" = any)
  std::string crashed_function;     // a function on the crashing thread
  std::string crashed_thread = "";  // its name ("" = the program's name)
  bool parked = true;
};

void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

const json& first_thread(const json& r) { return r["threads"][0]; }

class EngineAgainstGdb : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }

  // Crashes the scenario with save_core on; returns the report.
  json crash(const Scenario& s, ServerProcess& server, CrashResult& result,
             const std::function<void(pid_t, int)>& before = {}, const std::string& exe_override = "") {
    CorePatternGuard guard(client_pattern(server.config()));
    std::string exe = exe_override.empty() ? crasher(s.exe.c_str()) : exe_override;
    if (!s.parked) ::setenv("CRASHER_PARKED", "0", 1);
    result = run_crasher(exe, s.args, before);
    ::unsetenv("CRASHER_PARKED");
    EXPECT_TRUE(WIFSIGNALED(result.status)) << result.output;
    auto report = wait_for_report(server.directory(), "usercrash_00", std::chrono::seconds(60));
    EXPECT_TRUE(report) << server.log();
    return report ? *report : json();
  }

  void check_against_gdb(const json& report, const ServerProcess& server, const std::string& exe,
                         size_t max_groups = 1000) {
    TempDir scratch;
    std::string core = unpack_saved_core(server.directory(), "usercrash_00", scratch.path());
    ASSERT_FALSE(core.empty()) << "no saved core";
    auto gdb = gdb_backtraces(exe, core, 256);
    ASSERT_FALSE(gdb.empty()) << "gdb printed no threads";
    std::string diff = compare_with_gdb(report, gdb, max_groups);
    EXPECT_EQ(diff, "") << "frames differ from gdb's";
  }
};

TEST_P(EngineAgainstGdb, SignalThreadsAndFramesMatchGdb) {
  const Scenario& s = GetParam();
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  CrashResult result;
  json r = crash(s, server, result);
  ASSERT_FALSE(r.is_null());
  ASSERT_EQ(WTERMSIG(result.status), s.signal);
  EXPECT_EQ(r["pid"], result.pid);
  EXPECT_EQ(r["signal"]["number"], s.signal);
  EXPECT_EQ(r["signal"]["code_name"], s.code_name);
  if (!s.cause.empty()) {
    ASSERT_TRUE(r["signal"]["cause"].is_string()) << r["signal"].dump();
    EXPECT_NE(r["signal"]["cause"].get<std::string>().find(s.cause), std::string::npos) << r["signal"].dump();
  }
  const json& t = first_thread(r);
  EXPECT_TRUE(t["crashed"].get<bool>());
  EXPECT_EQ(t["name"], s.crashed_thread.empty() ? s.exe.substr(0, 15) : s.crashed_thread);
  if (!s.crashed_function.empty()) {
    EXPECT_TRUE(has_function(t, s.crashed_function)) << t["frames"].dump(1);
  }
  EXPECT_EQ(r["threads"].size(), s.parked ? 4u + (s.name == "assert_in_worker") : 1u);
  check_against_gdb(r, server, crasher(s.exe.c_str()));
}

INSTANTIATE_TEST_SUITE_P(
    Crashers, EngineAgainstGdb,
    ::testing::Values(
        Scenario{"null_deref_deep", "crasher", {"null"}, SIGSEGV, "SEGV_MAPERR", "null-pointer", "null_level1"},
        Scenario{"assert_in_worker",
                 "crasher",
                 {"assert"},
                 SIGABRT,
                 "SI_TKILL",
                 "assertion",
                 "assert_worker_main",
                 "asserter"},
        Scenario{"division_by_zero", "crasher", {"div-zero", "0"}, SIGFPE, "FPE_INTDIV", "division by zero", "divide"},
        Scenario{"ud2", "crasher", {"ud2"}, SIGILL, "ILL_ILLOPN", "ud2", "trap_here"},
        Scenario{"sigbus_truncated_mapping",
                 "crasher",
                 {"sigbus"},
                 SIGBUS,
                 "BUS_ADRERR",
                 "beyond the end",
                 "touch_truncated_mapping"},
        Scenario{"inside_libc", "crasher", {"libc"}, SIGSEGV, "SEGV_MAPERR", "null-pointer", "length_of"},
        Scenario{"null_function_pointer",
                 "crasher",
                 {"null-call"},
                 SIGSEGV,
                 "SEGV_MAPERR",
                 "null function pointer",
                 "call_null_function"},
        Scenario{"exec_non_executable",
                 "crasher",
                 {"exec-stack"},
                 SIGSEGV,
                 "SEGV_ACCERR",
                 "non-executable",
                 "jump_to_stack"},
        Scenario{"stripped_pie", "crasher_stripped", {"null"}, SIGSEGV, "SEGV_MAPERR", "null-pointer", ""},
        Scenario{"non_pie", "crasher_nopie", {"null"}, SIGSEGV, "SEGV_MAPERR", "null-pointer", "null_level1"},
        Scenario{"optimized_with_inlines",
                 "crasher_opt",
                 {"inline"},
                 SIGSEGV,
                 "SEGV_MAPERR",
                 "null-pointer",
                 "crash_in_inline"},
        Scenario{
            "single_thread", "crasher", {"null"}, SIGSEGV, "SEGV_MAPERR", "null-pointer", "write_through", "", false}),
    [](const auto& param_info) { return param_info.param.name; });

TEST_F(EngineAgainstGdb, InlinedCallsAreFramesOfTheirOwn) {
  TempDir dir;
  ServerProcess server(dir);
  CrashResult result;
  json r = crash({"inline", "crasher_opt", {"inline"}, SIGSEGV, "", "", ""}, server, result);
  ASSERT_FALSE(r.is_null());
  const json& frames = first_thread(r)["frames"];
  ASSERT_GE(frames.size(), 3u);
  EXPECT_EQ(frames[0]["function"], "store_inlined");
  EXPECT_EQ(frames[0]["method"], "inlined");
  EXPECT_EQ(frames[1]["function"], "call_inlined");
  EXPECT_EQ(frames[1]["method"], "inlined");
  EXPECT_EQ(frames[2]["function"], "crash_in_inline");
  EXPECT_EQ(frames[0]["pc"], frames[2]["pc"]);
  EXPECT_TRUE(frames[0]["line"].is_number());
  EXPECT_TRUE(frames[2]["line"].is_number());
}

TEST_F(EngineAgainstGdb, StackOverflowIsNamedAndCutAtTheFrameLimit) {
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  CrashResult result;
  json r = crash({"overflow", "crasher", {"stack-overflow"}, SIGSEGV, "", "", ""}, server, result);
  ASSERT_FALSE(r.is_null());
  EXPECT_NE(r["signal"]["cause"].get<std::string>().find("stack overflow"), std::string::npos);
  const json& t = first_thread(r);
  EXPECT_EQ(t["frames"].size(), 256u);
  for (const auto& f : t["frames"]) EXPECT_EQ(f["function"], "recurse_forever");
  EXPECT_TRUE(t["unwind_stopped"].get<std::string>().find("frame limit") != std::string::npos);
  bool noted = false;
  for (const auto& n : r["truncated"])
    noted = noted || n.get<std::string>().find("frames cut at 256") != std::string::npos;
  EXPECT_TRUE(noted) << r["truncated"].dump();
  check_against_gdb(r, server, crasher("crasher"), 250);
}

TEST_F(EngineAgainstGdb, DeletedExecutableIsStillSymbolized) {
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  TempDir bin;
  std::string copy = bin / "doomed";
  std::filesystem::copy_file(crasher("crasher"), copy);
  ::chmod(copy.c_str(), 0755);
  std::string keep = bin / "kept-for-gdb";
  std::filesystem::copy_file(crasher("crasher"), keep);
  CrashResult result;
  json r = crash(
      {"deleted", "crasher", {"wait-stdin"}, SIGSEGV, "", "", ""}, server, result,
      [&](pid_t, int stdin_fd) {
        ::unlink(copy.c_str());
        (void)!::write(stdin_fd, "x", 1);
      },
      copy);
  ASSERT_FALSE(r.is_null());
  EXPECT_EQ(r["exe"], copy + " (deleted)");
  const json& t = first_thread(r);
  EXPECT_TRUE(has_function(t, "write_through")) << t["frames"].dump(1);
  EXPECT_TRUE(has_function(t, "wait_then_crash")) << t["frames"].dump(1);
  check_against_gdb(r, server, keep);
}

TEST_F(EngineAgainstGdb, TwoHundredThreadsAreAllUnwound) {
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  CrashResult result;
  json r = crash({"threads", "crasher", {"threads", "200"}, SIGSEGV, "", "", ""}, server, result);
  ASSERT_FALSE(r.is_null());
  EXPECT_EQ(r["threads"].size(), 204u);
  size_t idle = 0;
  for (const auto& t : r["threads"]) idle += has_function(t, "idle_main");
  EXPECT_EQ(idle, 200u);
  EXPECT_TRUE(r["truncated"].empty()) << r["truncated"].dump();
  check_against_gdb(r, server, crasher("crasher"));
}

}  // namespace
}  // namespace usercrash::test

namespace usercrash::test {
namespace {

class EngineLimits : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

// The report is made from the core's notes and /proc while the kernel waits,
// never from the rest of the core: a process with a 1 GiB heap is collected
// as fast as one with 1 MiB (the fastest of two runs each, so that a busy
// moment of the machine does not decide; reading the gigabyte would cost
// hundreds of milliseconds).
TEST_F(EngineLimits, AGigabyteHeapIsCollectedAsFastAsASmallOne) {
  TempDir dir;
  ServerProcess server(dir);
  CorePatternGuard guard(client_pattern(server.config()));
  auto fastest = [&](const char* mebibytes, int& slot) {
    double best = 1e9;
    for (int run = 0; run < 2; ++run, ++slot) {
      CrashResult result = run_crasher(crasher("crasher"), {"heap", mebibytes});
      EXPECT_TRUE(WIFSIGNALED(result.status)) << result.output;
      auto r = wait_for_report(server.directory(), fmt::format("usercrash_{:02}", slot), std::chrono::seconds(30));
      if (!r) {
        ADD_FAILURE() << "no report for heap " << mebibytes << "\n" << server.log();
        return best;
      }
      EXPECT_TRUE(has_function((*r)["threads"][0], "crash_with_heap"));
      bool listed = false;
      for (const auto& m : (*r)["maps"]) {
        uint64_t start = std::stoull(m["start"].get<std::string>(), nullptr, 16);
        uint64_t end = std::stoull(m["end"].get<std::string>(), nullptr, 16);
        listed = listed || end - start >= std::stoull(mebibytes) << 20;
      }
      EXPECT_TRUE(listed) << "the heap mapping is listed";
      best = std::min(best, (*r)["collection_ms"].get<double>());
    }
    return best;
  };
  int slot = 0;
  double small = fastest("1", slot);
  double big = fastest("1024", slot);
  EXPECT_LT(big, 4 * small + 100) << "1 GiB heap: " << big << " ms, 1 MiB heap: " << small << " ms";
}

TEST_F(EngineLimits, TenThousandMapsAreListedWithinTheBudget) {
  TempDir dir;
  ServerProcess server(dir);
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult result = run_crasher(crasher("crasher"), {"maps", "10000"});
  auto r = wait_for_report(server.directory(), "usercrash_00", std::chrono::seconds(30));
  ASSERT_TRUE(r) << server.log();
  EXPECT_GE((*r)["maps"].size(), 10000u);
  EXPECT_TRUE(has_function((*r)["threads"][0], "crash_with_maps"));
  EXPECT_LT((*r)["collection_ms"].get<double>(), 5000.0);
}

TEST_F(EngineLimits, ThousandThreadsAreCutAtMaxThreadsAndSaySo) {
  TempDir dir;
  ServerProcess server(dir, {"max_threads=300"});
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult result = run_crasher(crasher("crasher"), {"threads", "1000"});
  ASSERT_TRUE(WIFSIGNALED(result.status));
  auto r = wait_for_report(server.directory(), "usercrash_00", std::chrono::seconds(30));
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["threads"].size(), 300u);
  EXPECT_TRUE((*r)["threads"][0]["crashed"].get<bool>());
  EXPECT_TRUE(has_function((*r)["threads"][0], "crash_with_threads"));
  bool said = false;
  for (const auto& t : (*r)["truncated"]) said = said || t.get<std::string>().find("threads") != std::string::npos;
  EXPECT_TRUE(said) << (*r)["truncated"].dump();
  std::string text = read_file(server.directory() + "/usercrash_00");
  EXPECT_NE(text.find("\nTruncated:\n"), std::string::npos);
}

TEST_F(EngineLimits, AnExhaustedTimeBudgetStillLeavesAReportThatSaysSo) {
  TempDir dir;
  // So small that the collector child is always killed: the fallback report
  // (registers and /proc facts, no backtraces) must be written instead.
  ServerProcess server(dir, {"time_budget=1ms"});
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult result = run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00", std::chrono::seconds(30));
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["pid"], result.pid);
  EXPECT_EQ((*r)["signal"]["number"], SIGSEGV);
  EXPECT_TRUE((*r)["threads"][0]["registers"].is_object());
  EXPECT_FALSE((*r)["maps"].empty());
  bool said = false;
  for (const auto& p : (*r)["problems"]) said = said || p.get<std::string>().find("time budget") != std::string::npos;
  EXPECT_TRUE(said) << (*r)["problems"].dump();
}

}  // namespace
}  // namespace usercrash::test
