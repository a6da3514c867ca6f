// Slot names and the choice of the next slot of the ring.
#include "store/slot_ring.h"

#include <gtest/gtest.h>

namespace usercrash::store {
namespace {

timespec at(time_t sec, long nsec = 0) {
  timespec t{};
  t.tv_sec = sec;
  t.tv_nsec = nsec;
  return t;
}

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

TEST(ChooseSlot, FirstEmptySlot) {
  EXPECT_EQ(choose_slot(SlotTimes(5)), 0u);
  SlotTimes t = {at(10), at(5), std::nullopt, std::nullopt};
  EXPECT_EQ(choose_slot(t), 2u) << "an empty slot wins over an old one";
  t = {std::nullopt, at(1)};
  EXPECT_EQ(choose_slot(t), 0u);
}

TEST(ChooseSlot, OldestWhenFull) {
  EXPECT_EQ(choose_slot({at(30), at(10), at(20)}), 1u);
  EXPECT_EQ(choose_slot({at(5), at(10), at(20)}), 0u);
  EXPECT_EQ(choose_slot({at(50), at(40), at(3)}), 2u);
}

TEST(ChooseSlot, NanosecondsDecideWithinOneSecond) {
  EXPECT_EQ(choose_slot({at(100, 500), at(100, 499), at(100, 501)}), 1u);
  EXPECT_EQ(choose_slot({at(100, 999'999'999), at(101, 0)}), 0u);
  EXPECT_EQ(choose_slot({at(101, 0), at(100, 999'999'999)}), 1u);
}

TEST(ChooseSlot, TiesGoToTheLowestIndex) {
  EXPECT_EQ(choose_slot({at(7, 7), at(7, 7), at(7, 7)}), 0u);
  EXPECT_EQ(choose_slot({at(9), at(7, 7), at(7, 7)}), 1u);
}

TEST(ChooseSlot, BusySlotsAreSkipped) {
  // Slot 0 is empty but being written: the next empty one is taken.
  EXPECT_EQ(choose_slot({std::nullopt, std::nullopt, at(1)}, {true}), 1u);
  // The oldest is busy: the next oldest.
  EXPECT_EQ(choose_slot({at(30), at(10), at(20)}, {false, true, false}), 2u);
  // Busy empty slots are not "empty" for the choice.
  EXPECT_EQ(choose_slot({std::nullopt, at(10), at(5)}, {true, false, false}), 2u);
  // A busy vector shorter than the ring: the rest are free.
  EXPECT_EQ(choose_slot({at(1), at(2), at(3)}, {true}), 1u);
}

TEST(ChooseSlot, AllBusyFallsBackToTheUsualChoice) {
  EXPECT_EQ(choose_slot({at(30), at(10), at(20)}, {true, true, true}), 1u);
  EXPECT_EQ(choose_slot({at(30), std::nullopt, at(20)}, {true, true, true}), 1u);
}

TEST(ChooseSlot, OneSlotRing) {
  EXPECT_EQ(choose_slot({std::nullopt}), 0u);
  EXPECT_EQ(choose_slot({at(1)}), 0u);
  EXPECT_EQ(choose_slot({at(1)}, {true}), 0u);
}

}  // namespace
}  // namespace usercrash::store
