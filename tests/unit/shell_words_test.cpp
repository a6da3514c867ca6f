// Words quoted for a person's shell, and the words of one -A argument.
#include "util/shell_words.h"

#include <gtest/gtest.h>

namespace usercrash::util {
namespace {

using Words = std::vector<std::string>;

TEST(ShellQuote, PlainWordsStayAndTheRestIsSingleQuoted) {
  EXPECT_EQ(shell_quote("/usr/bin/gdb"), "/usr/bin/gdb");
  EXPECT_EQ(shell_quote("--core=/tmp/x,y:z@1%+"), "--core=/tmp/x,y:z@1%+");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("$(touch pwned)"), "'$(touch pwned)'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("a;b|c&d`e`*?~!#\\"), "'a;b|c&d`e`*?~!#\\'");
  EXPECT_EQ(shell_quote("/tmp/été"), "'/tmp/été'");
}

TEST(ShellQuote, RefusesWhatATerminalWouldNotShowAsItIs) {
  for (std::string_view bad :
       {std::string_view("a\nb"), std::string_view("a\tb"), std::string_view("\x1b[31m"), std::string_view("a\x7f"),
        std::string_view("\xff\xfe"), std::string_view("\u202Eevil"), std::string_view("a\0b", 3)})
    EXPECT_EQ(shell_quote(bad), std::nullopt) << bad;
  EXPECT_EQ(shell_command_line(Words{"gdb", "a\nb"}), std::nullopt);
  EXPECT_EQ(shell_command_line(Words{"gdb", "-batch", "--", "/a b", "/c'd"}), "gdb -batch -- '/a b' '/c'\\''d'");
}

TEST(SplitShellWords, BlanksQuotesAndBackslashes) {
  EXPECT_EQ(split_shell_words(""), Words{});
  EXPECT_EQ(split_shell_words("  \t "), Words{});
  EXPECT_EQ(split_shell_words("-batch -ex bt"), (Words{"-batch", "-ex", "bt"}));
  EXPECT_EQ(split_shell_words("-ex 'bt full'  -ex \"info \\\"x\\\" \\n\""),
            (Words{"-ex", "bt full", "-ex", "info \"x\" \\n"}));
  EXPECT_EQ(split_shell_words("a\\ b c''d ''"), (Words{"a b", "cd", ""}));
  EXPECT_EQ(split_shell_words("$(x) `y` *"), (Words{"$(x)", "`y`", "*"})) << "nothing is expanded";
}

TEST(SplitShellWords, BadInputIsAnErrorAndTheWordsAreBounded) {
  EXPECT_EQ(split_shell_words("'open").error().message, "unterminated single quote");
  EXPECT_EQ(split_shell_words("\"open").error().message, "unterminated double quote");
  EXPECT_EQ(split_shell_words("end\\").error().message, "a backslash ends the text");
  std::string many;
  for (size_t i = 0; i <= kMaxWords; ++i) many += "w ";
  EXPECT_FALSE(split_shell_words(many));
  many.resize(many.size() - 2);
  EXPECT_EQ(split_shell_words(many)->size(), kMaxWords);
}

TEST(ShellWords, AQuotedLineSplitsBackIntoTheSameWords) {
  Words words = {"gdb", "-ex", "bt full", "--", "/x y/it's", "", "$HOME"};
  auto line = shell_command_line(words);
  ASSERT_TRUE(line);
  EXPECT_EQ(split_shell_words(*line), words);
}

}  // namespace
}  // namespace usercrash::util
