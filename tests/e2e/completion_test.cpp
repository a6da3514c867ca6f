// The shell completions of usercrashctl and debugger (issue 12.13), run the
// way bash runs them: bash-completion's library sourced, then our file, then
// the completion function called on a command line, COMPREPLY printed.
// The reports offered come from the real usercrashctl's `list --json`.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

const std::string kCompletions = std::string(USERCRASH_SOURCE_DIR) + "/packaging/completions/";

// The words bash offers for LINE (completing its last word; a line ending in
// a space completes a new, empty word), one per line, sorted.
std::string bash_complete(const std::string& file, const std::string& function, const std::string& line) {
  std::string script =
      "source /usr/share/bash-completion/bash_completion || exit 9\n"
      "source \"$1\" || exit 9\n"
      "PATH=\"$3:$PATH\"\n"
      "COMP_LINE=\"$4\"; COMP_POINT=${#COMP_LINE}\n"
      "read -ra COMP_WORDS <<< \"$COMP_LINE\"\n"
      "[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\n"
      "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
      "COMPREPLY=()\n"
      "\"$2\" \"${COMP_WORDS[0]}\" \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
      "if ((${#COMPREPLY[@]})); then printf '%s\\n' \"${COMPREPLY[@]}\" | sort; fi\n";
  RunResult r = run({"bash", "-c", script, "bash", kCompletions + file, function, USERCRASH_BIN_DIR, line});
  EXPECT_EQ(exit_code(r), 0) << line << ": " << r.output;
  return r.output;
}

std::string ctl_complete(const std::string& line) { return bash_complete("usercrashctl.bash", "_usercrashctl", line); }

const std::string kId = "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0";

class Completion : public ::testing::Test {
 protected:
  void SetUp() override {
    ::chmod(crashes_.path().c_str(), 0700);
    write_file(crashes_ / "usercrash_03", "pid: 5\n", 0600);
    write_file(crashes_ / "usercrash_03.json", "{\"pid\": 5, \"id\": \"" + kId + "\"}\n", 0600);
    write_file(crashes_ / "usercrash_11", "pid: 5\n", 0600);  // no JSON, no id
    write_file(config_, "directory = " + crashes_.path() + "\n");
  }

  TempDir crashes_, dir_;
  std::string config_ = dir_ / "usercrash.conf";
};

TEST_F(Completion, UsercrashctlCompletesItsCommands) {
  EXPECT_EQ(ctl_complete("usercrashctl i"), "info\nis-active\n");
  EXPECT_EQ(ctl_complete("usercrashctl --config x st"), "status\n");
  EXPECT_EQ(ctl_complete("crashlogctl dis"), "disable\n");
  std::string all = ctl_complete("usercrashctl ");
  for (const char* command : {"enable", "disable", "status", "is-active", "list", "info", "debug", "gdb", "dump",
                              "analyze", "clean", "symbolize"})
    EXPECT_NE(all.find(std::string(command) + "\n"), std::string::npos) << command << " not in\n" << all;
}

TEST_F(Completion, UsercrashctlCompletesEachCommandsOptionsAndValues) {
  EXPECT_EQ(ctl_complete("usercrashctl enable --m"), "--mode\n");
  EXPECT_EQ(ctl_complete("usercrashctl enable --mode "), "auto\npipe\nsocket\n");
  EXPECT_EQ(ctl_complete("usercrashctl disable --f"), "--force\n");
  EXPECT_EQ(ctl_complete("usercrashctl status --j"), "--json\n");
  EXPECT_EQ(ctl_complete("usercrashctl --con"), "--config\n");
  EXPECT_EQ(ctl_complete("usercrashctl --col"), "--color=always\n--color=auto\n--color=never\n");
  // An option of another command is not offered.
  EXPECT_EQ(ctl_complete("usercrashctl list --for"), "");
}

// What --help names for each command is what its completion offers (besides
// the global options), so an option added to one is missed in the other.
TEST_F(Completion, EachCommandOffersTheOptionsItsHelpNames) {
  std::set<std::string> globals;
  for (const auto& word : lines(ctl_complete("usercrashctl --"))) globals.insert(word);
  std::string help = run({program("usercrashctl"), "--help"}).output;
  std::regex option("--[a-z][a-z-]*");
  for (const char* command :
       {"enable", "disable", "status", "is-active", "list", "info", "debug", "gdb", "dump", "analyze", "clean"}) {
    std::string head = "\n  " + std::string(command) + " ";
    size_t at = help.find(head);
    ASSERT_NE(at, std::string::npos) << command << " not in\n" << help;
    // Its synopsis and description: up to the next command's line.
    std::smatch next;
    std::string rest = help.substr(at + 1);
    std::string usage = std::regex_search(rest.cbegin() + 1, rest.cend(), next, std::regex("\n(  [a-z]|\n)"))
                            ? rest.substr(0, next.position(0) + 1)
                            : rest;
    std::set<std::string> named, offered;
    for (std::sregex_iterator it(usage.begin(), usage.end(), option), end; it != end; ++it) named.insert(it->str());
    for (const auto& word : lines(ctl_complete("usercrashctl " + std::string(command) + " --")))
      if (!globals.contains(word)) offered.insert(word);
    EXPECT_EQ(offered, named) << usage;
  }
}

TEST_F(Completion, InfoAndGdbCompleteTheReportsOfTheConfiguredDirectory) {
  EXPECT_EQ(ctl_complete("usercrashctl --config " + config_ + " info "), kId + "\nusercrash_03\nusercrash_11\n");
  EXPECT_EQ(ctl_complete("usercrashctl --config " + config_ + " info 0f1e"), kId + "\n");
  EXPECT_EQ(ctl_complete("usercrashctl -c " + config_ + " gdb usercrash_1"), "usercrash_11\n");
  EXPECT_EQ(ctl_complete("usercrashctl info --json --config " + config_ + " usercrash_0"), "usercrash_03\n");
  // A configuration that does not exist offers nothing, and says nothing.
  EXPECT_EQ(ctl_complete("usercrashctl --config " + (dir_ / "none.conf") + " info "), "");
}

TEST_F(Completion, DebuggerCompletesItsOptionsAndRunningProcesses) {
  EXPECT_EQ(bash_complete("debugger.bash", "_usercrash_debugger", "debugger --no-"), "--no-memory\n");
  EXPECT_EQ(bash_complete("debugger.bash", "_usercrash_debugger", "usercrash-debugger --thr"), "--threads\n");
  std::string pids = bash_complete("debugger.bash", "_usercrash_debugger", "debugger ");
  EXPECT_NE(("\n" + pids).find("\n1\n"), std::string::npos) << pids;
  // Every word offered is a pid.
  EXPECT_EQ(pids.find_first_not_of("0123456789\n"), std::string::npos) << pids;
}

// Both files name the two commands each serves, and bash-completion finds
// them by command name in a tree laid out as the package installs them.
TEST_F(Completion, TheFilesRegisterBothNamesOfEachProgram) {
  std::string script =
      "source /usr/share/bash-completion/bash_completion || exit 9\n"
      "for f in \"$@\"; do source \"$f\" || exit 9; done\n"
      "complete -p usercrashctl crashlogctl debugger usercrash-debugger\n";
  RunResult r = run({"bash", "-c", script, "bash", kCompletions + "usercrashctl.bash", kCompletions + "debugger.bash"});
  EXPECT_EQ(exit_code(r), 0) << r.output;
  EXPECT_EQ(r.output,
            "complete -F _usercrashctl usercrashctl\ncomplete -F _usercrashctl crashlogctl\n"
            "complete -F _usercrash_debugger debugger\ncomplete -F _usercrash_debugger usercrash-debugger\n");
  // zsh: the files parse, and their #compdef line names both programs.
  for (const char* file : {"_usercrashctl", "_debugger"}) {
    RunResult parse = run({"zsh", "-n", kCompletions + file});
    EXPECT_EQ(exit_code(parse), 0) << file << ": " << parse.output;
  }
  EXPECT_TRUE(read_file(kCompletions + "_usercrashctl").starts_with("#compdef usercrashctl crashlogctl\n"));
  EXPECT_TRUE(read_file(kCompletions + "_debugger").starts_with("#compdef debugger usercrash-debugger\n"));
}

}  // namespace
}  // namespace usercrash::test
