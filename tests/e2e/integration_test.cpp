// The kernel's coredump socket mode, and passing each crash on to the
// handler core_pattern had before usercrash.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

class Integration : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

// name → function names, per thread, for comparing two reports of one crash kind.
std::map<std::string, std::vector<std::string>> frames_by_thread(const json& r) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& t : r["threads"])
    out[t["crashed"].get<bool>() ? "crashed" : t["name"].get<std::string>()] = function_names(t);
  return out;
}

TEST_F(Integration, KernelSocketModeGivesTheSameReportAsPipeMode) {
  TempDir dir;
  // One source_lines for both: its default (auto) gives libc's file:line
  // where the warm collector serves the crash, which pipe mode has and
  // socket mode (a worker per crash) not yet.
  ServerProcess server(dir, {"source_lines=own"});
  // The server binds its own socket first and the kernel's right after.
  ASSERT_TRUE(wait_for_file(dir / "run/core.sock")) << server.log();
  json piped, socketed;
  {
    CorePatternGuard guard(client_pattern(server.config()));
    CrashResult crash = run_crasher(crasher("crasher"), {"null"});
    auto r = wait_for_report(server.directory(), "usercrash_00");
    ASSERT_TRUE(r) << server.log();
    piped = *r;
  }
  pid_t crashed = 0;
  {
    CorePatternGuard guard("@@" + (dir / "run/core.sock"));
    CrashResult crash = run_crasher(crasher("crasher"), {"null"});
    crashed = crash.pid;
    ASSERT_TRUE(WIFSIGNALED(crash.status));
    auto r = wait_for_report(server.directory(), "usercrash_01");
    ASSERT_TRUE(r) << server.log();
    socketed = *r;
  }
  EXPECT_EQ(socketed["source"], "kernel_socket");
  EXPECT_EQ(piped["source"], "core_pattern");
  EXPECT_EQ(socketed["pid"], crashed);
  EXPECT_EQ(socketed["comm"], piped["comm"]);
  EXPECT_EQ(socketed["exe"], piped["exe"]);
  EXPECT_EQ(socketed["signal"]["number"], piped["signal"]["number"]);
  EXPECT_EQ(socketed["signal"]["code_name"], piped["signal"]["code_name"]);
  EXPECT_EQ(socketed["signal"]["fault_address"], piped["signal"]["fault_address"]);
  EXPECT_EQ(socketed["signal"]["cause"], piped["signal"]["cause"]);
  EXPECT_EQ(frames_by_thread(socketed), frames_by_thread(piped));
  EXPECT_EQ(socketed["maps"].size(), piped["maps"].size());
  EXPECT_EQ(socketed["open_files"].size(), piped["open_files"].size());
  EXPECT_EQ(socketed["disassembly"].size(), piped["disassembly"].size());
  EXPECT_TRUE(server.running());
}

TEST_F(Integration, KernelSocketModeKeepsTheProcessUntilTheReportIsDone) {
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  CorePatternGuard guard("@@" + (dir / "run/core.sock"));
  CrashResult crash = run_crasher(crasher("crasher"), {"threads", "20"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["threads"].size(), 24u);
  EXPECT_FALSE((*r)["kernel_stack"].empty()) << "the task was still there to read /proc/<pid>/stack";
  ASSERT_TRUE(r->contains("core"));
  EXPECT_TRUE((*r)["core"]["saved"].get<bool>());
}

struct Chain {
  TempDir dir;
  std::string state = dir / "state";
  std::string record = dir / "record";
  Chain(const std::string& args) {
    ::mkdir(state.c_str(), 0700);
    ::mkdir(record.c_str(), 0700);
    write_file(state + "/core_pattern.saved", "|" + crasher("record_handler") + " " + record + " " + args + "\n", 0600);
  }
};

TEST_F(Integration, ThePreviousPipeHandlerGetsTheWholeCoreAndItsArguments) {
  Chain chain("%P %p %e %s %u %g %t %E %d %c %% %F %h");
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes", "state_directory=" + chain.state});
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  ASSERT_TRUE(wait_for_file(chain.record + "/done"));

  std::vector<std::string> argv;
  std::istringstream lines(read_file(chain.record + "/done"));
  for (std::string l; std::getline(lines, l);) argv.push_back(l);
  ASSERT_EQ(argv.size(), 15u) << read_file(chain.record + "/done");
  std::string exe_bang = crasher("crasher");
  std::replace(exe_bang.begin(), exe_bang.end(), '/', '!');
  EXPECT_EQ(argv[2], std::to_string(crash.pid));  // %P
  EXPECT_EQ(argv[3], std::to_string(crash.pid));  // %p
  EXPECT_EQ(argv[4], "crasher");                  // %e
  EXPECT_EQ(argv[5], "11");                       // %s
  EXPECT_EQ(argv[6], "0");                        // %u
  EXPECT_EQ(argv[7], "0");                        // %g
  EXPECT_FALSE(argv[8].empty());                  // %t
  EXPECT_EQ(argv[9], exe_bang);                   // %E
  EXPECT_EQ(argv[10], "1");                       // %d
  EXPECT_EQ(argv[12], "%");                       // %%
  EXPECT_EQ(argv[13], "3");                       // %F: the pidfd as fd 3
  EXPECT_EQ(read_file(chain.record + "/pidfd"), "Pid:\t" + std::to_string(crash.pid) + "\n");

  // The whole core: the same bytes as the core saved beside the report.
  std::string saved = unpack_saved_core(server.directory(), "usercrash_00", dir.path());
  ASSERT_FALSE(saved.empty());
  RunResult a = run({"sha256sum", chain.record + "/core"});
  RunResult b = run({"sha256sum", saved});
  EXPECT_EQ(a.output.substr(0, 64), b.output.substr(0, 64));
  EXPECT_GT(std::filesystem::file_size(saved), 100000u);
  EXPECT_FALSE((*r)["core"]["truncated"].get<bool>());
}

TEST_F(Integration, ThePreviousHandlerGetsTheCoreWithoutSaveCoreToo) {
  Chain chain("%P");
  TempDir dir;
  ServerProcess server(dir, {"state_directory=" + chain.state});
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  ASSERT_TRUE(wait_for_report(server.directory(), "usercrash_00")) << server.log();
  ASSERT_TRUE(wait_for_file(chain.record + "/done"));
  std::string core = read_file(chain.record + "/core");
  ASSERT_GT(core.size(), 100000u);
  EXPECT_EQ(core.substr(0, 4),
            "\x7f"
            "ELF");
}

TEST_F(Integration, ABrokenPreviousHandlerNeverLosesOurReport) {
  Chain chain("RECORD_FAIL");
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes", "state_directory=" + chain.state});
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["pid"], crash.pid);
  EXPECT_TRUE((*r)["core"]["saved"].get<bool>());
}

TEST_F(Integration, AStateFileOthersCouldWriteIsNotRun) {
  Chain chain("%P");
  ::chmod((chain.state + "/core_pattern.saved").c_str(), 0666);
  TempDir dir;
  ServerProcess server(dir, {"state_directory=" + chain.state});
  CorePatternGuard guard(client_pattern(server.config()));
  run_crasher(crasher("crasher"), {"null"});
  ASSERT_TRUE(wait_for_report(server.directory(), "usercrash_00")) << server.log();
  // The client decides about the previous handler and waits for it before
  // it exits: once it is gone, a handler that was run has left its record.
  EXPECT_TRUE(eventually([&] { return !clients_running(server.config()); }));
  EXPECT_FALSE(exists(chain.record + "/done"));
  EXPECT_FALSE(exists(chain.record + "/core"));
}

}  // namespace
}  // namespace usercrash::test
