// usercrashctl enable / disable / status / is-active against the real
// kernel settings (what plain files can stand in for is tested in
// tests/unit/ctl_enable_test.cpp). Every test holds a CorePatternGuard: it
// serializes the tests that touch core_pattern and puts the machine's own
// values back whatever usercrashctl did or failed to do.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

constexpr const char* kCorePattern = "/proc/sys/kernel/core_pattern";
constexpr const char* kPipeLimit = "/proc/sys/kernel/core_pipe_limit";

size_t line_count(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// A private setup: config (directory, sockets, state directory) in a temp
// directory, and a server that may be started.
struct Private {
  TempDir dir;
  ServerProcess server{dir, {"state_directory=" + dir / "state"}, /*start=*/false};

  RunResult ctl(std::vector<std::string> args, const std::string& name = "usercrashctl") {
    std::vector<std::string> argv = {program(name.c_str()), "--config", server.config()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  std::string state(const char* file) const { return dir / "state" + "/" + file; }
  std::string kernel_socket() const { return dir / "run/core.sock"; }
};

class CtlEnable : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

TEST_F(CtlEnable, EnableInstallsTheClientLineAndDisableRestoresAPipeWithArguments) {
  Private s;
  CorePatternGuard guard("|/bin/true --previous-handler 'x y' %p %e", 7);
  const std::string before = read_file(kCorePattern), before_limit = read_file(kPipeLimit);
  ASSERT_EQ(before, "|/bin/true --previous-handler 'x y' %p %e\n");

  RunResult on = s.ctl({"enable"});
  ASSERT_EQ(exit_code(on), 0) << on.output;
  // "--" before the operands, unless only leaving it out makes the line fit.
  std::string head = "|" + program("usercrash_c") + " -c " + s.server.config() + " -k%F:%I:%u:%g:%t:%d:%c";
  std::string expected = head + (head.size() + 12 <= 127 ? " -- %P %e %s" : " %P %e %s");
  EXPECT_EQ(read_file(kCorePattern), expected + "\n");
  EXPECT_EQ(read_file(kPipeLimit), "0\n");
  EXPECT_NE(on.output.find("usercrash enabled (pipe mode)"), std::string::npos) << on.output;
  // What the client's chaining will read: the previous pattern, exactly, no newline.
  EXPECT_EQ(read_file(s.state("core_pattern.saved")), "|/bin/true --previous-handler 'x y' %p %e");
  struct stat st {};
  ASSERT_EQ(::stat((s.dir / "state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(st.st_uid, 0u);
  ASSERT_EQ(::stat(s.state("core_pattern.saved").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  RunResult off = s.ctl({"disable"});
  ASSERT_EQ(exit_code(off), 0) << off.output;
  EXPECT_EQ(read_file(kCorePattern), before);
  EXPECT_EQ(read_file(kPipeLimit), before_limit);
  EXPECT_FALSE(exists(s.state("core_pattern.saved")));
  EXPECT_FALSE(exists(s.state("enable.state")));
}

class CtlRestore : public CtlEnable, public ::testing::WithParamInterface<std::pair<const char*, int>> {};

TEST_P(CtlRestore, DisableRestoresExactlyWhatWasThere) {
  auto [previous, limit] = GetParam();
  Private s;
  CorePatternGuard guard(previous, limit);
  const std::string before = read_file(kCorePattern), before_limit = read_file(kPipeLimit);
  ASSERT_EQ(exit_code(s.ctl({"enable"})), 0);
  ASSERT_NE(read_file(kCorePattern), before);
  RunResult off = s.ctl({"disable"});
  ASSERT_EQ(exit_code(off), 0) << off.output;
  EXPECT_EQ(read_file(kCorePattern), before);
  EXPECT_EQ(read_file(kPipeLimit), before_limit);
}

std::string pattern_case_name(const ::testing::TestParamInfo<std::pair<const char*, int>>& info) {
  static const char* const names[] = {"PlainCore", "TrailingSpaces", "FileWithSpecifiers", "Empty",
                                      "PipeWithArguments"};
  return names[info.index];
}

INSTANTIATE_TEST_SUITE_P(Patterns, CtlRestore,
                         ::testing::Values(std::pair{"core", 0}, std::pair{"core.%p  ", 64},
                                           std::pair{"/var/tmp/core.%e.%p.%t", 3}, std::pair{"", 1},
                                           std::pair{"|/bin/false -a -b %P %u %s", 12}),
                         pattern_case_name);

TEST_F(CtlEnable, EnableRefusesALineTooLongForTheKernel) {
  Private s;
  CorePatternGuard guard("core", 2);
  // A client path that makes the line 128 bytes or more.
  std::string deep = s.dir.path();
  while (deep.size() < 100) {
    deep += "/deeper";
    ::mkdir(deep.c_str(), 0755);
  }
  std::string client = deep + "/usercrash_c";
  RunResult cp = run({"cp", program("usercrash_c"), client});
  ASSERT_EQ(exit_code(cp), 0) << cp.output;
  RunResult on = s.ctl({"enable", "--client", client});
  EXPECT_EQ(exit_code(on), 1) << on.output;
  EXPECT_EQ(line_count(on.output), 1u) << on.output;
  EXPECT_NE(on.output.find("127"), std::string::npos) << on.output;
  EXPECT_NE(on.output.find("nothing changed"), std::string::npos) << on.output;
  EXPECT_EQ(read_file(kCorePattern), "core\n");
  EXPECT_EQ(read_file(kPipeLimit), "2\n");
  EXPECT_FALSE(exists(s.state("enable.state")));
}

TEST_F(CtlEnable, SocketModeWritesTheKernelSocketAndDisableRestores) {
  Private s;
  CorePatternGuard guard("core", 4);
  RunResult on = s.ctl({"enable", "--mode", "socket"});
  ASSERT_EQ(exit_code(on), 0) << on.output;
  EXPECT_EQ(read_file(kCorePattern), "@@" + s.kernel_socket() + "\n");
  // Nothing listens there: enable says crashes are dropped until the server does.
  EXPECT_NE(on.output.find("nothing listens"), std::string::npos) << on.output;
  RunResult status = s.ctl({"status"});
  EXPECT_EQ(exit_code(status), 0) << status.output;
  EXPECT_NE(status.output.find("usercrash (socket mode"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("kernel socket:   nothing listens"), std::string::npos) << status.output;
  ASSERT_EQ(exit_code(s.ctl({"disable"})), 0);
  EXPECT_EQ(read_file(kCorePattern), "core\n");
  EXPECT_EQ(read_file(kPipeLimit), "4\n");
}

TEST_F(CtlEnable, AutoModeTakesThePipeWhenNothingListensOnTheKernelSocket) {
  Private s;
  CorePatternGuard guard("core", 0);
  RunResult on = s.ctl({"enable", "--mode", "auto"});
  ASSERT_EQ(exit_code(on), 0) << on.output;
  EXPECT_TRUE(read_file(kCorePattern).starts_with("|" + program("usercrash_c"))) << read_file(kCorePattern);
  EXPECT_NE(on.output.find("using pipe mode"), std::string::npos) << on.output;
  ASSERT_EQ(exit_code(s.ctl({"disable"})), 0);
}

// Issue 9.8: the server is asked over its own socket whether it listens on
// the kernel socket; /proc/net/unix shows the name the socket was bound to
// (".new-PID"), so reading it said nothing listened while usercrash_s did.
TEST_F(CtlEnable, AutoModeTakesTheSocketWhenTheServerListensOnIt) {
  Private s;
  s.server.start();
  {
    CorePatternGuard guard("core", 0);
    RunResult on = s.ctl({"enable", "--mode", "auto"});
    EXPECT_EQ(exit_code(on), 0) << on.output;
    EXPECT_EQ(read_file(kCorePattern), "@@" + s.kernel_socket() + "\n");
    RunResult status = s.ctl({"status"});
    EXPECT_NE(status.output.find("kernel socket:   listening on " + s.kernel_socket()), std::string::npos)
        << status.output;
    EXPECT_EQ(exit_code(s.ctl({"disable"})), 0);
    EXPECT_EQ(read_file(kCorePattern), "core\n");
  }
}

// Issue 12.9 and 9.8: an ordinary user's status tells the truth about the
// server, which answers them too, with less.
TEST_F(CtlEnable, StatusAsAnOrdinaryUserSeesTheRunningServer) {
  Private s;
  CorePatternGuard guard("core", 0);
  s.server.start();
  ::chmod(s.dir.path().c_str(), 0711);
  TempDir tools;
  ::chmod(tools.path().c_str(), 0755);
  std::string ctl = tools / "usercrashctl";
  std::filesystem::copy_file(program("usercrashctl"), ctl);
  ::chmod(ctl.c_str(), 0755);
  RunResult user = run(
      {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ctl, "--config", s.server.config(), "status"});
  EXPECT_EQ(exit_code(user), 3) << user.output;
  EXPECT_NE(user.output.find("server:          running, pid " + std::to_string(s.server.pid())), std::string::npos)
      << user.output;
  EXPECT_NE(user.output.find("kernel socket:   listening on"), std::string::npos) << user.output;
  EXPECT_EQ(user.output.find("dumps:"), std::string::npos) << "the counters are root's business\n" << user.output;
  RunResult root = s.ctl({"status"});
  EXPECT_NE(root.output.find("dumps:           0 running, 0 queued (max_concurrent 1)"), std::string::npos)
      << root.output;
  // --json: the same facts for scripts.
  RunResult as_json = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ctl, "--config",
                           s.server.config(), "status", "--json"});
  auto doc = nlohmann::json::parse(as_json.output);
  EXPECT_EQ(doc["active"], false);
  EXPECT_EQ(doc["server"]["running"], true);
  EXPECT_EQ(doc["server"]["pid"], s.server.pid());
  EXPECT_EQ(doc["server"]["kernel_socket_listening"], true);
  EXPECT_TRUE(doc["server"]["details"].is_null());
  EXPECT_EQ(doc["handler"]["kind"], "file");
  auto root_json = nlohmann::json::parse(s.ctl({"status", "--json"}).output);
  EXPECT_EQ(root_json["server"]["details"]["max_concurrent"], 1);
}

TEST_F(CtlEnable, StatusAndIsActiveSayHowThingsStand) {
  Private s;
  CorePatternGuard guard("core", 0);
  RunResult off = s.ctl({"status"});
  EXPECT_EQ(exit_code(off), 3) << off.output;
  EXPECT_NE(off.output.find("core_pattern:    core\n"), std::string::npos) << off.output;
  EXPECT_NE(off.output.find("handler:         none"), std::string::npos) << off.output;
  EXPECT_NE(off.output.find("enabled:         no"), std::string::npos) << off.output;
  EXPECT_NE(off.output.find("server:          not running"), std::string::npos) << off.output;
  RunResult inactive = s.ctl({"is-active"});
  EXPECT_EQ(exit_code(inactive), 3);
  EXPECT_EQ(inactive.output, "inactive\n");
  RunResult quiet = s.ctl({"is-active", "--quiet"});
  EXPECT_EQ(exit_code(quiet), 3);
  EXPECT_EQ(quiet.output, "");

  s.server.start();
  ASSERT_EQ(exit_code(s.ctl({"enable"})), 0);
  RunResult on = s.ctl({"status"});
  EXPECT_EQ(exit_code(on), 0) << on.output;
  EXPECT_NE(on.output.find("handler:         usercrash (pipe mode, " + program("usercrash_c") + ")"), std::string::npos)
      << on.output;
  EXPECT_NE(on.output.find("core_pipe_limit: 0\n"), std::string::npos) << on.output;
  EXPECT_NE(on.output.find("enabled:         yes"), std::string::npos) << on.output;
  EXPECT_NE(on.output.find("disable restores core_pattern 'core', core_pipe_limit 0"), std::string::npos) << on.output;
  EXPECT_NE(on.output.find("passed on:       core files named 'core', written as the kernel would"), std::string::npos)
      << on.output;
  EXPECT_NE(on.output.find("server:          running, pid " + std::to_string(s.server.pid()) + " (answers on " +
                           s.server.socket() + ")"),
            std::string::npos)
      << on.output;
  EXPECT_NE(on.output.find("reports:         0 in " + s.server.directory()), std::string::npos) << on.output;

  // The line enable installed works: a crash becomes a report.
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  auto report = wait_for_report(s.server.directory(), "usercrash_00");
  ASSERT_TRUE(report) << s.server.log();
  EXPECT_EQ((*report)["pid"], crash.pid);
  RunResult after = s.ctl({"status"});
  EXPECT_NE(after.output.find("reports:         1 in " + s.server.directory()), std::string::npos) << after.output;

  RunResult active = s.ctl({"is-active"}, "crashlogctl");
  EXPECT_EQ(exit_code(active), 0) << active.output;
  EXPECT_EQ(active.output, "active\n");
  EXPECT_EQ(exit_code(s.ctl({"is-active", "--quiet"})), 0);

  s.server.stop();
  RunResult stopped = s.ctl({"status"});
  EXPECT_EQ(exit_code(stopped), 0);
  EXPECT_NE(stopped.output.find("server:          not running"), std::string::npos) << stopped.output;
  ASSERT_EQ(exit_code(s.ctl({"disable"})), 0);
  EXPECT_EQ(read_file(kCorePattern), "core\n");
}

TEST_F(CtlEnable, CrashlogctlEnableDisableIsActive) {
  Private s;
  CorePatternGuard guard("core", 6);
  RunResult on = s.ctl({"enable"}, "crashlogctl");
  ASSERT_EQ(exit_code(on), 0) << on.output;
  EXPECT_TRUE(read_file(kCorePattern).starts_with("|" + program("usercrash_c")));
  EXPECT_EQ(exit_code(s.ctl({"is-active", "--quiet"}, "crashlogctl")), 0);
  ASSERT_EQ(exit_code(s.ctl({"disable"}, "crashlogctl")), 0);
  EXPECT_EQ(read_file(kCorePattern), "core\n");
  EXPECT_EQ(read_file(kPipeLimit), "6\n");
  EXPECT_EQ(exit_code(s.ctl({"is-active", "--quiet"}, "crashlogctl")), 3);
}

TEST_F(CtlEnable, AnInterruptDuringEnableLeavesItWholeOrUndone) {
  // SIGTERM sent at once: enable either completes (and disable then
  // restores) or never started; core_pattern is never left half-changed.
  Private s;
  CorePatternGuard guard("core.%p", 8);
  int completed = 0;
  for (int i = 0; i < 30; ++i) {
    pid_t child = ::fork();
    if (child == 0) {
      std::string exe = program("usercrashctl"), config = s.server.config();
      ::execl(exe.c_str(), exe.c_str(), "--config", config.c_str(), "enable", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::usleep(static_cast<useconds_t>(i * 400));
    ::kill(child, SIGTERM);
    int status = 0;
    ::waitpid(child, &status, 0);
    std::string now = read_file(kCorePattern);
    bool enabled = exists(s.state("enable.state"));
    if (enabled) {
      ++completed;
      EXPECT_TRUE(now.starts_with("|" + program("usercrash_c"))) << now;
      EXPECT_EQ(read_file(s.state("core_pattern.saved")), "core.%p");
      ASSERT_EQ(exit_code(s.ctl({"disable"})), 0);
    } else {
      EXPECT_EQ(now, "core.%p\n");
    }
    EXPECT_EQ(read_file(kCorePattern), "core.%p\n");
    EXPECT_EQ(read_file(kPipeLimit), "8\n");
  }
  RecordProperty("enables_completed", completed);
}

TEST(CtlUsage, BadArgumentsGiveTheMessageAndTheHintAndExit2) {
  TempDir dir;
  ServerProcess server(dir, {"state_directory=" + dir / "state"}, /*start=*/false);
  for (auto args : std::vector<std::vector<std::string>>{
           {},
           {"bogus"},
           {"--bogus", "status"},
           {"enable", "--mode", "carrier-pigeon"},
           {"enable", "extra"},
           {"enable", "--mode"},
           {"enable", "--sysctl-file", "relative.conf"},
           {"disable", "--bogus"},
           {"status", "now"},
           {"is-active", "-x"},
           {"list", "--json=yes"},
           {"info"},
           {"info", "1", "2"},
           {"info", "latest"},
           {"gdb"},
           {"gdb", "-1"},
           {"analyze"},
           {"analyze", "a", "b"},
           {"clean", "--older-than", "soon"},
           {"clean", "--older-than"},
       }) {
    std::vector<std::string> argv = {program("usercrashctl"), "--config", server.config()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run(argv);
    std::string what = ::testing::PrintToString(args);
    EXPECT_EQ(exit_code(r), 2) << what << ": " << r.output;
    // One shape for every usage error of every program: the message, then the hint.
    EXPECT_EQ(line_count(r.output), 2u) << what << ": " << r.output;
    EXPECT_TRUE(r.output.starts_with("usercrashctl: ")) << what << ": " << r.output;
    EXPECT_TRUE(r.output.ends_with("\nTry 'usercrashctl --help' for more information.\n")) << what << ": " << r.output;
  }
  RunResult no_config = run({program("usercrashctl"), "--config", dir / "missing.conf", "status"});
  EXPECT_EQ(exit_code(no_config), 2) << no_config.output;
  EXPECT_EQ(line_count(no_config.output), 1u) << no_config.output;
}

TEST(CtlUsage, EveryProgramHasHelpAndVersion) {
  for (const char* name : {"usercrashctl", "crashlogctl", "usercrash_s", "usercrash_c"}) {
    RunResult help = run({program(name), "--help"});
    EXPECT_EQ(exit_code(help), 0) << name;
    EXPECT_TRUE(help.output.starts_with("Usage: ")) << name << ": " << help.output;
    RunResult version = run({program(name), "--version"});
    EXPECT_EQ(exit_code(version), 0) << name;
    EXPECT_EQ(version.output, std::string(name) + " " + USERCRASH_VERSION + "\n") << name;
  }
}

}  // namespace
}  // namespace usercrash::test
