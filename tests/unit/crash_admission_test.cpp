// rate_limit per crash group first, then for new slots only; loop notes once a minute.
#include "server/crash_admission.h"

#include <gtest/gtest.h>

namespace usercrash::server {
namespace {

using Clock = CrashAdmission::Clock;
using namespace std::chrono_literals;

const store::GroupKey kLoop{"loop", 0}, kOther{"other", 0};

TEST(CrashAdmission, NoLimitKeepsEverything) {
  CrashAdmission a(0);
  auto now = Clock::now();
  for (int i = 0; i < 1000; ++i) {
    auto d = a.decide(kLoop, now);
    EXPECT_TRUE(d.keep);
    EXPECT_TRUE(d.new_slot_allowed);
    a.stored(kLoop, true, now);
  }
}

TEST(CrashAdmission, AGroupPastTheLimitIsNotKeptOthersStillAre) {
  CrashAdmission a(5);
  auto now = Clock::now();
  // The loop: its first reports take slots, then it only replaces its newest.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(a.decide(kLoop, now).keep) << i;
    a.stored(kLoop, i < 4, now);
  }
  EXPECT_FALSE(a.decide(kLoop, now).keep);
  auto other = a.decide(kOther, now);
  EXPECT_TRUE(other.keep);
  EXPECT_TRUE(other.new_slot_allowed) << "the loop used 4 of 5 new slots";
  a.stored(kOther, true, now);
  // The global budget for new slots is now used up; replacing a group's newest still works.
  auto third = a.decide(store::GroupKey{"third", 0}, now);
  EXPECT_TRUE(third.keep);
  EXPECT_FALSE(third.new_slot_allowed);
  // A minute later, all is forgiven.
  EXPECT_TRUE(a.decide(kLoop, now + 61s).keep);
  EXPECT_TRUE(a.decide(store::GroupKey{"third", 0}, now + 61s).new_slot_allowed);
}

TEST(CrashAdmission, CrashesWithoutASignatureCountOnlyGlobally) {
  CrashAdmission a(2);
  auto now = Clock::now();
  for (int i = 0; i < 2; ++i) a.stored(std::nullopt, true, now);
  auto d = a.decide(std::nullopt, now);
  EXPECT_TRUE(d.keep);
  EXPECT_FALSE(d.new_slot_allowed);
}

TEST(CrashAdmission, LoopNotesComeOnceAMinute) {
  CrashAdmission a(0);
  auto start = Clock::now();
  EXPECT_FALSE(a.next_notes());
  a.note_loop(kLoop, "looper", "usercrash_03", true, 10);
  a.note_loop(kLoop, "looper", "usercrash_03", true, 11);
  a.note_loop(kLoop, "looper", "", false, 12);
  ASSERT_TRUE(a.next_notes());
  EXPECT_TRUE(a.take_notes(start).empty()) << "not before the minute is over";
  auto notes = a.take_notes(start + 61s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].replaced, 2u);
  EXPECT_EQ(notes[0].not_kept, 1u);
  EXPECT_EQ(notes[0].total, 12u);
  EXPECT_EQ(notes[0].newest_slot, "usercrash_03");
  EXPECT_FALSE(a.next_notes());
  EXPECT_TRUE(a.take_notes(start + 200s).empty());
}

}  // namespace
}  // namespace usercrash::server
