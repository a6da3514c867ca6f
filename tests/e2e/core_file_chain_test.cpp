// When core_pattern was a file pattern before usercrash (Debian's default
// "core", or "/var/crash/core.%e.%p"), the client still leaves the core file
// the kernel would have written: same name and place, the crashed user's,
// mode 0600, and a core gdb reads to the same backtrace as our report.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "e2e/gdb_oracle.h"
#include "e2e/harness.h"

namespace usercrash::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class CoreFileChain : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    ::getrlimit(RLIMIT_CORE, &saved_limit_);
    set_core_limit(RLIM_INFINITY);
    ::mkdir(state.c_str(), 0700);
    ::mkdir(cores.c_str(), 0755);
  }
  void TearDown() override { ::setrlimit(RLIMIT_CORE, &saved_limit_); }

  static void set_core_limit(rlim_t soft) {
    rlimit limit{soft, RLIM_INFINITY};
    ::setrlimit(RLIMIT_CORE, &limit);
  }

  // What `usercrashctl enable` saves: the pattern that was there before.
  void save_pattern(const std::string& pattern) { write_file(state + "/core_pattern.saved", pattern + "\n", 0600); }

  // Crashes `args` with our client as the handler; returns the crash and its report.
  std::pair<CrashResult, json> crash(ServerProcess& server, const std::string& exe,
                                     const std::vector<std::string>& args) {
    CorePatternGuard guard(client_pattern(server.config()));
    CrashResult crash = run_crasher(exe, args);
    auto r = wait_for_report(server.directory(), "usercrash_00");
    // The core file is written after the report: wait for the client to end.
    EXPECT_TRUE(eventually([&] { return !clients_running(server.config()); }));
    return {crash, r.value_or(json())};
  }

  // Crashes `program` (a copy others can run) as nobody, in `cwd`.
  std::pair<CrashResult, json> crash_as_nobody(ServerProcess& server, const std::string& program,
                                               const std::string& cwd) {
    ::chmod(dir.path().c_str(), 0711);  // nobody passes through to cwd
    return crash(server, "/usr/bin/setpriv",
                 {"--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/env", "-C", cwd, program, "null"});
  }

  static std::string kernel_name(const std::string& name, pid_t pid) {
    return read_file("/proc/sys/kernel/core_uses_pid") == "1\n" ? name + "." + std::to_string(pid) : name;
  }

  TempDir dir;
  std::string state = dir / "state";
  std::string cores = dir / "cores";

 private:
  rlimit saved_limit_{};
};

TEST_F(CoreFileChain, TheCoreFileIsWrittenWhereThePreviousPatternSaid) {
  save_pattern(cores + "/core.%e.%p");
  ServerProcess server(dir, {"state_directory=" + state, "save_core=yes"});
  auto [crashed, report] = crash(server, crasher("crasher"), {"threads", "4"});
  ASSERT_FALSE(report.is_null()) << server.log();
  std::string core = cores + "/core.crasher." + std::to_string(crashed.pid);
  ASSERT_TRUE(exists(core)) << "in " << cores << ": " << run({"ls", "-la", cores}).output;
  struct stat st {};
  ASSERT_EQ(::stat(core.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // Byte for byte the core the kernel streamed: the same as the one saved
  // beside the report, and gdb reads every thread of it as our report has it.
  std::string saved = unpack_saved_core(server.directory(), "usercrash_00", dir.path());
  ASSERT_FALSE(saved.empty());
  EXPECT_FALSE(report["core"]["truncated"].get<bool>());
  EXPECT_GT(fs::file_size(core), 100000u);
  EXPECT_EQ(run({"sha256sum", core}).output.substr(0, 64), run({"sha256sum", saved}).output.substr(0, 64));
  auto gdb = gdb_backtraces(crasher("crasher"), core);
  ASSERT_EQ(gdb.size(), report["threads"].size());
  EXPECT_EQ(compare_with_gdb(report, gdb), "");
}

TEST_F(CoreFileChain, ARelativePatternWritesIntoTheProcesssCwdAsItsUser) {
  save_pattern("core");
  ServerProcess server(dir, {"state_directory=" + state});
  PublicCopy program("crasher");
  std::string home = dir / "home";
  ::mkdir(home.c_str(), 0700);
  ASSERT_EQ(::chown(home.c_str(), kNobody, kNobody), 0);
  auto [crashed, report] = crash_as_nobody(server, program.path, home);
  ASSERT_FALSE(report.is_null()) << server.log();
  std::string core = home + "/" + kernel_name("core", crashed.pid);
  ASSERT_TRUE(exists(core)) << run({"ls", "-la", home}).output;
  struct stat st {};
  ASSERT_EQ(::stat(core.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody);
  EXPECT_EQ(st.st_gid, kNobody);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto gdb = gdb_backtraces(program.path, core);
  EXPECT_EQ(compare_with_gdb(report, gdb), "");
}

TEST_F(CoreFileChain, NoCoreFileWhereTheKernelWouldWriteNoneAndTheReportStays) {
  save_pattern("core.%p");
  ServerProcess server(dir, {"state_directory=" + state});
  PublicCopy program("crasher");
  std::string rootonly = dir / "rootonly";
  ::mkdir(rootonly.c_str(), 0755);
  {
    // ulimit -c 0: no core.
    set_core_limit(0);
    auto [crashed, report] = crash(server, "/usr/bin/env", {"-C", cores, crasher("crasher"), "null"});
    ASSERT_FALSE(report.is_null()) << server.log();
    EXPECT_EQ(report["pid"], crashed.pid);
    EXPECT_FALSE(exists(cores + "/core." + std::to_string(crashed.pid)));
    set_core_limit(RLIM_INFINITY);
  }
  ::unlink((server.directory() + "/usercrash_00").c_str());
  ::unlink((server.directory() + "/usercrash_00.json").c_str());
  {
    // A user whose cwd it cannot write: nothing, and nothing as root either.
    auto [crashed, report] = crash_as_nobody(server, program.path, rootonly);
    EXPECT_FALSE(report.is_null()) << server.log();
    EXPECT_TRUE(fs::is_empty(rootonly)) << run({"ls", "-la", rootonly}).output;
  }
}

TEST_F(CoreFileChain, InKernelSocketModeTooFromWhatProcHolds) {
  // No %d or %c there: the limit comes from /proc/<pid>/limits, and with
  // fs.suid_dumpable=0 every process the kernel dumps was dumpable.
  save_pattern(cores + "/core.%p");
  ServerProcess server(dir, {"state_directory=" + state});
  CorePatternGuard guard("@@" + (dir / "run/core.sock"));
  SysctlGuard dumpable("/proc/sys/fs/suid_dumpable", "0");
  CrashResult crashed = run_crasher(crasher("crasher"), {"null"});
  auto report = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(report) << server.log();
  EXPECT_EQ((*report)["source"], "kernel_socket");
  EXPECT_TRUE(eventually([] {
    return WEXITSTATUS(run({"pgrep", "-f", "usercrash_c --kernel-connection"}).status) != 0;
  }));
  std::string core = cores + "/core." + std::to_string(crashed.pid);
  ASSERT_TRUE(exists(core)) << run({"ls", "-la", cores}).output;
  EXPECT_EQ(compare_with_gdb(*report, gdb_backtraces(crasher("crasher"), core)), "");
}

TEST_F(CoreFileChain, AProcessNameCannotMoveTheCoreFileElsewhere) {
  // %e is the process's own comm, which it can set to anything: a '/' in it
  // becomes '!', as the kernel makes it.
  save_pattern(cores + "/core.%e.%p");
  ServerProcess server(dir, {"state_directory=" + state});
  ::setenv("CRASHER_NAME", "../x", 1);
  auto [crashed, report] = crash(server, crasher("crasher"), {"null"});
  ::unsetenv("CRASHER_NAME");
  ASSERT_FALSE(report.is_null()) << server.log();
  EXPECT_TRUE(exists(cores + "/core...!x." + std::to_string(crashed.pid))) << run({"ls", "-la", cores}).output;
  EXPECT_FALSE(exists(dir / "x." + std::to_string(crashed.pid)));
}

}  // namespace
}  // namespace usercrash::test
