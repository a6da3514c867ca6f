// The engine runs sandboxed (collect/sandbox.h) on every path that parses a
// process's ELF, DWARF and code (issue 9.5): the crash path in pipe mode,
// with the server and without it, the kernel-socket worker, debugger and
// usercrashctl analyze. Each report says how its engine was confined, and
// its backtraces, memory and code show that the engine still did its work
// through what was opened before it gave up root.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>

#include "collect/engine_user.h"
#include "e2e/harness.h"
#include "util/limits.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

class EngineSandbox : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }

  // The user the engine must have run as: the package's, else nobody.
  static uid_t engine_uid() { return collect::resolve_engine_user(limits::kEngineUser).uid; }

  static const json* crashed_thread(const json& r) {
    for (const auto& t : r["threads"])
      if (t["crashed"].get<bool>()) return &t;
    return r["threads"].empty() ? nullptr : &r["threads"][0];
  }

  // Confined as configured, and the work done: the crash of `crasher null`
  // unwound to main (process memory and module files were readable), with
  // the memory and the code around the registers (a core file lacks the
  // code pages: that code comes from the module files the child was
  // handed). From a process, no problem but `expected_problem` (a note of
  // the path the report took, not of the engine) when one is given.
  static void expect_confined_report(const json& r, uid_t uid, bool from_process = true,
                                     std::string_view expected_problem = {}) {
    ASSERT_TRUE(r["sandbox"].is_object()) << r.dump(1);
    EXPECT_EQ(r["sandbox"]["uid"], uid);
    EXPECT_NE(r["sandbox"]["uid"], 0);
    EXPECT_NE(r["sandbox"]["gid"], 0);
    EXPECT_EQ(r["sandbox"]["no_new_privs"], true);
    EXPECT_EQ(r["sandbox"]["seccomp"], true);
    EXPECT_EQ(r["sandbox"]["landlock"], true);  // this kernel, and CI's, has it
    const json* t = crashed_thread(r);
    ASSERT_TRUE(t);
    auto names = function_names(*t);
    for (const char* f : {"write_through", "null_level3", "null_level1", "main"})
      EXPECT_NE(std::find(names.begin(), names.end(), f), names.end()) << f << " in " << t->dump();
    EXPECT_FALSE(r["memory_near_registers"].empty());
    EXPECT_FALSE(r["disassembly"].empty());
    if (!from_process) return;
    if (expected_problem.empty()) {
      EXPECT_TRUE(r["problems"].empty()) << r["problems"].dump();
      return;
    }
    ASSERT_EQ(r["problems"].size(), 1u) << r["problems"].dump();
    EXPECT_NE(r["problems"][0].get<std::string>().find(expected_problem), std::string::npos) << r["problems"].dump();
  }
};

TEST_F(EngineSandbox, PipeModeThroughTheServer) {
  TempDir dir;
  ServerProcess server(dir);
  CorePatternGuard guard(client_pattern(server.config()));
  run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  expect_confined_report(*r, engine_uid());
  std::string text = read_file(server.directory() + "/usercrash_00");
  EXPECT_NE(text.find("(backtraces built as uid " + std::to_string(engine_uid())), std::string::npos);
}

TEST_F(EngineSandbox, PipeModeWithTheServerDown) {
  TempDir dir;
  ServerProcess server(dir, {}, /*start=*/false);
  CorePatternGuard guard(client_pattern(server.config()));
  run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r);
  expect_confined_report(*r, engine_uid(), /*from_process=*/true, "usercrash_c wrote this report itself");
}

TEST_F(EngineSandbox, KernelSocketWorker) {
  TempDir dir;
  ServerProcess server(dir);
  ASSERT_TRUE(exists(dir / "run/core.sock")) << server.log();
  CorePatternGuard guard("@@" + (dir / "run/core.sock"));
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  ASSERT_TRUE(WIFSIGNALED(crash.status));
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["source"], "kernel_socket");
  expect_confined_report(*r, engine_uid());
}

TEST_F(EngineSandbox, UsercrashctlAnalyzeOfASavedCore) {
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  {
    CorePatternGuard guard(client_pattern(server.config()));
    run_crasher(crasher("crasher"), {"null"});
    ASSERT_TRUE(wait_for_report(server.directory(), "usercrash_00")) << server.log();
    ASSERT_TRUE(eventually([&] { return exists(server.directory() + "/usercrash_00.core.zst"); }));
  }
  RunResult r = run({program("usercrashctl"), "--config", server.config(), "analyze", "--json",
                     server.directory() + "/usercrash_00.core.zst"});
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.output;
  json doc = json::parse(r.output, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.output;
  EXPECT_EQ(doc["source"], "core_file");
  expect_confined_report(doc, engine_uid(), /*from_process=*/false);
}

TEST_F(EngineSandbox, DebuggerOnALiveProcess) {
  Sleeper sleeper;
  RunResult r = run({program("debugger"), "--json", std::to_string(sleeper.pid())});
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.output;
  json doc = json::parse(r.output, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.output;
  ASSERT_TRUE(doc["sandbox"].is_object()) << r.output;
  EXPECT_EQ(doc["sandbox"]["uid"], engine_uid());
  EXPECT_EQ(doc["sandbox"]["seccomp"], true);
  // sleep(1) is stripped; libc's symbols still name where it sleeps.
  auto names = function_names(doc["threads"][0]);
  EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](const std::string& n) {
    return n.find("nanosleep") != std::string::npos;
  })) << doc["threads"][0].dump();
}

TEST_F(EngineSandbox, EngineUserFromTheConfig) {
  TempDir dir;
  constexpr uid_t kUser = 4242;  // in no passwd file: the number itself
  ServerProcess server(dir, {"engine_user=" + std::to_string(kUser)});
  CorePatternGuard guard(client_pattern(server.config()));
  run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  expect_confined_report(*r, kUser);
  EXPECT_EQ((*r)["sandbox"]["gid"], kUser);
}

// libc's separate debug file is opened by the confined engine, by build-id
// under debuginfo_path, which is all Landlock lets it read.
TEST_F(EngineSandbox, DebugFilesAreStillFoundInsideTheSandbox) {
  TempDir dir;
  ServerProcess server(dir, {"source_lines=all"});
  CorePatternGuard guard(client_pattern(server.config()));
  run_crasher(crasher("crasher"), {"libc"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  ASSERT_TRUE((*r)["sandbox"].is_object());
  const json* t = crashed_thread(*r);
  ASSERT_TRUE(t && !(*t)["frames"].empty());
  const json& top = (*t)["frames"][0];
  EXPECT_NE(top["module"].get<std::string>().find("libc.so"), std::string::npos) << top.dump();
  EXPECT_TRUE(top["file"].is_string()) << top.dump();
  EXPECT_TRUE(top["line"].is_number()) << top.dump();
}

}  // namespace
}  // namespace usercrash::test
