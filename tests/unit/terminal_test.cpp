// The pager and colour decisions of usercrashctl (issue 12.6); the real
// terminal is tried in tests/e2e/terminal_test.cpp (tmux).
#include "tools/ctl/terminal.h"

#include <gtest/gtest.h>

#include "tools/ctl/text.h"

namespace usercrash::tools::ctl {
namespace {

TEST(Terminal, ColourModes) {
  EXPECT_EQ(parse_color_mode("auto"), ColorMode::automatic);
  EXPECT_EQ(parse_color_mode("always"), ColorMode::always);
  EXPECT_EQ(parse_color_mode("never"), ColorMode::never);
  EXPECT_FALSE(parse_color_mode("yes"));
  EXPECT_FALSE(parse_color_mode(""));
}

TEST(Terminal, AutoColoursATerminalUnlessNoColorOrADumbOne) {
  EXPECT_TRUE(use_color(ColorMode::automatic, true, nullptr, "xterm"));
  EXPECT_FALSE(use_color(ColorMode::automatic, false, nullptr, "xterm")) << "a pipe or a file";
  EXPECT_FALSE(use_color(ColorMode::automatic, true, "1", "xterm"));
  EXPECT_TRUE(use_color(ColorMode::automatic, true, "", "xterm")) << "an empty NO_COLOR is unset";
  EXPECT_FALSE(use_color(ColorMode::automatic, true, nullptr, "dumb"));
  EXPECT_FALSE(use_color(ColorMode::automatic, true, nullptr, nullptr));
  EXPECT_TRUE(use_color(ColorMode::always, false, "1", "dumb"));
  EXPECT_FALSE(use_color(ColorMode::never, true, nullptr, "xterm"));
}

TEST(Terminal, ColoursTheSignalTheCauseAndTheCrashingFrameOnly) {
  std::string text =
      "pid: 1, tgid: 1, comm: x\nsignal: 11 (SIGSEGV), code: 1\ncause: null pointer\n\nBackTrace:\n"
      "    #00 pc 0x1  /x (f+0x1)\n    #01 pc 0x2  /x (main+0x2)\n\nThreads backtrace:\nBackTrace:\n"
      "    #00 pc 0x3  /x (g+0x3)\nsignal: again\n";
  EXPECT_EQ(colorize_report(text),
            "pid: 1, tgid: 1, comm: x\n\x1b[1;31msignal: 11 (SIGSEGV), code: 1\x1b[0m\n"
            "\x1b[1mcause: null pointer\x1b[0m\n\nBackTrace:\n"
            "\x1b[1;33m    #00 pc 0x1  /x (f+0x1)\x1b[0m\n    #01 pc 0x2  /x (main+0x2)\n\nThreads backtrace:\n"
            "BackTrace:\n    #00 pc 0x3  /x (g+0x3)\nsignal: again\n");
  EXPECT_EQ(colorize_report("no newline"), "no newline");
  // A crashing thread without frames: no other thread's frame is taken for its.
  EXPECT_EQ(colorize_report("BackTrace:\n    (backtrace stopped: no registers)\n\nThreads backtrace:\n"
                            "--- tid 2 ---\n    #00 pc 0x3  /x (g+0x3)\n"),
            "BackTrace:\n    (backtrace stopped: no registers)\n\nThreads backtrace:\n"
            "--- tid 2 ---\n    #00 pc 0x3  /x (g+0x3)\n");
}

TEST(Terminal, MapLinesKeepsTheLineEndsAsTheyWere) {
  auto bracket = [](std::string_view line, std::string& out) { out += "[" + std::string(line) + "]"; };
  EXPECT_EQ(map_lines("a\n\nb\n", bracket), "[a]\n[]\n[b]\n");
  EXPECT_EQ(map_lines("a\nb", bracket), "[a]\n[b]");
  EXPECT_EQ(map_lines("", bracket), "");
}

TEST(Terminal, PagerCommandIsSplitNeverGivenToAShell) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pager_command(nullptr, nullptr), V{"less"});
  EXPECT_EQ(pager_command(nullptr, "most"), V{"most"});
  EXPECT_EQ(pager_command("less -R", "most"), (V{"less", "-R"})) << "SYSTEMD_PAGER first";
  EXPECT_EQ(pager_command(nullptr, "  less\t-S  -X "), (V{"less", "-S", "-X"}));
  EXPECT_EQ(pager_command("", "most"), V{}) << "empty: no pager";
  EXPECT_EQ(pager_command(nullptr, "cat"), V{});
  EXPECT_EQ(pager_command(nullptr, "less; rm -rf /"), (V{"less;", "rm", "-rf", "/"})) << "words, not a script";
}

}  // namespace
}  // namespace usercrash::tools::ctl
