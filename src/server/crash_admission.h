// Which crashes the server keeps, and what it says about crash loops.
//
// rate_limit (crashes per minute) applies per crash group (signature and
// user) first: a group past it has its crashes counted, not stored. Then
// globally, but only to reports that would take a slot of their own: a
// loop that only replaces its own newest report pushes nothing out, so it
// does not use up the global budget, and another program's crash in the
// middle of a loop is still recorded. Crashes of a loop (beyond the ones
// kept in full) are summed up in one log entry per group and minute.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/ring_index.h"

namespace usercrash::server {

class CrashAdmission {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::minutes kWindow{1};

  explicit CrashAdmission(unsigned rate_limit) : rate_limit_(rate_limit) {}

  struct Decision {
    bool keep = true;              // false: over the group's rate
    bool new_slot_allowed = true;  // false: over the global rate; only the group's own newest may be replaced
  };
  Decision decide(const std::optional<store::GroupKey>& group, Clock::time_point now);

  // A report was stored (in a new slot, or over its group's newest).
  void stored(const std::optional<store::GroupKey>& group, bool new_slot, Clock::time_point now);

  // For the minute's summary: a crash of `group` that replaced its newest
  // report (`slot`), or was not kept at all.
  void note_loop(const store::GroupKey& group, const std::string& comm, const std::string& slot, bool kept,
                 uint64_t total);

  struct LoopNote {
    store::GroupKey group;
    std::string comm;
    std::string newest_slot;  // "" when none was kept this minute
    uint64_t replaced = 0;    // stored over the group's newest report
    uint64_t not_kept = 0;    // over rate_limit
    uint64_t total = 0;       // crashes of the group in all
  };
  // The notes of the minute that ended, once `now` is a minute past the
  // previous call (empty otherwise).
  std::vector<LoopNote> take_notes(Clock::time_point now);
  // When take_notes next has something to say.
  std::optional<Clock::time_point> next_notes() const;

 private:
  void prune(Clock::time_point now);

  unsigned rate_limit_;
  std::map<store::GroupKey, std::deque<Clock::time_point>> group_times_;  // stored, last minute
  std::deque<Clock::time_point> new_slot_times_;                          // stored in a new slot, last minute
  std::map<store::GroupKey, LoopNote> notes_;
  std::optional<Clock::time_point> notes_since_;
};

}  // namespace usercrash::server
