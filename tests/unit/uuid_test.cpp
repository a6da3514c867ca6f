#include "util/uuid.h"

#include <set>

#include <gtest/gtest.h>

namespace usercrash::util {
namespace {

TEST(Uuid, RandomVersionFourInLowerCase) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = random_uuid();
    ASSERT_EQ(id.size(), 36u) << id;
    EXPECT_EQ(parse_uuid(id), id);
    EXPECT_EQ(id[14], '4') << id;                                          // version
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC 4122 variant
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Uuid, ParseTakesOnlyTheCanonicalFormAndLowersIt) {
  EXPECT_EQ(parse_uuid("0F1E2D3C-4B5A-4978-8796-A5B4C3D2E1F0"), "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0");
  for (const char* bad :
       {"", "7", "usercrash_07", "0f1e2d3c4b5a497887 96a5b4c3d2e1f0xxxx", "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f",
        "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f00", "0f1e2d3c_4b5a-4978-8796-a5b4c3d2e1f0",
        "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1g0", "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1\x1b\x5b"})
    EXPECT_FALSE(parse_uuid(bad)) << bad;
}

}  // namespace
}  // namespace usercrash::util
