// Slot names of the ring.
#include "store/slot_ring.h"

#include <gtest/gtest.h>

namespace usercrash::store {
namespace {

TEST(SlotName, TwoDigitsThenThree) {
  EXPECT_EQ(slot_name(0), "usercrash_00");
  EXPECT_EQ(slot_name(7), "usercrash_07");
  EXPECT_EQ(slot_name(49), "usercrash_49");
  EXPECT_EQ(slot_name(99), "usercrash_99");
  EXPECT_EQ(slot_name(100), "usercrash_100");
  EXPECT_EQ(slot_name(999), "usercrash_999");
}

TEST(SlotIndex, AcceptsExactlyTheNamesOfTheRing) {
  EXPECT_EQ(slot_index("usercrash_00", 50), 0u);
  EXPECT_EQ(slot_index("usercrash_07", 50), 7u);
  EXPECT_EQ(slot_index("usercrash_49", 50), 49u);
  EXPECT_EQ(slot_index("usercrash_100", 101), 100u);
  EXPECT_EQ(slot_index("usercrash_150", 200), 150u);
  EXPECT_EQ(slot_index("usercrash_05", 200), 5u) << "low slots keep two digits in a large ring";
}

TEST(SlotIndex, RefusesEverythingElse) {
  for (const char* name :
       {"usercrash_7", "usercrash_007", "usercrash_07.json", "usercrash_07.core.zst", "usercrash_", "usercrash", "",
        "usercrash_-1", "usercrash_+7", "usercrash_0x1", "usercrash_ 7", "usercrash_07 ", "Usercrash_07",
        "xusercrash_07", "usercrash_1e1", ".pending-1-usercrash_07", "usercrash_99999999999999999999"})
    EXPECT_EQ(slot_index(name, 1000), std::nullopt) << name;
  EXPECT_EQ(slot_index("usercrash_50", 50), std::nullopt) << "out of range";
  EXPECT_EQ(slot_index("usercrash_100", 100), std::nullopt) << "out of range";
  EXPECT_EQ(slot_index("usercrash_00", 0), std::nullopt);
}

TEST(SlotIndex, RoundTripsSlotName) {
  for (unsigned count : {1u, 50u, 100u, 101u, 1000u})
    for (unsigned i = 0; i < count; ++i) ASSERT_EQ(slot_index(slot_name(i), count), i) << count;
}

}  // namespace
}  // namespace usercrash::store
