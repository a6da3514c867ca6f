// A process names itself like an option ("-h", "--", "--config=x") to slip
// past collection: its comm reaches usercrash_c as an argument. The line
// `usercrashctl enable` writes puts "--" before the operands, the client
// stops reading options at its first operand either way, and whatever the
// command line, the core still reaches the previous handler.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

class OptionNames : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

// The line without "--", as `enable` wrote it before and still writes it
// where "--" does not fit.
std::string line_without_double_dash(const std::string& config) {
  return "|" + program("usercrash_c") + " -c " + config + " -k%F:%I:%u:%g:%t:%d:%c %P %e %s";
}

// Issue 9.6: the report, the previous handler and the saved core, for every
// such name, through the line `enable` writes now and through the old one.
TEST_F(OptionNames, ACommThatLooksLikeAnOptionGetsItsReportChainedHandlerAndCore) {
  for (bool marked : {true, false}) {
    for (const char* comm : {"-x", "-h", "--", "--help", "-c", "--version", "-k1:2"}) {
      SCOPED_TRACE(std::string("comm '") + comm + "', " + (marked ? "with" : "without") + " '--'");
      TempDir dir;
      std::string state = dir / "state", record = dir / "record";
      ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
      ASSERT_EQ(::mkdir(record.c_str(), 0700), 0);
      write_file(state + "/core_pattern.saved", "|" + crasher("record_handler") + " " + record + " %p %s", 0600);
      ServerProcess server(dir, {"save_core=yes", "state_directory=" + state});
      std::string line = marked ? client_pattern(server.config()) : line_without_double_dash(server.config());
      ASSERT_EQ(line.find(" -- ") != std::string::npos, marked) << line;
      CorePatternGuard guard(line);
      ::setenv("CRASHER_NAME", comm, 1);
      CrashResult crash = run_crasher(crasher("crasher"), {"null"});
      ::unsetenv("CRASHER_NAME");
      ASSERT_TRUE(WIFSIGNALED(crash.status));
      auto r = wait_for_report(server.directory(), "usercrash_00");
      ASSERT_TRUE(r) << server.log();
      EXPECT_EQ((*r)["pid"], crash.pid);
      EXPECT_EQ((*r)["comm"], comm);
      EXPECT_EQ((*r)["core"]["saved"], true) << (*r)["core"].dump();
      ASSERT_TRUE(wait_for_file(record + "/done")) << "the previous handler ran";
      EXPECT_GT(read_file(record + "/core").size(), 4096u) << "and got the core";
    }
  }
}

TEST_F(OptionNames, ACommandLineThatCannotBeReadStillPassesTheCoreOn) {
  TempDir dir;
  std::string state = dir / "state", record = dir / "record";
  ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(record.c_str(), 0700), 0);
  write_file(state + "/core_pattern.saved", "|" + crasher("record_handler") + " " + record + " %p %s", 0600);
  ServerProcess server(dir, {"state_directory=" + state});
  std::string core = std::string(8192, 'c');
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"notapid", "x", "11"}, {"1", "x"}, {"1", "x", "999"}}) {
    std::vector<std::string> argv = {program("usercrash_c"), "-c", server.config()};
    argv.insert(argv.end(), args.begin(), args.end());
    ::unlink((record + "/done").c_str());
    RunResult r = run(argv, core);
    EXPECT_EQ(WEXITSTATUS(r.status), 2) << r.output;
    EXPECT_NE(r.output.find("usercrash_c:"), std::string::npos) << r.output;
    ASSERT_TRUE(wait_for_file(record + "/done")) << "the previous handler was run: " << r.output;
    EXPECT_EQ(read_file(record + "/core"), core) << "and got the whole core";
  }
  EXPECT_TRUE(list_reports(server.directory()).empty()) << "no report from a command line that cannot be read";
}

}  // namespace
}  // namespace usercrash::test
