// usercrashctl at a real terminal (issue 12.6): tmux runs it in a pane of 20
// lines, on a private server socket (killed afterwards), and capture-pane
// shows what a person would see: the pager's prompt, and the colours.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

class Terminal : public ::testing::Test {
 protected:
  void SetUp() override {
    ::chmod(crashes_.path().c_str(), 0700);
    std::string text =
        "*** *** ***\npid: 77, tgid: 77, comm: demo\nuid: 0, gid: 0\ntime: 2023-11-14T22:13:20Z\n"
        "signal: 11 (SIGSEGV), code: 1 (SEGV_MAPERR), fault addr: 0x0\n"
        "cause: null pointer dereference\n\nBackTrace:\n"
        "    #00 pc 0x0000000000001139  /usr/bin/demo (crash+0x10)\n"
        "    #01 pc 0x0000000000001150  /usr/bin/demo (main+0x8)\n";
    for (int i = 0; i < 40; ++i) text += "filler line " + std::to_string(i) + "\n";
    write_file(crashes_ / "usercrash_00", text, 0600);
    write_file(config_, "directory = " + crashes_.path() + "\n");
  }
  void TearDown() override { run({"tmux", "-L", socket_, "kill-server"}); }

  // Starts COMMAND (words for sh -c, our own fixed text) in a new pane;
  // "DONE" is printed when it ends.
  void start(const std::string& environment, const std::string& arguments) {
    std::string command = "env " + environment + " " + program("usercrashctl") + " --config " + config_ + " " +
                          arguments + "; echo DONE; sleep 600";
    RunResult r = run(
        {"tmux", "-L", socket_, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "20", "sh", "-c", command});
    ASSERT_EQ(r.status, 0) << r.output;
  }
  std::string screen(bool with_escapes = false) {
    std::vector<std::string> argv = {"tmux", "-L", socket_, "capture-pane", "-p", "-t", "0"};
    if (with_escapes) argv.push_back("-e");
    return run(argv).output;
  }
  bool shows(const std::string& text) {
    return eventually([&] { return screen().find(text) != std::string::npos; }, std::chrono::seconds(10));
  }

  TempDir crashes_, dir_;
  std::string config_ = dir_ / "usercrash.conf";
  std::string socket_ = "usercrash-test-" + std::to_string(::getpid());
};

TEST_F(Terminal, InfoGoesThroughThePagerUntilItIsQuit) {
  start("PAGER=less TERM=screen", "info 0");
  ASSERT_TRUE(shows("lines 1-")) << screen();  // less's prompt (LESS=FRSXMK: M)
  EXPECT_NE(screen().find("cause: null pointer dereference"), std::string::npos) << screen();
  EXPECT_EQ(screen().find("DONE"), std::string::npos) << screen();
  run({"tmux", "-L", socket_, "send-keys", "-t", "0", "q"});
  EXPECT_TRUE(shows("DONE")) << screen();
}

TEST_F(Terminal, NoPagerAndAnEmptyPagerPrintStraightToTheTerminal) {
  start("PAGER=less TERM=screen", "--no-pager info 0");
  ASSERT_TRUE(shows("DONE")) << screen();
  EXPECT_EQ(screen().find("lines 1-"), std::string::npos) << screen();
  EXPECT_NE(screen().find("filler line 39"), std::string::npos) << screen();
  run({"tmux", "-L", socket_, "kill-server"});
  start("SYSTEMD_PAGER= PAGER=less TERM=screen", "info 0");
  ASSERT_TRUE(shows("DONE")) << screen();
  EXPECT_EQ(screen().find("lines 1-"), std::string::npos) << screen();
}

TEST_F(Terminal, SignalCauseAndCrashingFrameAreColouredUnlessNoColor) {
  start("TERM=screen", "--no-pager info 0");
  ASSERT_TRUE(shows("DONE")) << screen();
  std::string colours = screen(true);
  auto line_before = [&](const std::string& text) {
    size_t at = colours.find(text);
    if (at == std::string::npos) return std::string();
    size_t start = colours.rfind('\n', at);
    return colours.substr(start == std::string::npos ? 0 : start + 1,
                          at - (start == std::string::npos ? 0 : start + 1));
  };
  EXPECT_NE(line_before("signal: 11").find("31"), std::string::npos) << colours;      // red
  EXPECT_NE(line_before("cause: null").find("\x1b["), std::string::npos) << colours;  // bold
  EXPECT_NE(line_before("#00 pc").find("33"), std::string::npos) << colours;          // yellow
  EXPECT_EQ(line_before("#01 pc").find("\x1b["), std::string::npos) << colours;       // only the crashing frame
  run({"tmux", "-L", socket_, "kill-server"});

  start("NO_COLOR=1 TERM=screen", "--no-pager info 0");
  ASSERT_TRUE(shows("DONE")) << screen();
  colours = screen(true);
  EXPECT_EQ(line_before("signal: 11").find("\x1b["), std::string::npos) << colours;
  EXPECT_EQ(colours.find("\x1b[1;31m"), std::string::npos) << colours;
  EXPECT_EQ(colours.find("31m"), std::string::npos) << colours;
}

}  // namespace
}  // namespace usercrash::test
