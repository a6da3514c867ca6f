// enable/disable over plain files standing in for the two sysctls (the
// kernel's read-back rule is the same: the value and one '\n'), so every
// path, failures included, runs without root.
#include "tools/enabler.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace usercrash::tools {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void put(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

class Enabler : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/usercrash-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    paths_.kernel.core_pattern = root_ + "/core_pattern";
    paths_.kernel.core_pipe_limit = root_ + "/core_pipe_limit";
    paths_.state_directory = root_ + "/state";
    paths_.sysctl_file = root_ + "/50-usercrash.conf";
    set_kernel("|/usr/lib/other-handler --flag %p %e", "7");
  }
  void TearDown() override { fs::remove_all(root_); }

  void set_kernel(const std::string& pattern, const std::string& limit) {
    put(paths_.kernel.core_pattern, pattern + "\n");
    put(paths_.kernel.core_pipe_limit, limit + "\n");
  }
  std::string pattern() const { return slurp(paths_.kernel.core_pattern); }
  std::string limit() const { return slurp(paths_.kernel.core_pipe_limit); }
  bool state_exists(const char* name) const { return fs::exists(paths_.state_directory + "/" + name); }

  EnableRequest pipe_request() const {
    EnableRequest r;
    r.mode = Mode::pipe;
    r.pattern = "|/usr/sbin/usercrash_c -k%F:%I:%u:%g:%t:%d:%c %P %e %s";
    r.kernel_socket = "/run/usercrash/coredump.sock";
    return r;
  }

  std::string root_;
  EnablePaths paths_;
};

TEST_F(Enabler, EnableSavesThenInstallsAndDisableRestoresByteForByte) {
  const std::string before_pattern = pattern(), before_limit = limit();
  auto on = enable(paths_, pipe_request());
  ASSERT_TRUE(on) << on.error().message;
  EXPECT_TRUE(on->first);
  EXPECT_EQ(pattern(), pipe_request().pattern + "\n");
  EXPECT_EQ(limit(), "0\n");
  // core_pattern.saved holds the previous pattern exactly, without the newline.
  EXPECT_EQ(slurp(paths_.state_directory + "/core_pattern.saved"), "|/usr/lib/other-handler --flag %p %e");
  struct stat st {};
  ASSERT_EQ(::stat(paths_.state_directory.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((paths_.state_directory + "/enable.state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto off = disable(paths_, false);
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_TRUE(off->was_enabled);
  EXPECT_EQ(pattern(), before_pattern);
  EXPECT_EQ(limit(), before_limit);
  EXPECT_FALSE(state_exists("enable.state"));
  EXPECT_FALSE(state_exists("core_pattern.saved"));
}

TEST_F(Enabler, UnusualPreviousPatternsComeBackExactly) {
  for (std::string previous :
       {"core", "", "core.%p  ", "  leading", "/var/crash/core.%e.%p.%t", "a\tb", "|/bin/true -x 'quoted arg' %p"}) {
    set_kernel(previous, "3");
    auto on = enable(paths_, pipe_request());
    ASSERT_TRUE(on) << previous << ": " << on.error().message;
    auto off = disable(paths_, false);
    ASSERT_TRUE(off) << off.error().message;
    EXPECT_EQ(pattern(), previous + "\n") << "'" << previous << "'";
    EXPECT_EQ(limit(), "3\n");
  }
}

TEST_F(Enabler, EnablingTwiceKeepsTheFirstSavedValues) {
  ASSERT_TRUE(enable(paths_, pipe_request()));
  auto again = enable(paths_, pipe_request());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->first);
  EXPECT_EQ(again->state.saved_pattern, "|/usr/lib/other-handler --flag %p %e");
  EXPECT_EQ(again->state.saved_pipe_limit, "7");
  // A mode switch keeps them too.
  EnableRequest socket = pipe_request();
  socket.mode = Mode::socket;
  socket.pattern = "@@/run/usercrash/coredump.sock";
  auto switched = enable(paths_, socket);
  ASSERT_TRUE(switched) << switched.error().message;
  EXPECT_EQ(pattern(), "@@/run/usercrash/coredump.sock\n");
  ASSERT_TRUE(disable(paths_, false));
  EXPECT_EQ(pattern(), "|/usr/lib/other-handler --flag %p %e\n");
  EXPECT_EQ(limit(), "7\n");
}

TEST_F(Enabler, EnableAfterSomeoneReplacedOurLineKeepsTheFirstSavedValues) {
  ASSERT_TRUE(enable(paths_, pipe_request()));
  set_kernel("core.someone-else", "0");
  auto again = enable(paths_, pipe_request());
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(again->notes.size(), 1u);
  EXPECT_NE(again->notes[0].find("core.someone-else"), std::string::npos);
  ASSERT_TRUE(disable(paths_, false));
  EXPECT_EQ(pattern(), "|/usr/lib/other-handler --flag %p %e\n");
}

TEST_F(Enabler, DisableWithoutEnableChangesNothing) {
  auto off = disable(paths_, false);
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_FALSE(off->was_enabled);
  EXPECT_EQ(pattern(), "|/usr/lib/other-handler --flag %p %e\n");
  EXPECT_EQ(limit(), "7\n");
  EXPECT_FALSE(fs::exists(paths_.state_directory));
}

TEST_F(Enabler, DisableLeavesAPatternSomeoneChangedUnlessForced) {
  ASSERT_TRUE(enable(paths_, pipe_request()));
  set_kernel("|/opt/new-handler %p", "2");
  auto off = disable(paths_, false);
  ASSERT_FALSE(off);
  EXPECT_NE(off.error().message.find("--force"), std::string::npos) << off.error().message;
  EXPECT_EQ(pattern(), "|/opt/new-handler %p\n");
  EXPECT_EQ(limit(), "2\n");
  EXPECT_TRUE(state_exists("enable.state"));
  auto forced = disable(paths_, true);
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_EQ(pattern(), "|/usr/lib/other-handler --flag %p %e\n");
  EXPECT_EQ(limit(), "7\n");
}

TEST_F(Enabler, RefusesToSaveOurOwnLineAsThePreviousOne) {
  set_kernel(pipe_request().pattern, "0");
  auto on = enable(paths_, pipe_request());
  ASSERT_FALSE(on);
  EXPECT_NE(on.error().message.find("already runs usercrash"), std::string::npos) << on.error().message;
  EXPECT_EQ(pattern(), pipe_request().pattern + "\n");
  EXPECT_FALSE(state_exists("enable.state"));
  EXPECT_FALSE(state_exists("core_pattern.saved"));
}

TEST_F(Enabler, PersistWritesTheSysctlFileAndDisableRemovesIt) {
  EnableRequest r = pipe_request();
  r.persist = true;
  ASSERT_TRUE(enable(paths_, r));
  std::string text = slurp(paths_.sysctl_file);
  EXPECT_TRUE(is_our_sysctl_file(text));
  EXPECT_NE(text.find("\nkernel.core_pattern = " + r.pattern + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nkernel.core_pipe_limit = 0\n"), std::string::npos) << text;
  ASSERT_TRUE(disable(paths_, false));
  EXPECT_FALSE(fs::exists(paths_.sysctl_file));
}

TEST_F(Enabler, FailureAfterTheKernelChangedUndoesEverything) {
  EnableRequest r = pipe_request();
  r.persist = true;
  paths_.sysctl_file = root_ + "/missing-directory/50-usercrash.conf";
  auto on = enable(paths_, r);
  ASSERT_FALSE(on);
  EXPECT_NE(on.error().message.find("nothing changed"), std::string::npos) << on.error().message;
  EXPECT_EQ(pattern(), "|/usr/lib/other-handler --flag %p %e\n");
  EXPECT_EQ(limit(), "7\n");
  EXPECT_FALSE(state_exists("enable.state"));
  EXPECT_FALSE(state_exists("core_pattern.saved"));
}

TEST_F(Enabler, FailureOnASecondEnableKeepsTheFirstState) {
  ASSERT_TRUE(enable(paths_, pipe_request()));
  std::string state_before = slurp(paths_.state_directory + "/enable.state");
  EnableRequest r = pipe_request();
  r.persist = true;
  paths_.sysctl_file = root_ + "/missing-directory/50-usercrash.conf";
  ASSERT_FALSE(enable(paths_, r));
  EXPECT_EQ(pattern(), pipe_request().pattern + "\n");
  EXPECT_EQ(slurp(paths_.state_directory + "/enable.state"), state_before);
  paths_.sysctl_file = root_ + "/50-usercrash.conf";
  ASSERT_TRUE(disable(paths_, false));
  EXPECT_EQ(pattern(), "|/usr/lib/other-handler --flag %p %e\n");
}

TEST_F(Enabler, NeverReplacesASysctlFileItDidNotWrite) {
  put(paths_.sysctl_file, "kernel.core_pattern = |/somebody/else\n");
  EnableRequest r = pipe_request();
  r.persist = true;
  auto on = enable(paths_, r);
  ASSERT_FALSE(on);
  EXPECT_EQ(slurp(paths_.sysctl_file), "kernel.core_pattern = |/somebody/else\n");
  EXPECT_EQ(pattern(), "|/usr/lib/other-handler --flag %p %e\n");
  EXPECT_FALSE(state_exists("enable.state"));
}

TEST_F(Enabler, AKernelThatRefusesAValueLeavesNothingChanged) {
  // A read-only sysctl stands for a kernel refusing the value (as it refuses
  // "@@relative"): readable, but every write fails, even root's.
  paths_.kernel.core_pipe_limit = "/proc/sys/kernel/osrelease";
  auto on = enable(paths_, pipe_request());
  ASSERT_FALSE(on);
  EXPECT_NE(on.error().message.find("osrelease"), std::string::npos) << on.error().message;
  EXPECT_EQ(pattern(), "|/usr/lib/other-handler --flag %p %e\n");
  EXPECT_FALSE(state_exists("enable.state"));
  EXPECT_FALSE(state_exists("core_pattern.saved"));
}

TEST_F(Enabler, StateDirectoryOthersCanWriteIsRefused) {
  ASSERT_EQ(::mkdir(paths_.state_directory.c_str(), 0777), 0);
  ::chmod(paths_.state_directory.c_str(), 0777);
  auto on = enable(paths_, pipe_request());
  ASSERT_FALSE(on);
  EXPECT_NE(on.error().message.find("writable by group or others"), std::string::npos) << on.error().message;
  EXPECT_EQ(pattern(), "|/usr/lib/other-handler --flag %p %e\n");
}

TEST_F(Enabler, AStateFileWithoutItsSavedPatternIsAnError) {
  ASSERT_TRUE(enable(paths_, pipe_request()));
  fs::remove(paths_.state_directory + "/core_pattern.saved");
  auto off = disable(paths_, false);
  ASSERT_FALSE(off);
  EXPECT_NE(off.error().message.find("core_pattern.saved"), std::string::npos);
  EXPECT_EQ(pattern(), pipe_request().pattern + "\n");
}

TEST(EnableState, SerializesAndParsesBack) {
  EnableState s;
  s.mode = Mode::socket;
  s.saved_pattern = "core = odd =";
  s.saved_pipe_limit = "12";
  s.installed_pattern = "@@/run/x.sock";
  s.installed_pipe_limit = "0";
  s.sysctl_file = "/etc/sysctl.d/50-usercrash.conf";
  s.enabled_at = 1700000000;
  auto back = parse_state(serialize_state(s), s.saved_pattern);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->mode, Mode::socket);
  EXPECT_EQ(back->saved_pattern, s.saved_pattern);
  EXPECT_EQ(back->saved_pipe_limit, "12");
  EXPECT_EQ(back->installed_pattern, s.installed_pattern);
  EXPECT_EQ(back->sysctl_file, s.sysctl_file);
  EXPECT_EQ(back->enabled_at, 1700000000);
  EXPECT_FALSE(parse_state("version=1\nmode=pipe\n", ""));
  EXPECT_FALSE(
      parse_state("version=9\nmode=pipe\nsaved_core_pipe_limit=0\ninstalled_core_pattern=x\n"
                  "installed_core_pipe_limit=0\n",
                  ""));
  EXPECT_FALSE(parse_state("garbage\n", ""));
}

}  // namespace
}  // namespace usercrash::tools
