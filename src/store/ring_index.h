// The ring's order and its crash groups, kept in a file only root writes
// (".index" in the crash directory): which publication each slot holds (a
// sequence number that only grows), and per signature and user how many
// crashes were seen, when, and which slots keep them. Slot choice never
// trusts file times: with report_access=owner a report belongs to its user,
// who can set its mtime to anything.
#pragma once

#include <sys/types.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace usercrash::store {

inline constexpr const char* kIndexName = ".index";

// Crashes are grouped by signature and by the crashed process's user: a
// user who crashes a copy of someone else's program at the same place gets
// a group of their own, and cannot make that program's reports be replaced
// or rate-limited.
struct GroupKey {
  std::string signature;
  uint32_t uid = 0;
  auto operator<=>(const GroupKey&) const = default;
};

// What a publication says about its crash, for the group's display.
struct CrashFacts {
  std::optional<GroupKey> group;  // none: the report has no signature
  std::string comm;               // as the text report gives it (escaped)
  std::string exe;
};

struct SlotRecord {
  unsigned slot = 0;
  // Order of publication. 0: found in the directory without a record (a
  // ring older than the index), older than anything recorded.
  uint64_t sequence = 0;
  std::optional<GroupKey> group;
  int64_t published = 0;  // seconds since the epoch
};

struct GroupRecord {
  GroupKey key;
  uint64_t count = 0;      // crashes seen: kept, replaced and not kept
  uint64_t not_kept = 0;   // of them, never stored (rate_limit)
  int64_t first_seen = 0;  // seconds since the epoch
  int64_t last_seen = 0;
  std::string comm, exe;  // of the newest crash
};

// Where the next report goes.
struct SlotChoice {
  unsigned slot = 0;
  bool replaces_group_newest = false;  // the group already keeps its first reports and a newest: that one goes
};

class RingIndex {
 public:
  // Groups remembered, at most; those with no report left in the ring go
  // first, least recently seen first.
  static constexpr size_t kMaxGroups = 1024;

  // The file's text to an index; text it cannot read gives an empty index
  // and the reason in `problem`.
  static RingIndex parse(std::string_view text, std::string* problem = nullptr);
  std::string serialize() const;

  // Reads the directory's index. A missing file is an empty index; one that
  // is not a plain file of root's (or ours) alone is ignored, with the reason.
  static RingIndex load(int dirfd, std::string* problem = nullptr);
  // Replaces the directory's index (a new file renamed over the old).
  // Call under the directory's lock.
  util::Result<void> save(int dirfd) const;

  // Makes the records agree with the directory: `present[i]` says whether
  // slot i holds a report. Records of empty slots are forgotten; reports
  // without a record count as older than every recorded one.
  void reconcile(const std::vector<bool>& present);

  // The slot for a report of `group` in a ring of `count` slots (`present`
  // as for reconcile; `busy` slots are skipped unless all are). With
  // keep_per_signature K > 0, a group that already holds K + 1 reports (its
  // first K and its newest) replaces its newest; otherwise the first empty
  // slot, else the oldest publication.
  SlotChoice choose(const std::optional<GroupKey>& group, unsigned count, unsigned keep_per_signature,
                    const std::vector<bool>& present, const std::vector<bool>& busy = {}) const;

  // Records a publication into `slot` now.
  void record(unsigned slot, const CrashFacts& facts, int64_t now);
  // Counts a crash of `facts.group` that was not stored.
  void count_not_kept(const CrashFacts& facts, int64_t now);

  const std::vector<SlotRecord>& slots() const { return slots_; }
  const std::vector<GroupRecord>& groups() const { return groups_; }
  const GroupRecord* group(const GroupKey& key) const;
  const SlotRecord* slot(unsigned index) const;
  // The group's slots, oldest publication first.
  std::vector<unsigned> slots_of(const GroupKey& key) const;

 private:
  GroupRecord& touch(const CrashFacts& facts, int64_t now);
  void prune_groups();

  uint64_t next_sequence_ = 1;
  std::vector<SlotRecord> slots_;  // by slot number
  std::vector<GroupRecord> groups_;
};

}  // namespace usercrash::store
