#include "util/path_names.h"

#include <gtest/gtest.h>

namespace usercrash::util {
namespace {

TEST(PathNames, BaseNameIsTheLastComponent) {
  EXPECT_EQ(base_name("/usr/lib/libc.so.6"), "libc.so.6");
  EXPECT_EQ(base_name("crasher"), "crasher");
  EXPECT_EQ(base_name("/dir/"), "");
  EXPECT_EQ(base_name(""), "");
}

TEST(PathNames, OnlyATrailingDeletedMarkIsRemoved) {
  EXPECT_EQ(without_deleted_mark("/tmp/a.out (deleted)"), "/tmp/a.out");
  EXPECT_EQ(without_deleted_mark("/tmp/a (deleted).so"), "/tmp/a (deleted).so");
  EXPECT_EQ(without_deleted_mark("/tmp/a.out"), "/tmp/a.out");
  EXPECT_EQ(without_deleted_mark(" (deleted)"), "");
}

}  // namespace
}  // namespace usercrash::util
