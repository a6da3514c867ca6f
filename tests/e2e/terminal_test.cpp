// usercrashctl at a real terminal (issue 12.6): tmux runs it in a pane of 20
// lines, on a private server socket (killed afterwards), and capture-pane
// shows what a person would see: the pager's prompt, and the colours. Each
// start() gets a server of its own: "kill-server" returns before the old
// server has gone, and a new session on its socket could reach the dying
// server ("server exited unexpectedly").
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
  void TearDown() override {
    for (const auto& socket : sockets_) run({"tmux", "-S", socket, "kill-server"});
  }

  // Starts usercrashctl with ARGUMENTS (words for sh -c, our own fixed
  // text) in a pane of a new tmux server, in ENVIRONMENT over one without
  // the pager and colour variables of whoever runs the tests; "DONE" is
  // printed when it ends.
  void start(const std::string& environment, const std::string& arguments) {
    socket_ = dir_ / ("tmux-" + std::to_string(sockets_.size()));
    sockets_.push_back(socket_);
    std::string command = "env -u SYSTEMD_PAGER -u PAGER -u LESS -u NO_COLOR " + environment + " " +
                          program("usercrashctl") + " --config " + config_ + " " + arguments + "; echo DONE; sleep 600";
    RunResult r = run(
        {"tmux", "-S", socket_, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "20", "sh", "-c", command});
    ASSERT_EQ(r.status, 0) << r.output;
  }
  // The pane with its scrollback ("-S -"): what printed more than a screen
  // scrolled its first lines out of the visible part.
  std::string screen(bool with_escapes = false) {
    std::vector<std::string> argv = {"tmux", "-S", socket_, "capture-pane", "-p", "-S", "-", "-t", "0"};
    if (with_escapes) argv.push_back("-e");
    return run(argv).output;
  }
  bool shows(const std::string& text) {
    return eventually([&] { return screen().find(text) != std::string::npos; }, std::chrono::seconds(10));
  }

  TempDir crashes_, dir_;
  std::string config_ = dir_ / "usercrash.conf";
  std::string socket_;                // the current server's
  std::vector<std::string> sockets_;  // every server started, for TearDown
};

TEST_F(Terminal, InfoGoesThroughThePagerUntilItIsQuit) {
  start("PAGER=less TERM=screen", "info --full 0");
  ASSERT_TRUE(shows("lines 1-")) << screen();  // less's prompt (LESS=FRSXMK: M)
  EXPECT_NE(screen().find("cause: null pointer dereference"), std::string::npos) << screen();
  EXPECT_EQ(screen().find("DONE"), std::string::npos) << screen();
  run({"tmux", "-S", socket_, "send-keys", "-t", "0", "q"});
  EXPECT_TRUE(shows("DONE")) << screen();
}

TEST_F(Terminal, NoPagerAndAnEmptyPagerPrintStraightToTheTerminal) {
  start("PAGER=less TERM=screen", "--no-pager info --full 0");
  ASSERT_TRUE(shows("DONE")) << screen();
  EXPECT_EQ(screen().find("lines 1-"), std::string::npos) << screen();
  EXPECT_NE(screen().find("filler line 39"), std::string::npos) << screen();
  start("SYSTEMD_PAGER= PAGER=less TERM=screen", "info --full 0");
  ASSERT_TRUE(shows("DONE")) << screen();
  EXPECT_EQ(screen().find("lines 1-"), std::string::npos) << screen();
}

// The style a cell has in capture-pane -e's output, whose SGR sequences
// change the style where it changes on the screen and carry over from line
// to line (a reset at the end of a line shows as an escape at the start of
// the next one): the escapes before AT, replayed.
struct Style {
  bool bold = false;
  int foreground = -1;  // 0-7, or -1 for the default
};

Style style_at(const std::string& capture, size_t at) {
  Style style;
  for (size_t i = capture.find("\x1b["); i < at; i = capture.find("\x1b[", i + 1)) {
    size_t end = capture.find_first_not_of("0123456789;", i + 2);
    if (end == std::string::npos || capture[end] != 'm') continue;
    std::vector<int> codes;
    for (size_t p = i + 2; p <= end;) {
      size_t q = capture.find_first_of(";m", p);
      codes.push_back(q == p ? 0 : std::stoi(capture.substr(p, q - p)));
      p = q + 1;
    }
    for (size_t k = 0; k < codes.size(); ++k) {
      int c = codes[k];
      if (c == 0) style = Style{};
      else if (c == 1) style.bold = true;
      else if (c == 22) style.bold = false;
      else if (c >= 30 && c <= 37) style.foreground = c - 30;
      else if (c >= 90 && c <= 97) style.foreground = c - 90;
      else if (c == 39) style.foreground = -1;
      else if (c == 38 || c == 48) k += k + 1 < codes.size() && codes[k + 1] == 5 ? 2 : 4;  // 256 colours, RGB
    }
  }
  return style;
}

TEST_F(Terminal, SignalCauseAndCrashingFrameAreColouredUnlessNoColor) {
  start("TERM=screen", "--no-pager info 0");
  ASSERT_TRUE(shows("DONE")) << screen();
  std::string colours = screen(true);
  auto style_of = [&](const std::string& text) {
    size_t at = colours.find(text);
    EXPECT_NE(at, std::string::npos) << text << " not in\n" << colours;
    return style_at(colours, at);
  };
  Style signal = style_of("signal: 11"), cause = style_of("cause: null"), crashing = style_of("#00 pc"),
        caller = style_of("#01 pc"), pid = style_of("pid: 77");
  EXPECT_TRUE(signal.bold && signal.foreground == 1) << colours;      // bold red
  EXPECT_TRUE(cause.bold && cause.foreground == -1) << colours;       // bold
  EXPECT_TRUE(crashing.bold && crashing.foreground == 3) << colours;  // bold yellow
  EXPECT_TRUE(!caller.bold && caller.foreground == -1) << colours;    // only the crashing frame
  EXPECT_TRUE(!pid.bold && pid.foreground == -1) << colours;          // and no other line
  EXPECT_TRUE(!style_of("DONE").bold && style_of("DONE").foreground == -1) << "reset at the end\n" << colours;

  start("NO_COLOR=1 TERM=screen", "--no-pager info 0");
  ASSERT_TRUE(shows("DONE")) << screen();
  colours = screen(true);
  for (const char* text : {"signal: 11", "cause: null", "#00 pc", "DONE"}) {
    Style plain = style_of(text);
    EXPECT_TRUE(!plain.bold && plain.foreground == -1) << text << "\n" << colours;
  }
  EXPECT_EQ(colours.find("\x1b["), std::string::npos) << colours;
}

}  // namespace
}  // namespace usercrash::test
