// The ring's index: the next slot from publication order (never file
// times), crash groups kept to their first reports and their newest, and a
// file that survives anything written into it.
#include "store/ring_index.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace usercrash::store {
namespace {

// An index whose slot i holds publication number seqs[i] (nullopt: empty);
// `present` says which slots hold a report.
struct Ring {
  RingIndex index;
  std::vector<bool> present;
};

Ring ring(const std::vector<std::optional<uint64_t>>& seqs) {
  std::string slots;
  Ring r;
  for (size_t i = 0; i < seqs.size(); ++i) {
    r.present.push_back(seqs[i].has_value());
    if (!seqs[i]) continue;
    slots += (slots.empty() ? "" : ",") + fmt::format("{{\"slot\":{},\"sequence\":{}}}", i, *seqs[i]);
  }
  std::string problem;
  r.index = RingIndex::parse(fmt::format("{{\"format\":1,\"next_sequence\":100,\"slots\":[{}]}}", slots), &problem);
  EXPECT_EQ(problem, "");
  return r;
}

unsigned choose(const std::vector<std::optional<uint64_t>>& seqs, const std::vector<bool>& busy = {}) {
  Ring r = ring(seqs);
  return r.index.choose(std::nullopt, static_cast<unsigned>(seqs.size()), 0, r.present, busy).slot;
}

constexpr std::nullopt_t empty = std::nullopt;

TEST(RingIndexChoice, FirstEmptySlot) {
  EXPECT_EQ(choose({empty, empty, empty}), 0u);
  EXPECT_EQ(choose({10, 5, empty, empty}), 2u) << "an empty slot wins over an old one";
  EXPECT_EQ(choose({empty, 1}), 0u);
}

TEST(RingIndexChoice, OldestPublicationWhenFull) {
  EXPECT_EQ(choose({30, 10, 20}), 1u);
  EXPECT_EQ(choose({5, 10, 20}), 0u);
  EXPECT_EQ(choose({50, 40, 3}), 2u);
}

TEST(RingIndexChoice, BusySlotsAreSkipped) {
  EXPECT_EQ(choose({empty, empty, 1}, {true}), 1u);
  EXPECT_EQ(choose({30, 10, 20}, {false, true, false}), 2u);
  EXPECT_EQ(choose({empty, 10, 5}, {true, false, false}), 2u);
  EXPECT_EQ(choose({1, 2, 3}, {true}), 1u);
}

TEST(RingIndexChoice, AllBusyFallsBackToTheUsualChoice) {
  EXPECT_EQ(choose({30, 10, 20}, {true, true, true}), 1u);
  EXPECT_EQ(choose({30, empty, 20}, {true, true, true}), 1u);
}

TEST(RingIndexChoice, OneSlotRing) {
  EXPECT_EQ(choose({empty}), 0u);
  EXPECT_EQ(choose({1}), 0u);
  EXPECT_EQ(choose({1}, {true}), 0u);
}

TEST(RingIndexChoice, UnrecordedReportsAreOlderThanRecordedOnes) {
  Ring r = ring({7, 8, 9});
  r.present.push_back(true);  // slot 3 holds a report the index does not know
  r.index.reconcile(r.present);
  EXPECT_EQ(r.index.choose(std::nullopt, 4, 0, r.present).slot, 3u);
}

TEST(RingIndexGroups, AGroupKeepsItsFirstKAndItsNewest) {
  RingIndex index;
  std::vector<bool> present(10, false);
  GroupKey loop{"loop", 0};
  CrashFacts facts{loop, "looper", "/bin/looper"};
  std::vector<unsigned> taken;
  for (int i = 0; i < 8; ++i) {
    SlotChoice c = index.choose(loop, 10, 2, present);
    EXPECT_EQ(c.replaces_group_newest, i >= 3) << i;
    index.record(c.slot, facts, 1000 + i);
    present[c.slot] = true;
    taken.push_back(c.slot);
  }
  EXPECT_EQ(taken, (std::vector<unsigned>{0, 1, 2, 2, 2, 2, 2, 2}));
  EXPECT_EQ(index.slots_of(loop), (std::vector<unsigned>{0, 1, 2}));
  const GroupRecord* g = index.group(loop);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->count, 8u);
  EXPECT_EQ(g->first_seen, 1000);
  EXPECT_EQ(g->last_seen, 1007);
  EXPECT_EQ(g->comm, "looper");
}

TEST(RingIndexGroups, NoGroupingWithKeepZero) {
  RingIndex index;
  std::vector<bool> present(3, false);
  GroupKey loop{"loop", 0};
  for (unsigned i = 0; i < 3; ++i) {
    SlotChoice c = index.choose(loop, 3, 0, present);
    EXPECT_EQ(c.slot, i);
    EXPECT_FALSE(c.replaces_group_newest);
    index.record(c.slot, CrashFacts{loop, "", ""}, 0);
    present[c.slot] = true;
  }
}

TEST(RingIndexFile, RoundTrips) {
  RingIndex index;
  index.record(3, CrashFacts{GroupKey{"abcd", 1000}, "comm \"q\"", "/bin/x"}, 42);
  index.record(1, CrashFacts{std::nullopt, "", ""}, 43);
  index.count_not_kept(CrashFacts{GroupKey{"abcd", 1000}, "comm", "/bin/x"}, 44);
  std::string problem;
  RingIndex back = RingIndex::parse(index.serialize(), &problem);
  EXPECT_EQ(problem, "");
  EXPECT_EQ(back.serialize(), index.serialize());
  ASSERT_EQ(back.slots().size(), 2u);
  EXPECT_EQ(back.slots()[0].slot, 1u);
  EXPECT_EQ(back.slots()[1].sequence, 1u);
  const GroupRecord* g = back.group(GroupKey{"abcd", 1000});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->count, 2u);
  EXPECT_EQ(g->not_kept, 1u);
}

TEST(RingIndexFile, GarbageGivesAnEmptyIndexAndAReason) {
  for (const char* text : {"", "[]", "{", "{\"format\":2}", "\xff\xfe", "{\"format\":1,\"slots\":{}}"}) {
    std::string problem;
    RingIndex index = RingIndex::parse(text, &problem);
    EXPECT_TRUE(index.slots().empty()) << text;
    if (std::string_view(text).find("slots") == std::string_view::npos) {
      EXPECT_NE(problem, "") << text;
    }
  }
  // Wrong types are skipped field by field.
  RingIndex index = RingIndex::parse(
      R"({"format":1,"slots":[{"slot":-1},{"slot":"2"},{"slot":1,"sequence":"x"},{"slot":1,"sequence":5}],)"
      R"("groups":[{"signature":5,"uid":0},{"signature":"s","uid":-1},{"signature":"s","uid":7,"count":3}]})");
  ASSERT_EQ(index.slots().size(), 1u);
  EXPECT_EQ(index.slots()[0].sequence, 0u);
  ASSERT_EQ(index.groups().size(), 1u);
  EXPECT_EQ(index.groups()[0].count, 3u);
}

TEST(RingIndexFile, SequencesNeverGoBack) {
  RingIndex index = RingIndex::parse(R"({"format":1,"next_sequence":2,"slots":[{"slot":0,"sequence":77}]})");
  index.record(1, CrashFacts{}, 0);
  EXPECT_EQ(index.slot(1)->sequence, 78u);
}

TEST(RingIndexFile, GroupsAreBounded) {
  RingIndex index;
  index.record(0, CrashFacts{GroupKey{"kept", 0}, "", ""}, 0);
  for (size_t i = 0; i < RingIndex::kMaxGroups + 50; ++i)
    index.count_not_kept(CrashFacts{GroupKey{fmt::format("g{}", i), 0}, "", ""}, static_cast<int64_t>(i + 1));
  EXPECT_EQ(index.groups().size(), RingIndex::kMaxGroups);
  EXPECT_TRUE(index.group(GroupKey{"kept", 0})) << "a group with a report in the ring stays";
  EXPECT_FALSE(index.group(GroupKey{"g0", 0})) << "the least recently seen goes";
  EXPECT_TRUE(index.group(GroupKey{fmt::format("g{}", RingIndex::kMaxGroups + 49), 0}));
}

}  // namespace
}  // namespace usercrash::store
