// core_pattern.saved names a program root runs for every crash: one reader,
// one trust check, for usercrash_c and usercrashctl alike.
#include "config/saved_pattern.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "test_support.h"

namespace usercrash::config {
namespace {

using test::TempDir;
using test::write_file;

TEST(SavedPattern, IsReadAsWrittenAndAbsentIsNone) {
  TempDir state;
  auto none = read_saved_pattern(state.path());
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
  write_file(state / kSavedPatternName, "|/usr/lib/systemd/systemd-coredump %P", 0600);
  auto saved = read_saved_pattern(state.path());
  ASSERT_TRUE(saved && *saved) << (saved ? "" : saved.error().message);
  EXPECT_EQ(**saved, "|/usr/lib/systemd/systemd-coredump %P");
  EXPECT_FALSE(*read_saved_pattern(state / "missing")) << "no state directory: nothing saved";
}

TEST(SavedPattern, AFileOthersCouldHaveWrittenIsRefused) {
  TempDir state;
  write_file(state / kSavedPatternName, "|/tmp/evil", 0620);
  auto saved = read_saved_pattern(state.path());
  ASSERT_FALSE(saved);
  EXPECT_NE(saved.error().message.find("writable by root only"), std::string::npos) << saved.error().message;
}

TEST(SavedPattern, ADirectoryOthersCanWriteIsRefused) {
  TempDir state;
  write_file(state / kSavedPatternName, "|/usr/bin/true", 0600);
  ASSERT_EQ(::chmod(state.path().c_str(), 0777), 0);
  EXPECT_FALSE(read_saved_pattern(state.path()));
}

TEST(SavedPattern, ASymlinkIsNeverFollowed) {
  TempDir state;
  write_file(state / "elsewhere", "|/usr/bin/true", 0600);
  ASSERT_EQ(::symlink((state / "elsewhere").c_str(), (state / kSavedPatternName).c_str()), 0);
  EXPECT_FALSE(read_saved_pattern(state.path()));
  EXPECT_FALSE(read_saved_pattern_at(-1)) << "a bad directory fd is an error, not 'nothing saved'";
}

}  // namespace
}  // namespace usercrash::config
