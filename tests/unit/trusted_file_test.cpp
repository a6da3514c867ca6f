// Trusted files: root's, not writable by others, reached without a symlink.
#include "engine/trusted_file.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace usercrash::engine {
namespace {

TEST(TrustedFile, RefusesSymlinksRelativePathsAndDotDot) {
  auto link = open_trusted_file("/proc/self/status");  // /proc/self is a symlink
  ASSERT_FALSE(link);
  EXPECT_NE(link.error().message.find("/proc/self"), std::string::npos) << link.error().message;
  EXPECT_FALSE(open_trusted_file("etc/passwd"));
  EXPECT_FALSE(open_trusted_file("/etc/../etc/passwd"));
  EXPECT_FALSE(open_trusted_file("/etc"));  // not a regular file
  auto ok = open_trusted_file("/usr/bin/env");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(S_ISREG(ok->st.st_mode));
}

}  // namespace
}  // namespace usercrash::engine
