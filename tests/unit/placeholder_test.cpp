#include <gtest/gtest.h>

#include "store/slot_ring.h"

TEST(SlotRing, NamesAreTwoDigits) { EXPECT_EQ(usercrash::store::slot_name(7), "usercrash_07"); }
