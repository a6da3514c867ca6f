#include "store/ring_index.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/file_io.h"
#include "util/unique_fd.h"

namespace usercrash::store {

using nlohmann::json;

namespace {

constexpr int kFormat = 1;
constexpr const char* kIndexTemp = ".index.new";
// Far beyond kMaxGroups records and a 1000-slot ring.
constexpr size_t kMaxIndexSize = 4 << 20;
// Longest comm / exe kept per group, for display.
constexpr size_t kMaxName = 256;

std::optional<GroupKey> key_from(const json& j) {
  if (!j.contains("signature") || !j["signature"].is_string() || !j.contains("uid") || !j["uid"].is_number_unsigned())
    return std::nullopt;
  return GroupKey{j["signature"].get<std::string>(), j["uid"].get<uint32_t>()};
}

template <typename T>
T number_or(const json& j, const char* key, T fallback) {
  if (!j.contains(key) || !j[key].is_number_integer()) return fallback;
  return j[key].get<T>();
}

std::string string_or_empty(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>().substr(0, kMaxName);
}

}  // namespace

RingIndex RingIndex::parse(std::string_view text, std::string* problem) {
  RingIndex index;
  auto fail = [&](const std::string& why) {
    if (problem) *problem = why;
    return RingIndex{};
  };
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return fail("not a JSON object");
  if (number_or<int>(doc, "format", 0) != kFormat) return fail("unknown format");
  index.next_sequence_ = std::max<uint64_t>(1, number_or<uint64_t>(doc, "next_sequence", 1));
  if (doc.contains("slots") && doc["slots"].is_array()) {
    for (const auto& s : doc["slots"]) {
      if (!s.is_object() || !s.contains("slot") || !s["slot"].is_number_unsigned()) continue;
      SlotRecord r;
      r.slot = s["slot"].get<unsigned>();
      r.sequence = number_or<uint64_t>(s, "sequence", 0);
      r.published = number_or<int64_t>(s, "published", 0);
      r.group = key_from(s);
      if (r.sequence >= index.next_sequence_) index.next_sequence_ = r.sequence + 1;
      if (!index.slot(r.slot)) index.slots_.push_back(std::move(r));
    }
  }
  std::sort(index.slots_.begin(), index.slots_.end(),
            [](const SlotRecord& a, const SlotRecord& b) { return a.slot < b.slot; });
  if (doc.contains("groups") && doc["groups"].is_array()) {
    for (const auto& g : doc["groups"]) {
      if (!g.is_object()) continue;
      auto key = key_from(g);
      if (!key || index.group(*key)) continue;
      GroupRecord r;
      r.key = *key;
      r.count = number_or<uint64_t>(g, "count", 0);
      r.not_kept = number_or<uint64_t>(g, "not_kept", 0);
      r.first_seen = number_or<int64_t>(g, "first_seen", 0);
      r.last_seen = number_or<int64_t>(g, "last_seen", 0);
      r.comm = string_or_empty(g, "comm");
      r.exe = string_or_empty(g, "exe");
      index.groups_.push_back(std::move(r));
      if (index.groups_.size() >= kMaxGroups) break;
    }
  }
  return index;
}

std::string RingIndex::serialize() const {
  json slots = json::array();
  for (const auto& s : slots_) {
    json j = {{"slot", s.slot}, {"sequence", s.sequence}, {"published", s.published}};
    if (s.group) {
      j["signature"] = s.group->signature;
      j["uid"] = s.group->uid;
    }
    slots.push_back(std::move(j));
  }
  json groups = json::array();
  for (const auto& g : groups_)
    groups.push_back({{"signature", g.key.signature},
                      {"uid", g.key.uid},
                      {"count", g.count},
                      {"not_kept", g.not_kept},
                      {"first_seen", g.first_seen},
                      {"last_seen", g.last_seen},
                      {"comm", g.comm},
                      {"exe", g.exe}});
  json doc = {{"format", kFormat}, {"next_sequence", next_sequence_}, {"slots", slots}, {"groups", groups}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

RingIndex RingIndex::load(int dirfd, std::string* problem) {
  util::UniqueFd fd(::openat(dirfd, kIndexName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno != ENOENT && problem) *problem = fmt::format("{}: {}", kIndexName, std::strerror(errno));
    return {};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
      (st.st_uid != 0 && st.st_uid != ::geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
    if (problem) *problem = fmt::format("{}: not a plain file of root's alone; ignored", kIndexName);
    return {};
  }
  bool truncated = false;
  auto text = util::read_all(fd.get(), kMaxIndexSize, &truncated);
  if (!text || truncated) {
    if (problem) *problem = fmt::format("{}: {}", kIndexName, text ? "too large" : text.error().message);
    return {};
  }
  std::string why;
  RingIndex index = parse(*text, &why);
  if (!why.empty() && problem) *problem = fmt::format("{}: {}; ignored", kIndexName, why);
  return index;
}

util::Result<void> RingIndex::save(int dirfd) const {
  std::string text = serialize();
  // Under the directory lock, a leftover temp name is an interrupted save
  // (or something planted): it goes.
  ::unlinkat(dirfd, kIndexTemp, 0);
  util::UniqueFd fd(::openat(dirfd, kIndexTemp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return util::fail_errno(fmt::format("create {}", kIndexTemp));
  if (auto w = util::write_all(fd.get(), text); !w) {
    ::unlinkat(dirfd, kIndexTemp, 0);
    return std::unexpected(w.error());
  }
  if (::renameat(dirfd, kIndexTemp, dirfd, kIndexName) != 0) {
    int err = errno;
    ::unlinkat(dirfd, kIndexTemp, 0);
    return util::fail_errno(fmt::format("replace {}", kIndexName), err);
  }
  return {};
}

void RingIndex::reconcile(const std::vector<bool>& present) {
  std::erase_if(slots_, [&](const SlotRecord& s) { return s.slot >= present.size() || !present[s.slot]; });
  for (unsigned i = 0; i < present.size(); ++i) {
    if (!present[i] || slot(i)) continue;
    slots_.push_back(SlotRecord{i, 0, std::nullopt, 0});
  }
  std::sort(slots_.begin(), slots_.end(), [](const SlotRecord& a, const SlotRecord& b) { return a.slot < b.slot; });
}

SlotChoice RingIndex::choose(const std::optional<GroupKey>& group, unsigned count, unsigned keep_per_signature,
                             const std::vector<bool>& present, const std::vector<bool>& busy) const {
  auto is_busy = [&](unsigned i) { return i < busy.size() && busy[i]; };
  auto is_present = [&](unsigned i) { return i < present.size() && present[i]; };
  bool all_busy = true;
  for (unsigned i = 0; i < count; ++i) all_busy = all_busy && is_busy(i);
  auto usable = [&](unsigned i) { return all_busy || !is_busy(i); };

  if (group && keep_per_signature > 0) {
    std::vector<unsigned> mine = slots_of(*group);
    std::erase_if(mine, [&](unsigned i) { return i >= count || !is_present(i); });
    if (mine.size() > keep_per_signature && usable(mine.back())) return {mine.back(), true};
  }
  for (unsigned i = 0; i < count; ++i)
    if (usable(i) && !is_present(i)) return {i, false};
  std::optional<unsigned> oldest;
  uint64_t oldest_sequence = 0;
  for (unsigned i = 0; i < count; ++i) {
    if (!usable(i)) continue;
    const SlotRecord* r = slot(i);
    uint64_t sequence = r ? r->sequence : 0;
    if (!oldest || sequence < oldest_sequence) {
      oldest = i;
      oldest_sequence = sequence;
    }
  }
  return {oldest.value_or(0), false};
}

GroupRecord& RingIndex::touch(const CrashFacts& facts, int64_t now) {
  auto it = std::find_if(groups_.begin(), groups_.end(), [&](const GroupRecord& g) { return g.key == *facts.group; });
  if (it == groups_.end()) {
    GroupRecord g;
    g.key = *facts.group;
    g.first_seen = now;
    groups_.push_back(std::move(g));
    it = groups_.end() - 1;
  }
  it->count++;
  it->last_seen = now;
  it->comm = facts.comm.substr(0, kMaxName);
  it->exe = facts.exe.substr(0, kMaxName);
  return *it;
}

void RingIndex::record(unsigned slot_index, const CrashFacts& facts, int64_t now) {
  std::erase_if(slots_, [&](const SlotRecord& s) { return s.slot == slot_index; });
  slots_.push_back(SlotRecord{slot_index, next_sequence_++, facts.group, now});
  std::sort(slots_.begin(), slots_.end(), [](const SlotRecord& a, const SlotRecord& b) { return a.slot < b.slot; });
  if (facts.group) touch(facts, now);
  prune_groups();
}

void RingIndex::count_not_kept(const CrashFacts& facts, int64_t now) {
  if (!facts.group) return;
  touch(facts, now).not_kept++;
  prune_groups();
}

void RingIndex::prune_groups() {
  if (groups_.size() <= kMaxGroups) return;
  auto in_ring = [&](const GroupRecord& g) {
    return std::any_of(slots_.begin(), slots_.end(), [&](const SlotRecord& s) { return s.group == g.key; });
  };
  // Least recently seen first; groups with reports in the ring last.
  std::stable_sort(groups_.begin(), groups_.end(), [&](const GroupRecord& a, const GroupRecord& b) {
    bool ra = in_ring(a), rb = in_ring(b);
    if (ra != rb) return !ra;
    return a.last_seen < b.last_seen;
  });
  groups_.erase(groups_.begin(), groups_.begin() + static_cast<std::ptrdiff_t>(groups_.size() - kMaxGroups));
}

const GroupRecord* RingIndex::group(const GroupKey& key) const {
  for (const auto& g : groups_)
    if (g.key == key) return &g;
  return nullptr;
}

const SlotRecord* RingIndex::slot(unsigned index) const {
  for (const auto& s : slots_)
    if (s.slot == index) return &s;
  return nullptr;
}

std::vector<unsigned> RingIndex::slots_of(const GroupKey& key) const {
  std::vector<const SlotRecord*> mine;
  for (const auto& s : slots_)
    if (s.group == key) mine.push_back(&s);
  std::sort(mine.begin(), mine.end(),
            [](const SlotRecord* a, const SlotRecord* b) { return a->sequence < b->sequence; });
  std::vector<unsigned> out;
  for (const auto* s : mine) out.push_back(s->slot);
  return out;
}

}  // namespace usercrash::store
