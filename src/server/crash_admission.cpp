#include "server/crash_admission.h"

namespace usercrash::server {

void CrashAdmission::prune(Clock::time_point now) {
  for (auto it = group_times_.begin(); it != group_times_.end();) {
    auto& times = it->second;
    while (!times.empty() && now - times.front() >= kWindow) times.pop_front();
    it = times.empty() ? group_times_.erase(it) : std::next(it);
  }
  while (!new_slot_times_.empty() && now - new_slot_times_.front() >= kWindow) new_slot_times_.pop_front();
}

CrashAdmission::Decision CrashAdmission::decide(const std::optional<store::GroupKey>& group, Clock::time_point now) {
  Decision d;
  if (rate_limit_ == 0) return d;
  prune(now);
  if (group) {
    auto it = group_times_.find(*group);
    if (it != group_times_.end() && it->second.size() >= rate_limit_) {
      d.keep = false;
      return d;
    }
  }
  d.new_slot_allowed = new_slot_times_.size() < rate_limit_;
  return d;
}

void CrashAdmission::stored(const std::optional<store::GroupKey>& group, bool new_slot, Clock::time_point now) {
  if (rate_limit_ == 0) return;
  if (group) group_times_[*group].push_back(now);
  if (new_slot) new_slot_times_.push_back(now);
}

void CrashAdmission::note_loop(const store::GroupKey& group, const std::string& comm, const std::string& slot,
                               bool kept, uint64_t total) {
  if (!notes_since_) notes_since_ = Clock::now();
  LoopNote& n = notes_[group];
  n.group = group;
  n.comm = comm;
  if (kept) {
    n.newest_slot = slot;
    ++n.replaced;
  } else {
    ++n.not_kept;
  }
  n.total = total;
}

std::vector<CrashAdmission::LoopNote> CrashAdmission::take_notes(Clock::time_point now) {
  std::vector<LoopNote> out;
  if (!notes_since_ || now - *notes_since_ < kWindow) return out;
  for (auto& [key, note] : notes_) out.push_back(std::move(note));
  notes_.clear();
  notes_since_.reset();
  return out;
}

std::optional<CrashAdmission::Clock::time_point> CrashAdmission::next_notes() const {
  if (!notes_since_) return std::nullopt;
  return *notes_since_ + kWindow;
}

}  // namespace usercrash::server
