// The core_pattern lines usercrashctl builds and how it reads any pattern.
#include "tools/core_pattern.h"

#include <gtest/gtest.h>

namespace usercrash::tools {
namespace {

TEST(PipePattern, IsTheClientWithTheKernelFactsInOneArgument) {
  auto p = pipe_pattern("/usr/sbin/usercrash_c", "");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p, "|/usr/sbin/usercrash_c -k%F:%I:%u:%g:%t:%d:%c -- %P %e %s");
}

TEST(PipePattern, CarriesTheConfigWhenGiven) {
  auto p = pipe_pattern("/usr/sbin/usercrash_c", "/etc/usercrash.conf");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p, "|/usr/sbin/usercrash_c -c /etc/usercrash.conf -k%F:%I:%u:%g:%t:%d:%c -- %P %e %s");
}

TEST(PipePattern, LeavesOutTheDoubleDashOnlyWhereTheLineWouldNotFitWithIt) {
  std::string tail = " -k%F:%I:%u:%g:%t:%d:%c -- %P %e %s";
  std::string client = "/" + std::string(kMaxCorePattern - 2 - tail.size(), 'x');
  auto with = pipe_pattern(client, "");
  ASSERT_TRUE(with) << with.error().message;
  EXPECT_EQ(with->size(), kMaxCorePattern);
  EXPECT_TRUE(with->ends_with(" -- %P %e %s"));
  auto without = pipe_pattern(client + "yyy", "");
  ASSERT_TRUE(without) << without.error().message;
  EXPECT_EQ(*without, "|" + client + "yyy -k%F:%I:%u:%g:%t:%d:%c %P %e %s");
}

TEST(PipePattern, RefusesALineTheKernelWouldCut) {
  // 127 bytes fit; one more does not.
  std::string tail = " -k%F:%I:%u:%g:%t:%d:%c %P %e %s";
  std::string client = "/" + std::string(kMaxCorePattern - 2 - tail.size(), 'x');
  auto fits = pipe_pattern(client, "");
  ASSERT_TRUE(fits) << fits.error().message;
  EXPECT_EQ(fits->size(), kMaxCorePattern);
  auto too_long = pipe_pattern(client + "y", "");
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message.find("128 bytes"), std::string::npos) << too_long.error().message;
  EXPECT_NE(too_long.error().message.find("127"), std::string::npos);
}

TEST(PipePattern, RefusesPathsTheLineCannotCarry) {
  EXPECT_FALSE(pipe_pattern("usercrash_c", ""));                    // relative
  EXPECT_FALSE(pipe_pattern("/opt/my dir/usercrash_c", ""));        // split on spaces
  EXPECT_FALSE(pipe_pattern("/opt/100%/usercrash_c", ""));          // expanded by the kernel
  EXPECT_FALSE(pipe_pattern("/opt/x\tz/usercrash_c", ""));          // control byte
  EXPECT_FALSE(pipe_pattern("/usr/sbin/usercrash_c", "conf"));      // relative config
  EXPECT_FALSE(pipe_pattern("/usr/sbin/usercrash_c", "/etc/a b"));  // space in config
}

TEST(SocketPattern, IsTwoAtsAndThePath) {
  auto p = socket_pattern("/run/usercrash/coredump.sock");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, "@@/run/usercrash/coredump.sock");
  EXPECT_FALSE(socket_pattern("run/x.sock"));
}

TEST(ClassifyPattern, TellsOursFromOthers) {
  const std::string sock = "/run/usercrash/coredump.sock";
  auto ours = classify_pattern("|/usr/sbin/usercrash_c -k%F %P %e %s", sock);
  EXPECT_EQ(ours.kind, PatternKind::usercrash_pipe);
  EXPECT_EQ(ours.target, "/usr/sbin/usercrash_c");
  EXPECT_TRUE(ours.ours());
  EXPECT_EQ(classify_pattern("|/usr/lib/systemd/systemd-coredump %P %u", sock).kind, PatternKind::other_pipe);
  EXPECT_EQ(classify_pattern("|/usr/bin/usercrash_c_wrapper %p", sock).kind, PatternKind::other_pipe);
  EXPECT_EQ(classify_pattern("@@/run/usercrash/coredump.sock", sock).kind, PatternKind::usercrash_socket);
  EXPECT_EQ(classify_pattern("@/run/usercrash/coredump.sock", sock).kind, PatternKind::usercrash_socket);
  EXPECT_EQ(classify_pattern("@@/run/other.sock", sock).kind, PatternKind::other_socket);
  EXPECT_EQ(classify_pattern("core", sock).kind, PatternKind::file);
  EXPECT_EQ(classify_pattern("", sock).kind, PatternKind::file);
  EXPECT_FALSE(classify_pattern("/var/crash/core.%e.%p", sock).ours());
}

TEST(KernelVersion, ParsesTheRelease) {
  EXPECT_EQ(kernel_version("6.18.44-fc-v595"), (std::pair<unsigned, unsigned>{6, 18}));
  EXPECT_EQ(kernel_version("5.10.0-28-amd64"), (std::pair<unsigned, unsigned>{5, 10}));
  EXPECT_FALSE(kernel_version("garbage"));
  EXPECT_TRUE(kernel_has_coredump_socket("6.17.0"));
  EXPECT_TRUE(kernel_has_coredump_socket("7.0.1"));
  EXPECT_FALSE(kernel_has_coredump_socket("6.16.9"));
  EXPECT_FALSE(kernel_has_coredump_socket("5.19"));
  EXPECT_FALSE(kernel_has_coredump_socket(""));
}

}  // namespace
}  // namespace usercrash::tools
