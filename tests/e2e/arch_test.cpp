// Processes and cores beyond x86_64 crashes through the kernel: a 32-bit
// (i386) program through the pipe, the kernel socket, `analyze` and the
// debugger; cores written by gdb's gcore; aarch64 cores made under
// qemu-user and analyzed on this x86_64 machine. Each backtrace is compared
// with gdb's on the same core (gdb-multiarch for aarch64).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "e2e/gdb_oracle.h"
#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

bool has_problem(const json& r, const std::string& needle) {
  for (const auto& p : r["problems"])
    if (p.get<std::string>().find(needle) != std::string::npos) return true;
  return false;
}

// What every report of the i386 crasher's "null" crash must show.
// The line of crasher.c that holds TEXT (1-based), so that a crash added
// above it does not move what the tests expect.
int crasher_line_of(const std::string& text) {
  std::ifstream in(std::string(CRASHER_SOURCE_DIR) + "/crasher.c");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.find(text) != std::string::npos) return n;
  ADD_FAILURE() << "no line of crasher.c holds " << text;
  return -1;
}

void expect_i386_null_report(const json& r) {
  EXPECT_EQ(r["arch"], "i386");
  EXPECT_EQ(r["signal"]["number"], SIGSEGV);
  EXPECT_EQ(r["signal"]["code_name"], "SEGV_MAPERR");
  EXPECT_EQ(r["signal"]["fault_address"], "0x0");
  ASSERT_FALSE(r["threads"].empty());
  const json& t = r["threads"][0];
  ASSERT_TRUE(t["registers"].is_object()) << t.dump();
  EXPECT_TRUE(t["registers"].contains("eip"));
  EXPECT_TRUE(t["registers"].contains("esp"));
  EXPECT_FALSE(t["registers"].contains("rip"));
  std::vector<std::string> expected = {"write_through", "null_level3", "null_level2", "null_level1", "main"};
  std::vector<std::string> names = function_names(t);
  ASSERT_GE(names.size(), expected.size()) << t["frames"].dump(1);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(names[i], expected[i]) << t["frames"].dump(1);
  EXPECT_TRUE(t["frames"][0]["file"].get<std::string>().ends_with("crasher.c"));
  EXPECT_EQ(t["frames"][0]["line"], crasher_line_of("*p = 42;"));
  EXPECT_EQ(r["threads"].size(), 4u);
  for (const auto& th : r["threads"]) EXPECT_GE(th["frames"].size(), 3u) << th.dump(1);
  EXPECT_FALSE(r["memory_near_registers"].empty());
  ASSERT_FALSE(r["disassembly"].empty());
  bool faulting = false;
  for (const auto& i : r["disassembly"]) faulting = faulting || i["faulting"].get<bool>();
  EXPECT_TRUE(faulting);
  EXPECT_FALSE(has_problem(r, "memory dumps left out")) << r["problems"].dump();
  EXPECT_FALSE(has_problem(r, "not usable")) << r["problems"].dump();
}

std::string analyze_json(const std::vector<std::string>& args, RunResult* raw = nullptr) {
  std::vector<std::string> argv = {program("usercrashctl"), "analyze", "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  if (raw) *raw = r;
  return r.output;
}

// A live crasher (mode wait-signal), killed at the end.
class Live {
 public:
  explicit Live(const std::string& exe) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::execl(exe.c_str(), exe.c_str(), "wait-signal", nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    if (!line.starts_with("ready")) throw std::runtime_error("crasher said: " + line);
    // Parked: its main thread asleep.
    eventually([&] {
      std::string stat = read_file("/proc/" + std::to_string(pid_) + "/stat");
      size_t paren = stat.rfind(')');
      return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'S';
    });
  }
  ~Live() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

std::string gcore(pid_t pid, const std::string& into) {
  RunResult r = run({"gdb", "-nx", "-batch", "-p", std::to_string(pid), "-ex", "gcore " + into});
  return exists(into) ? into : "";
}

TEST(I386AgainstGdb, PipeKernelSocketAndAnalyzeGiveTheFullReportAsGdbDoes) {
  REQUIRE_ROOT();
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  const std::string exe = crasher("crasher_m32");
  json piped;
  {
    CorePatternGuard guard(client_pattern(server.config()));
    CrashResult crash = run_crasher(exe, {"null"});
    ASSERT_TRUE(WIFSIGNALED(crash.status)) << crash.output;
    auto r = wait_for_report(server.directory(), "usercrash_00", std::chrono::seconds(60));
    ASSERT_TRUE(r) << server.log();
    piped = *r;
    EXPECT_EQ(piped["pid"], crash.pid);
  }
  EXPECT_EQ(piped["source"], "core_pattern");
  expect_i386_null_report(piped);

  TempDir scratch;
  std::string core = unpack_saved_core(server.directory(), "usercrash_00", scratch.path());
  ASSERT_FALSE(core.empty());
  auto gdb = gdb_backtraces(exe, core);
  ASSERT_EQ(gdb.size(), 4u);
  EXPECT_EQ(compare_with_gdb(piped, gdb), "") << "the pipe's report differs from gdb";

  json analyzed = json::parse(analyze_json({core}));
  EXPECT_EQ(analyzed["source"], "core_file");
  expect_i386_null_report(analyzed);
  EXPECT_EQ(compare_with_gdb(analyzed, gdb), "") << "analyze differs from gdb";
  EXPECT_TRUE(analyzed["time"].is_null()) << "a core carries no time of its own";

  {
    CorePatternGuard guard("@@" + (dir / "run/core.sock"));
    CrashResult crash = run_crasher(exe, {"null"});
    ASSERT_TRUE(WIFSIGNALED(crash.status));
    auto r = wait_for_report(server.directory(), "usercrash_01", std::chrono::seconds(60));
    ASSERT_TRUE(r) << server.log();
    EXPECT_EQ((*r)["source"], "kernel_socket");
    expect_i386_null_report(*r);
  }
}

TEST(I386AgainstGdb, DebuggerAndGcoreOfALive32BitProcess) {
  REQUIRE_ROOT();
  Live live(crasher("crasher_m32"));
  RunResult out = run({program("debugger"), "--json", std::to_string(live.pid())});
  ASSERT_EQ(out.status, 0) << out.output;
  json r = json::parse(out.output.substr(out.output.find('{')));
  EXPECT_EQ(r["arch"], "i386");
  const json& main_thread = r["threads"][0];
  EXPECT_TRUE(main_thread["registers"].contains("eip")) << main_thread.dump();
  EXPECT_TRUE(has_function(main_thread, "wait_for_signal")) << main_thread["frames"].dump(1);
  EXPECT_TRUE(has_function(main_thread, "main")) << main_thread["frames"].dump(1);
  EXPECT_EQ(r["threads"].size(), 4u);
  EXPECT_FALSE(has_problem(r, "memory dumps left out")) << r["problems"].dump();

  TempDir scratch;
  std::string core = gcore(live.pid(), scratch / "gcore");
  ASSERT_FALSE(core.empty());
  json analyzed = json::parse(analyze_json({"--exe", crasher("crasher_m32"), core}));
  EXPECT_EQ(analyzed["arch"], "i386");
  EXPECT_EQ(compare_with_gdb(analyzed, gdb_backtraces(crasher("crasher_m32"), core)), "");
}

TEST(GcoreAgainstGdb, CoreOfGdbGetsSymbolsFromNtFileAndTheModuleFiles) {
  REQUIRE_ROOT();
  TempDir scratch;
  // A copy, so it can be moved away after the core is taken.
  std::string exe = scratch / "prog";
  std::filesystem::copy_file(crasher("crasher"), exe);
  std::string core;
  {
    Live live(exe);
    core = gcore(live.pid(), scratch / "gcore");
  }
  ASSERT_FALSE(core.empty());
  auto gdb = gdb_backtraces(exe, core);
  json r = json::parse(analyze_json({core}));
  EXPECT_EQ(r["arch"], "x86_64");
  ASSERT_EQ(r["threads"].size(), 4u);
  for (const auto& t : r["threads"])
    for (const auto& f : t["frames"]) {
      EXPECT_TRUE(f["function"].is_string()) << "a frame without a name: " << t["frames"].dump(1);
      EXPECT_NE(f["method"], "stack") << "a frame made up from stack scanning";
    }
  EXPECT_EQ(compare_with_gdb(r, gdb), "");
  EXPECT_FALSE(r["disassembly"].empty()) << "code around rip comes from the module file";

  // The executable moved: found by build-id in a directory to search.
  std::filesystem::create_directory(scratch / "elsewhere");
  std::filesystem::rename(exe, scratch / "elsewhere/prog");
  json moved = json::parse(analyze_json({"--search", scratch / "elsewhere", core}));
  EXPECT_TRUE(has_function(moved["threads"][0], "wait_for_signal")) << moved["threads"][0].dump(1);
  EXPECT_TRUE(has_problem(moved, "found as " + (scratch / "elsewhere/prog"))) << moved["problems"].dump();
  EXPECT_EQ(compare_with_gdb(moved, gdb), "");
}

// Runs the aarch64 crasher under qemu-user in `dir`; the guest's core.
std::string qemu_core(const std::string& dir, const std::string& mode) {
  // qemu dies of the guest's signal itself: its own core goes to a pipe
  // that drops it, under the core_pattern lock.
  CorePatternGuard guard("|/bin/true");
  pid_t child = ::fork();
  if (child == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    ::setrlimit(RLIMIT_CORE, &unlimited);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    std::string exe = crasher("crasher_aarch64");
    ::execlp("qemu-aarch64", "qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", exe.c_str(), mode.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().starts_with("qemu_crasher_aarch64_")) return e.path();
  return "";
}

TEST(Aarch64AgainstGdb, QemuCoreIsAnalyzedOfflineAsGdbMultiarchShowsIt) {
  REQUIRE_ROOT();
  TempDir dir;
  std::string core = qemu_core(dir.path(), "null");
  ASSERT_FALSE(core.empty()) << "qemu-aarch64 wrote no core";
  const std::string exe = crasher("crasher_aarch64");
  json r = json::parse(analyze_json({"--exe", exe, "--sysroot", "/usr/aarch64-linux-gnu", core}));
  EXPECT_EQ(r["arch"], "aarch64");
  EXPECT_EQ(r["signal"]["number"], SIGSEGV);
  EXPECT_TRUE(r["signal"]["code"].is_null()) << "qemu's core has no siginfo: the code is not known";
  ASSERT_EQ(r["threads"].size(), 4u);
  const json& t = r["threads"][0];
  for (const char* reg : {"x0", "x29", "x30", "sp", "pc", "pstate"}) EXPECT_TRUE(t["registers"].contains(reg)) << reg;
  std::vector<std::string> expected = {"write_through", "null_level3", "null_level2", "null_level1", "main"};
  std::vector<std::string> names = function_names(t);
  ASSERT_GE(names.size(), expected.size()) << t["frames"].dump(1);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(names[i], expected[i]);
  EXPECT_EQ(t["frames"][0]["line"], crasher_line_of("*p = 42;"));
  ASSERT_FALSE(r["disassembly"].empty());
  bool str = false;
  for (const auto& i : r["disassembly"])
    if (i["faulting"].get<bool>()) str = i["instruction"].get<std::string>().starts_with("str");
  EXPECT_TRUE(str) << r["disassembly"].dump(1);
  auto gdb = gdb_backtraces(exe, core, 256, "gdb-multiarch", "/usr/aarch64-linux-gnu");
  ASSERT_EQ(gdb.size(), 4u);
  EXPECT_EQ(compare_with_gdb(r, gdb), "");

  // The libraries found in a directory to search instead of a sysroot; the
  // host's own /lib/libc.so.6 (x86_64) is never taken for the guest's.
  json searched = json::parse(analyze_json({"--exe", exe, "--search", "/usr/aarch64-linux-gnu/lib", core}));
  EXPECT_EQ(compare_with_gdb(searched, gdb), "");
}

TEST(Analyze, AnUnsupportedArchitectureIsOneLineAndExitStatus1) {
  TempDir dir;
  std::string head(64, '\0');  // the ELF header of a RISC-V core
  std::memcpy(head.data(),
              "\x7f"
              "ELF\x02\x01\x01",
              7);
  uint16_t type = 4 /* ET_CORE */, machine = 243 /* EM_RISCV */;
  std::memcpy(head.data() + 16, &type, 2);
  std::memcpy(head.data() + 18, &machine, 2);
  write_file(dir / "riscv.core", head);
  RunResult raw;
  analyze_json({dir / "riscv.core"}, &raw);
  EXPECT_EQ(WEXITSTATUS(raw.status), 1);
  EXPECT_EQ(std::count(raw.output.begin(), raw.output.end(), '\n'), 1) << raw.output;
  EXPECT_NE(raw.output.find("ELF machine 243"), std::string::npos) << raw.output;
  EXPECT_NE(raw.output.find("does not read"), std::string::npos) << raw.output;
}

}  // namespace
}  // namespace usercrash::test
