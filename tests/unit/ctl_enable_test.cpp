// usercrashctl enable / disable / status run in-process against plain files
// standing in for core_pattern and core_pipe_limit: what they print, what
// they change and what they leave, without root or the kernel's settings.
// (tests/e2e/ctl_enable_test.cpp keeps what needs the real sysctls: the
// kernel's length limit, socket mode, signals, a running server.)
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "unit/ctl_run.h"
#include "unit/test_support.h"

namespace usercrash::tools::ctl {
namespace {

using test::read_file;
using test::write_file;

class CtlEnableFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.directory = dir_ / "crashes";
    config_.socket = dir_ / "no.sock";
    config_.kernel_socket = dir_ / "no-kernel.sock";
    config_.state_directory = dir_ / "state";
    kernel_.core_pattern = dir_ / "core_pattern";
    kernel_.core_pipe_limit = dir_ / "core_pipe_limit";
  }

  // The sysctls as the kernel shows them: the value and one '\n'.
  void set_kernel(const std::string& pattern, const std::string& limit) {
    write_file(kernel_.core_pattern, pattern + "\n");
    write_file(kernel_.core_pipe_limit, limit + "\n");
  }
  std::string pattern() const { return read_file(kernel_.core_pattern); }
  std::string limit() const { return read_file(kernel_.core_pipe_limit); }
  std::string state(const char* name) const { return dir_ / "state/" + name; }

  struct Run {
    int status = -1;
    std::string output;  // what it printed, then its notes and errors
  };
  // usercrashctl ARGS; enable names a client (any root-owned executable
  // passes the trust check; nothing runs it).
  Run ctl(std::vector<std::string> args) {
    if (args.front() == "enable") args.insert(args.begin() + 1, {"--client", "/bin/true"});
    Context ctx;
    ctx.preloaded = config_;
    ctx.kernel = kernel_;
    auto r = test::run_captured(ctx, std::move(args));
    return {r.status, r.out + r.err};
  }

  test::TempDir dir_;
  config::Config config_;
  KernelFiles kernel_;
};

TEST_F(CtlEnableFiles, EnablingTwiceKeepsTheFirstSavedPattern) {
  set_kernel("core", "5");
  ASSERT_EQ(ctl({"enable"}).status, 0);
  Run again = ctl({"enable"});
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("kept from the first enable"), std::string::npos) << again.output;
  EXPECT_EQ(read_file(state("core_pattern.saved")), "core");
  // Even after someone replaced our line in between.
  write_file(kernel_.core_pattern, "|/bin/true replaced %p\n");
  Run third = ctl({"enable"});
  ASSERT_EQ(third.status, 0) << third.output;
  EXPECT_NE(third.output.find("changed to '|/bin/true replaced %p' since the last enable"), std::string::npos)
      << third.output;
  ASSERT_EQ(ctl({"disable"}).status, 0);
  EXPECT_EQ(pattern(), "core\n");
  EXPECT_EQ(limit(), "5\n");
}

TEST_F(CtlEnableFiles, DisableWithoutEnableSaysSoAndChangesNothing) {
  set_kernel("|/bin/true untouched %p", "9");
  Run off = ctl({"disable"});
  EXPECT_EQ(off.status, 0) << off.output;
  EXPECT_NE(off.output.find("not enabled"), std::string::npos) << off.output;
  EXPECT_NE(off.output.find("nothing changed"), std::string::npos) << off.output;
  EXPECT_EQ(pattern(), "|/bin/true untouched %p\n");
  EXPECT_EQ(limit(), "9\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "state"));
}

TEST_F(CtlEnableFiles, DisableLeavesAPatternChangedSinceEnableUnlessForced) {
  set_kernel("core", "0");
  ASSERT_EQ(ctl({"enable"}).status, 0);
  write_file(kernel_.core_pattern, "core.someone-else\n");
  Run off = ctl({"disable"});
  EXPECT_EQ(off.status, 1) << off.output;
  EXPECT_NE(off.output.find("--force"), std::string::npos) << off.output;
  EXPECT_EQ(pattern(), "core.someone-else\n");
  EXPECT_TRUE(std::filesystem::exists(state("enable.state")));
  Run forced = ctl({"disable", "--force"});
  EXPECT_EQ(forced.status, 0) << forced.output;
  EXPECT_EQ(pattern(), "core\n");
}

TEST_F(CtlEnableFiles, EnableUndoesEverythingWhenPersistingFails) {
  set_kernel("|/bin/true --previous %p", "3");
  Run on = ctl({"enable", "--persist", "--sysctl-file", dir_ / "no-such-directory/50-usercrash.conf"});
  EXPECT_EQ(on.status, 1) << on.output;
  EXPECT_NE(on.output.find("nothing changed"), std::string::npos) << on.output;
  EXPECT_EQ(pattern(), "|/bin/true --previous %p\n");
  EXPECT_EQ(limit(), "3\n");
  EXPECT_FALSE(std::filesystem::exists(state("enable.state")));
  EXPECT_FALSE(std::filesystem::exists(state("core_pattern.saved")));
}

TEST_F(CtlEnableFiles, PersistWritesTheSysctlFileAndDisableRemovesIt) {
  set_kernel("core", "0");
  std::string file = dir_ / "50-usercrash.conf";
  Run on = ctl({"enable", "--persist", "--sysctl-file", file});
  ASSERT_EQ(on.status, 0) << on.output;
  std::string installed = pattern();
  installed.pop_back();
  std::string text = read_file(file);
  EXPECT_NE(text.find("\nkernel.core_pattern = " + installed + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nkernel.core_pipe_limit = 0\n"), std::string::npos) << text;
  Run status = ctl({"status"});
  EXPECT_NE(status.output.find("persistent:      " + file), std::string::npos) << status.output;
  ASSERT_EQ(ctl({"disable"}).status, 0);
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_EQ(pattern(), "core\n");
}

TEST_F(CtlEnableFiles, EnableRefusesWhenTheLineIsAlreadyOursButNothingWasSaved) {
  const std::string ours = "|/usr/sbin/usercrash_c -k%F:%I:%u:%g:%t:%d:%c -- %P %e %s";
  set_kernel(ours, "0");
  Run on = ctl({"enable"});
  EXPECT_EQ(on.status, 1) << on.output;
  EXPECT_NE(on.output.find("already runs usercrash"), std::string::npos) << on.output;
  EXPECT_FALSE(std::filesystem::exists(state("enable.state")));
  EXPECT_EQ(pattern(), ours + "\n");
}

}  // namespace
}  // namespace usercrash::tools::ctl
