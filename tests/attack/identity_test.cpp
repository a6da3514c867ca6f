// Attacks on who a report is about and who may read it: recycled pids,
// setuid processes, other users, other namespaces, and our own crash.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class Identity : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

// A real core of a crasher, written by the kernel to a file.
std::string make_core(const TempDir& dir, pid_t& crashed) {
  CorePatternGuard guard(dir / "core.%p");
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  ::setrlimit(RLIMIT_CORE, &unlimited);
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  crashed = crash.pid;
  return dir / ("core." + std::to_string(crash.pid));
}

TEST_F(Identity, ARecycledPidNeverLendsItsDataToTheReport) {
  TempDir dir;
  pid_t crashed = 0;
  std::string core = make_core(dir, crashed);
  ASSERT_TRUE(exists(core));
  ServerProcess server(dir);
  Sleeper sleeping;
  pid_t sleeper = sleeping.pid();
  // The client is told the crash was `sleeper`'s pid, as if the pid had been reused.
  RunResult r =
      run({program("usercrash_c"), "-c", server.config(), "-k::0:0::1:", std::to_string(sleeper), "crasher", "11"},
          read_file(core));
  sleeping.stop();
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.output;
  auto report = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(report) << server.log();
  EXPECT_EQ((*report)["pid"], sleeper);
  EXPECT_EQ((*report)["comm"], "crasher") << "the name comes from the core";
  bool said = false;
  for (const auto& p : (*report)["problems"])
    said = said || p.get<std::string>().find("not the crashed process") != std::string::npos;
  EXPECT_TRUE(said) << (*report)["problems"].dump();
  // Nothing from the sleeper: its name, executable, files, kernel stack.
  std::string all = report->dump();
  EXPECT_EQ(all.find("/sleep"), std::string::npos);
  EXPECT_EQ(all.find("\"sleep\""), std::string::npos);
  EXPECT_TRUE((*report)["exe"].is_null());
  EXPECT_TRUE((*report)["open_files"].empty());
  EXPECT_TRUE((*report)["kernel_stack"].empty());
  EXPECT_EQ((*report)["signal"]["number"], SIGSEGV) << "the core's own facts are still reported";
  EXPECT_EQ((*report)["threads"].size(), 4u);
}

// A process sleeping in `cwd`; killed and reaped on destruction.
struct SleeperIn {
  pid_t pid = -1;
  explicit SleeperIn(const std::string& cwd) {
    pid = ::fork();
    if (pid == 0) {
      if (::chdir(cwd.c_str()) != 0) ::_exit(127);
      ::execl("/usr/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    eventually([&] { return read_file("/proc/" + std::to_string(pid) + "/comm") == "sleep\n"; });
  }
  ~SleeperIn() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

TEST_F(Identity, ARecycledPidNeverGetsTheCoreFileOfTheCrash) {
  TempDir dir;
  pid_t crashed = 0;
  std::string core = make_core(dir, crashed);
  ASSERT_TRUE(exists(core));
  // Before usercrash, core_pattern was Debian's "core": the core file goes
  // to the crashed process's cwd, as its user.
  std::string state = dir / "state", cwd = dir / "cwd";
  ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(cwd.c_str(), 0755), 0);
  write_file(state + "/core_pattern.saved", "core", 0600);
  ServerProcess server(dir, {"state_directory=" + state});
  SleeperIn sleeper(cwd);
  // No pidfd, and the pid now names the sleeper: /proc/<pid> is not the
  // crashed process, so neither the report nor the core file may use it.
  RunResult r = run({program("usercrash_c"), "-c", server.config(), "-k::0:0::1:1073741824",
                     std::to_string(sleeper.pid), "crasher", "11"},
                    read_file(core));
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.output;
  ASSERT_TRUE(wait_for_report(server.directory(), "usercrash_00")) << server.log();
  // The core file would come last (usercrash_c, or the warm collector's
  // process for this crash, whose log lines go to the server's log).
  EXPECT_TRUE(eventually([&] { return !clients_running(server.config()); }));
  EXPECT_TRUE(fs::is_empty(cwd)) << "no core file in the other process's directory, as its user";
  EXPECT_NE((r.output + server.log()).find("could not be verified"), std::string::npos) << r.output << server.log();
}

TEST_F(Identity, APidfdForAnotherProcessIsRefused) {
  TempDir dir;
  pid_t crashed = 0;
  std::string core = make_core(dir, crashed);
  ServerProcess server(dir);
  Sleeper first, second;
  pid_t one = first.pid(), other = second.pid();
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, other, 0));
  ASSERT_GE(pidfd, 0);
  int inherited = ::fcntl(pidfd, F_DUPFD, 10);  // without FD_CLOEXEC
  RunResult r = run({program("usercrash_c"), "-c", server.config(),
                     "-k" + std::to_string(inherited) + ":::::1:", std::to_string(one), "crasher", "11"},
                    read_file(core));
  ::close(inherited);
  ::close(pidfd);
  first.stop();
  second.stop();
  auto report = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(report) << server.log() << r.output;
  bool said = false;
  for (const auto& p : (*report)["problems"])
    said = said || p.get<std::string>().find("pidfd names pid") != std::string::npos;
  EXPECT_TRUE(said) << (*report)["problems"].dump();
  EXPECT_TRUE((*report)["exe"].is_null());
}

TEST_F(Identity, ASetuidCrashIsRootOnlyAndHasNoMemory) {
  TempDir dir;
  ServerProcess server(dir, {"report_access=owner"});
  PublicCopy setuid("crasher", 04755);
  CorePatternGuard guard(client_pattern(server.config()));
  SysctlGuard suid("/proc/sys/fs/suid_dumpable", "2");
  CrashResult crash =
      run_crasher("/usr/bin/setpriv", {"--reuid=65534", "--regid=65534", "--clear-groups", setuid.path, "null"});
  ASSERT_TRUE(WIFSIGNALED(crash.status)) << crash.output;
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  EXPECT_TRUE((*r)["secure"].get<bool>());
  EXPECT_EQ((*r)["uid"], 65534);
  EXPECT_TRUE((*r)["memory_near_registers"].empty());
  EXPECT_TRUE((*r)["disassembly"].empty());
  EXPECT_TRUE((*r)["abort_message"].is_null());
  struct stat st {};
  ASSERT_EQ(::stat((server.directory() + "/usercrash_00").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "not handed to the user, even with report_access=owner";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(read_file(server.directory() + "/usercrash_00").find("non-dumpable"), std::string::npos);
}

TEST_F(Identity, AUsersOwnCrashIsReadableByThatUserOnly) {
  TempDir dir;
  ServerProcess server(dir, {"report_access=owner"});
  PublicCopy program_copy("crasher");
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash =
      run_crasher("/usr/bin/setpriv", {"--reuid=65534", "--regid=65534", "--clear-groups", program_copy.path, "null"});
  ASSERT_TRUE(WIFSIGNALED(crash.status));
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  EXPECT_FALSE((*r)["secure"].get<bool>());
  EXPECT_TRUE((*r)["kernel_stack"].empty()) << "the kernel keeps /proc/PID/stack from users; so do we";
  bool said = false;
  for (const auto& t : (*r)["truncated"]) said = said || t.get<std::string>().starts_with("kernel stack: left out");
  EXPECT_TRUE(said) << (*r)["truncated"].dump();
  std::string report = server.directory() + "/usercrash_00";
  struct stat st {};
  ASSERT_EQ(::stat(report.c_str(), &st), 0);
  // Still root's: the user reads it through an ACL entry (tests/attack/owner_access_test.cpp).
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 0707, 0600u);
  ::chmod(dir.path().c_str(), 0711);  // the test's own temp dir, so other users can reach the crash directory
  RunResult mine = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", report});
  EXPECT_EQ(WEXITSTATUS(mine.status), 0) << mine.output;
  EXPECT_NE(mine.output.find("comm: crasher"), std::string::npos);
  RunResult other = run({"setpriv", "--reuid=65533", "--regid=65533", "--clear-groups", "cat", report});
  EXPECT_NE(WEXITSTATUS(other.status), 0) << "another user must not read it";
  RunResult list = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "ls", server.directory()});
  EXPECT_NE(WEXITSTATUS(list.status), 0) << "the directory is searchable, not listable";
}

TEST_F(Identity, ReportsAreRootOnlyByDefault) {
  TempDir dir;
  ServerProcess server(dir);
  PublicCopy program_copy("crasher");
  CorePatternGuard guard(client_pattern(server.config()));
  run_crasher("/usr/bin/setpriv", {"--reuid=65534", "--regid=65534", "--clear-groups", program_copy.path, "null"});
  ASSERT_TRUE(wait_for_report(server.directory(), "usercrash_00")) << server.log();
  struct stat st {};
  ASSERT_EQ(::stat((server.directory() + "/usercrash_00").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(server.directory().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0007, 0u);
}

TEST_F(Identity, AProcessInItsOwnNamespacesDecidesNothingAboutWhereWeWrite) {
  TempDir dir;
  ServerProcess server(dir);
  PublicCopy program_copy("crasher");
  std::string inside = dir / "container";
  ::mkdir(inside.c_str(), 0755);
  CorePatternGuard guard(client_pattern(server.config()));
  // In new pid and mount namespaces: the crash directory and the socket's
  // directory are hidden under empty tmpfs mounts, and the program runs from
  // a path that exists only in there.
  std::string script = "mount -t tmpfs none " + server.directory() + " && mount -t tmpfs none " + (dir / "run") +
                       " && mount -t tmpfs none " + inside + " && cp " + program_copy.path + " " + inside +
                       "/crasher && exec " + inside + "/crasher null";
  CrashResult crash = run_crasher("/usr/bin/unshare", {"--pid", "--fork", "--mount-proc", "--mount", "--propagation",
                                                       "private", "/bin/sh", "-c", script});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log() << crash.output;
  EXPECT_EQ((*r)["namespace_pid"], 1);
  EXPECT_NE((*r)["pid"], 1);
  EXPECT_EQ((*r)["exe"], inside + "/crasher");
  EXPECT_FALSE(exists(inside + "/crasher")) << "that path exists only inside the container";
  const json& t = (*r)["threads"][0];
  bool symbolized = false;
  for (const auto& f : t["frames"]) symbolized = symbolized || f["function"] == "write_through";
  EXPECT_TRUE(symbolized) << "the binary is read through /proc/<pid>/map_files";
  EXPECT_NE(read_file(server.directory() + "/usercrash_00").find("pid in its namespace: 1"), std::string::npos);
}

TEST_F(Identity, OurOwnClientCrashingDoesNotComeBackToUs) {
  TempDir dir;
  ServerProcess server(dir);
  CorePatternGuard guard(client_pattern(server.config()));
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  Sleeper sleeping;
  pid_t sleeper = sleeping.pid();
  pid_t client = ::fork();
  if (client == 0) {
    ::dup2(in[0], 0);
    std::string exe = program("usercrash_c");
    // Collecting here, not in the warm collector (warm_collector_test.cpp
    // crashes one of its processes).
    ::execl(exe.c_str(), exe.c_str(), "-c", server.config().c_str(), "-o", "warm_collector=no",
            std::to_string(sleeper).c_str(), "sleep", "11", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  // Wait until it is blocked reading the core head (read(0, ...) is syscall 0 on
  // x86_64), well past the point where it made itself non-dumpable.
  EXPECT_TRUE(
      eventually([&] { return read_file("/proc/" + std::to_string(client) + "/syscall").starts_with("0 0x0 "); },
                 std::chrono::seconds(10)));
  // SIGABRT, a core-dumping signal that sanitizer builds do not intercept.
  ::kill(client, SIGABRT);
  int status = 0;
  ::waitpid(client, &status, 0);
  ::close(in[1]);
  sleeping.stop();
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(WCOREDUMP(status)) << "non-dumpable: the kernel must not dump it";
  // Had the kernel run a helper for that crash, it would have started it
  // before the process was reaped, and the report is published before a
  // client exits: once no client runs, the answer is final.
  EXPECT_TRUE(eventually([&] { return !clients_running(server.config()); }));
  EXPECT_TRUE(list_reports(server.directory()).empty()) << "no report of our own crash, no loop";
}

}  // namespace
}  // namespace usercrash::test
