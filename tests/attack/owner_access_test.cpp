// report_access=owner, tried by the user it serves (issue 9.2): the report of
// their own crash is theirs to read, through cat or usercrashctl, and nothing
// more. Before, the files were chowned to the user, who could then rewrite
// them (and put "--eval-command=..." in the exe root's `usercrashctl gdb`
// passed to gdb, when it still ran gdb), chmod them, pin a ring slot with a far-future mtime, grow them
// without limit, or swap in a hostile .core.zst.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "tools/ctl/time_display.h"

namespace usercrash::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNobodyUid = "65534";
constexpr const char* kOtherUser = "65533";

std::vector<std::string> as_user(const char* uid, std::vector<std::string> argv) {
  std::vector<std::string> prefix = {"setpriv", std::string("--reuid=") + uid, std::string("--regid=") + uid,
                                     "--clear-groups"};
  argv.insert(argv.begin(), prefix.begin(), prefix.end());
  return argv;
}

class OwnerAccess : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    server_ = std::make_unique<ServerProcess>(dir_, std::vector<std::string>{"report_access=owner", "save_core=yes"});
    ::chmod(dir_.path().c_str(), 0711);  // the test's own temp dir: other users reach the crash directory
    // usercrashctl where an ordinary user can run it.
    ::chmod(tools_.path().c_str(), 0755);
    ctl_ = tools_ / "usercrashctl";
    fs::copy_file(program("usercrashctl"), ctl_);
    ::chmod(ctl_.c_str(), 0755);
    PublicCopy program_copy("crasher");
    CorePatternGuard guard(client_pattern(server_->config()));
    run_crasher("/usr/bin/setpriv", {"--reuid=65534", "--regid=65534", "--clear-groups", program_copy.path, "null"});
    ASSERT_TRUE(wait_for_report(server_->directory(), "usercrash_00")) << server_->log();
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         !exists(slot(".core.zst")) && std::chrono::steady_clock::now() < deadline;)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(exists(slot(".core.zst"))) << server_->log();
  }

  std::string slot(const std::string& suffix = "") const { return server_->directory() + "/usercrash_00" + suffix; }
  RunResult user_ctl(const char* uid, std::vector<std::string> args) {
    args.insert(args.begin(), {ctl_, "--config", server_->config()});
    return run(as_user(uid, args));
  }

  TempDir dir_, tools_;
  std::unique_ptr<ServerProcess> server_;
  std::string ctl_;
};

TEST_F(OwnerAccess, TheFilesStayRootsAndTheOwnerReadsThem) {
  for (const char* suffix : {"", ".json", ".core.zst"}) {
    struct stat st {};
    ASSERT_EQ(::stat(slot(suffix).c_str(), &st), 0) << suffix;
    EXPECT_EQ(st.st_uid, 0u) << suffix;
    EXPECT_EQ(st.st_gid, 0u) << suffix;
    // rw for root; the ACL's mask (r) shows in the group bits; nothing for others.
    EXPECT_EQ(st.st_mode & 0777, 0640u) << suffix;
    RunResult mine = run(as_user(kNobodyUid, {"cat", slot(suffix)}));
    EXPECT_EQ(exit_code(mine), 0) << suffix << ": " << mine.output;
    RunResult other = run(as_user(kOtherUser, {"cat", slot(suffix)}));
    EXPECT_NE(exit_code(other), 0) << suffix << ": another user must not read it";
  }
}

TEST_F(OwnerAccess, EveryTamperingAttemptFails) {
  std::string report = read_file(slot());
  struct stat before {};
  ASSERT_EQ(::stat(slot().c_str(), &before), 0);
  const std::string& crashes = server_->directory();
  const std::vector<std::vector<std::string>> attempts = {
      {"sh", "-c", "echo '{\"exe\": \"--eval-command=shell id\"}' > " + slot(".json")},  // rewrite
      {"sh", "-c", "echo more >> " + slot()},                                            // grow
      {"chmod", "0666", slot()},                                                         // chmod
      {"touch", "-d", "2100-01-01", slot()},                                             // pin the slot
      {"touch", slot()},                                                                 // even "now"
      {"setfacl", "-m", "u:65533:r", slot()},                                            // share it
      {"rm", "-f", slot(".core.zst")},                                                   // remove
      {"sh", "-c", "head -c 1M /dev/zero > " + crashes + "/filler"},                     // fill the directory
      {"sh", "-c", "printf '\\050\\265\\057\\375hostile' > " + crashes + "/usercrash_01.core.zst"},  // plant a core
      {"mv", slot(".core.zst"), crashes + "/moved"},                                                 // swap the core
  };
  for (const auto& attempt : attempts) {
    RunResult r = run(as_user(kNobodyUid, attempt));
    EXPECT_NE(exit_code(r), 0) << attempt.back() << ": " << r.output;
  }
  struct stat after {};
  ASSERT_EQ(::stat(slot().c_str(), &after), 0);
  EXPECT_EQ(read_file(slot()), report);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_TRUE(exists(slot(".core.zst")));
  EXPECT_FALSE(exists(crashes + "/filler"));
  EXPECT_FALSE(exists(crashes + "/usercrash_01.core.zst"));
  EXPECT_EQ(read_file(slot(".json")).find("--eval-command"), std::string::npos);
  // What root's usercrashctl debug prints names the crashed program after
  // "--", as the absolute path it was, and nothing the user wrote.
  TempDir runtime;
  RunResult debug = run({"env", "XDG_RUNTIME_DIR=" + runtime.path(), program("usercrashctl"), "--config",
                         server_->config(), "debug", "0"});
  ASSERT_EQ(exit_code(debug), 0) << debug.output;
  // (The copy of the crasher is gone: a note says so first.)
  size_t at = debug.output.find("\ngdb ");
  ASSERT_NE(at, std::string::npos) << debug.output;
  std::istringstream line(debug.output.substr(at + 1, debug.output.find('\n', at + 1) - at - 1));
  std::vector<std::string> words{std::istream_iterator<std::string>(line), {}};
  ASSERT_EQ(words.size(), 4u) << debug.output;
  EXPECT_EQ(words[1], "--");
  EXPECT_TRUE(words[2].starts_with("/") && words[2].ends_with("/crasher")) << words[2];
  EXPECT_TRUE(words[3].starts_with(runtime.path() + "/usercrashctl-")) << words[3];
  EXPECT_EQ(debug.output.find("eval-command"), std::string::npos) << debug.output;
}

// Issue 12.10: the owner lists and reads their reports through usercrashctl,
// and sees no one else's.
TEST_F(OwnerAccess, UsercrashctlServesTheOwnerTheirReportsOnly) {
  RunResult list = user_ctl(kNobodyUid, {"list"});
  ASSERT_EQ(exit_code(list), 0) << list.output;
  EXPECT_NE(list.output.find("usercrash_00"), std::string::npos) << list.output;
  RunResult info = user_ctl(kNobodyUid, {"info", "--full", "0"});
  ASSERT_EQ(exit_code(info), 0) << info.output;
  EXPECT_EQ(info.output, tools::ctl::show_report_times(read_file(slot()), false));  // its time local (12.8)
  RunResult info_json = user_ctl(kNobodyUid, {"info", "--json", "usercrash_00"});
  EXPECT_EQ(exit_code(info_json), 0) << info_json.output;
  EXPECT_EQ(nlohmann::json::parse(info_json.output)["uid"], 65534);

  RunResult other_list = user_ctl(kOtherUser, {"list"});
  EXPECT_EQ(exit_code(other_list), 0) << other_list.output;
  EXPECT_EQ(other_list.output.find("usercrash_00"), std::string::npos) << other_list.output;
  RunResult other_info = user_ctl(kOtherUser, {"info", "0"});
  EXPECT_EQ(exit_code(other_info), 1) << other_info.output;
  EXPECT_EQ(other_info.output.find("comm: crasher"), std::string::npos) << other_info.output;

  // debug: the owner's own copy of the core, in a directory only they can
  // enter; the other user gets nothing.
  TempDir scratch;
  ::chmod(scratch.path().c_str(), 0777);
  std::string env = "TMPDIR=" + scratch.path();
  RunResult debug = run(as_user(kNobodyUid, {"env", "-u", "XDG_RUNTIME_DIR", env, ctl_, "--config", server_->config(),
                                             "debug", "--exe", "/bin/true", "0"}));
  ASSERT_EQ(exit_code(debug), 0) << debug.output;
  std::string core = debug.output.substr(debug.output.rfind(' ', debug.output.find('\n')) + 1);
  core = core.substr(0, core.find('\n'));
  EXPECT_TRUE(core.starts_with(scratch.path() + "/usercrashctl-")) << debug.output;
  struct stat st {};
  ASSERT_EQ(::stat(fs::path(core).parent_path().c_str(), &st), 0) << core;
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(core.c_str(), &st), 0) << core;
  EXPECT_GT(st.st_size, 0);
  RunResult other_debug = run(as_user(kOtherUser, {"env", env, ctl_, "--config", server_->config(), "debug", "0"}));
  EXPECT_EQ(exit_code(other_debug), 1) << other_debug.output;
}

}  // namespace
}  // namespace usercrash::test
