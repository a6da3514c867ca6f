// The warm collector's processes take their crash's command line as title.
#include "client/process_title.h"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace usercrash::client {
namespace {

TEST(ProcessTitle, WritesTheArgumentsOverTheAreaAndCutsWhatDoesNotFit) {
  // An argument area laid out as the kernel lays it out.
  char area[] =
      "usercrash_c\0--warm-collector\0"
      "3\0-c\0/etc/usercrash.conf";
  char* argv[] = {area, area + 12, area + 29, area + 31, area + 34, nullptr};
  remember_argument_area(5, argv);
  set_process_title({"usercrash_c", "-c", "x.conf", "77", "crasher", "11"});
  std::string shown(area, sizeof area);
  EXPECT_EQ(shown.substr(0, 36), std::string("usercrash_c\0-c\0x.conf\0"
                                             "77\0crasher\0"
                                             "11\0",
                                             36));
  EXPECT_EQ(shown.find_first_not_of('\0', 36), std::string::npos) << "the rest is cleared";

  set_process_title({std::string(200, 'a')});
  shown.assign(area, sizeof area);
  EXPECT_EQ(shown, std::string(sizeof area - 1, 'a') + '\0') << "cut to the area, NUL last";
}

}  // namespace
}  // namespace usercrash::client
