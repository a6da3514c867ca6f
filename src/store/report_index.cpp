#include "store/report_index.h"

#include "util/private_directory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "store/crash_directory.h"
#include "store/report_head.h"
#include "store/slot_ring.h"
#include "util/directory_walk.h"
#include "util/file_io.h"
#include "util/parse.h"
#include "util/uuid.h"

namespace usercrash::store {

using util::Result;
using util::UniqueFd;

namespace {

// A report's JSON is capped by max_report_size (16 MiB by default); a file
// far beyond any sane cap is not read for a one-line summary.
constexpr size_t kMaxSummaryJson = 256ULL << 20;
// The text report's header (pid, uid, exe, time, signal) fits well in this.
constexpr size_t kTextHead = 8192;

using json = nlohmann::json;

// A report's id, taken only in the UUID form (anything else could be
// mistaken for a slot or pid, or carry controls).
void set_id(ReportSummary& out, std::string_view id) {
  if (auto uuid = util::parse_uuid(id)) out.id = std::move(*uuid);
}

// Picks the summary's fields out of the report JSON without building it:
// top-level pid, uid, comm, exe, time, signature, and signal.number / signal.name.
class SummarySax final : public nlohmann::json_sax<json> {
 public:
  explicit SummarySax(ReportSummary& out) : out_(out) {}

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t v) override { return number(static_cast<int64_t>(v)); }
  bool number_unsigned(number_unsigned_t v) override {
    return v <= static_cast<uint64_t>(INT64_MAX) ? number(static_cast<int64_t>(v)) : scalar();
  }
  bool number_float(number_float_t, const string_t&) override { return scalar(); }
  bool string(string_t& v) override {
    if (top_level()) {
      if (keys_[0] == "comm") out_.comm = v;
      else if (keys_[0] == "exe") out_.exe = v;
      else if (keys_[0] == "time") out_.time = v;
      else if (keys_[0] == "id") set_id(out_, v);
      else if (keys_[0] == "signature") out_.signature = v;
    } else if (in_signal() && keys_[1] == "name") {
      out_.signal_name = v;
    }
    return scalar();
  }
  bool binary(binary_t&) override { return scalar(); }
  bool start_object(std::size_t) override {
    objects_.push_back(true);
    keys_.resize(objects_.size());
    return true;
  }
  bool key(string_t& k) override {
    if (!keys_.empty()) keys_.back() = k;
    return true;
  }
  bool end_object() override { return end(); }
  bool start_array(std::size_t) override {
    objects_.push_back(false);
    keys_.resize(objects_.size());
    return true;
  }
  bool end_array() override { return end(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    error = fmt::format("at byte {}: {}", position, e.what());
    return false;
  }

  bool saw_object = false;
  std::string error;

 private:
  bool top_level() const { return objects_.size() == 1 && objects_[0]; }
  bool in_signal() const { return objects_.size() == 2 && objects_[0] && objects_[1] && keys_[0] == "signal"; }
  bool scalar() { return true; }
  bool number(int64_t v) {
    if (top_level()) {
      if (keys_[0] == "pid") out_.pid = v;
      else if (keys_[0] == "uid") out_.uid = v;
    } else if (in_signal() && keys_[1] == "number") {
      out_.signal = static_cast<int>(v);
    }
    return true;
  }
  bool end() {
    if (objects_.size() == 1 && objects_[0]) saw_object = true;
    objects_.pop_back();
    keys_.resize(objects_.size());
    return true;
  }

  ReportSummary& out_;
  std::vector<bool> objects_;      // open containers: true for an object
  std::vector<std::string> keys_;  // the current key of each open object
};

struct Entry {
  bool text = false;
  bool json = false;
  bool core = false;
};

// The slots found by trying every slot name: for a directory we may search
// but not list (report_access=owner, read by an ordinary user).
std::map<unsigned, Entry> probe(int dirfd) {
  std::map<unsigned, Entry> slots;
  for (unsigned i = 0; i < kMaxSlots; ++i) {
    struct stat st {};
    if (::fstatat(dirfd, slot_name(i).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) slots[i].text = true;
  }
  return slots;
}

// Slot index → which of its files exist; plus companions whose stem is a slot name.
std::map<unsigned, Entry> scan(int dirfd) {
  std::map<unsigned, Entry> slots;
  int flags = ::fcntl(dirfd, F_GETFL);
  if (flags >= 0 && (flags & O_PATH)) return probe(dirfd);
  auto walk = util::DirectoryWalk::open(dirfd);
  if (!walk) return slots;
  while (auto entry = walk->next()) {
    std::string name(*entry);
    if (auto i = slot_index(name, kMaxSlots)) {
      slots[*i].text = true;
      continue;
    }
    for (SlotFile kind : {SlotFile::json, SlotFile::core}) {
      std::string_view suffix = slot_suffix(kind);
      if (!name.ends_with(suffix)) continue;
      if (auto i = slot_index(name.substr(0, name.size() - suffix.size()), kMaxSlots))
        (kind == SlotFile::json ? slots[*i].json : slots[*i].core) = true;
    }
  }
  return slots;
}

std::optional<struct stat> stat_at(int dirfd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  return st;
}

uint64_t disk_bytes(const struct stat& st) { return static_cast<uint64_t>(st.st_blocks) * 512; }

bool older(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

}  // namespace

Result<UniqueFd> open_report_directory(const std::string& path) {
  // Reading only: another owner is fine (a user reading their own reports).
  util::DirectoryRules rules;
  rules.what = "crash directory";
  rules.must_be_ours = false;
  rules.search_only_ok = true;
  return util::open_private_directory(path, rules);
}

bool summary_from_json(std::string_view text, ReportSummary& out) {
  SummarySax sax(out);
  bool ok = json::sax_parse(text.begin(), text.end(), &sax);
  if (!ok || !sax.saw_object) {
    out.problem = "broken JSON" + (sax.error.empty() ? std::string(": not an object") : ": " + sax.error);
    return false;
  }
  return true;
}

void summary_from_text(std::string_view head, ReportSummary& out) {
  ReportHead h = parse_report_head(head);
  if (h.id) set_id(out, *h.id);
  out.pid = h.pid;
  out.uid = h.uid;
  out.comm = h.comm;
  out.exe = h.exe;
  out.time = h.time;
  out.signal = h.signal;
  out.signal_name = h.signal_name;
  out.signature = h.signature;
}

std::optional<ReportSummary> summarize_slot(int dirfd, unsigned slot) {
  ReportSummary s;
  s.slot = slot;
  s.name = slot_name(slot);
  auto text = stat_at(dirfd, s.name);
  if (!text || !S_ISREG(text->st_mode)) return std::nullopt;
  s.mtime = text->st_mtim;
  s.disk_bytes = disk_bytes(*text);
  std::string json_name = s.name + slot_suffix(SlotFile::json);
  std::string core_name = s.name + slot_suffix(SlotFile::core);
  if (auto j = stat_at(dirfd, json_name); j && S_ISREG(j->st_mode)) {
    s.has_json = true;
    s.disk_bytes += disk_bytes(*j);
  }
  if (auto c = stat_at(dirfd, core_name); c && S_ISREG(c->st_mode)) {
    s.has_core = true;
    s.disk_bytes += disk_bytes(*c);
  }

  bool from_json = false;
  if (s.has_json) {
    bool truncated = false;
    auto body = util::read_file_at(dirfd, json_name.c_str(), kMaxSummaryJson, &truncated);
    if (!body) s.problem = "JSON unreadable: " + body.error().message;
    else if (truncated) s.problem = fmt::format("JSON larger than {} MiB", kMaxSummaryJson >> 20);
    else from_json = summary_from_json(*body, s);
  } else {
    s.problem = "no JSON";
  }
  if (!from_json) {
    ReportSummary fallback = s;
    fallback.pid.reset();
    fallback.uid.reset();
    fallback.signal.reset();
    fallback.signal_name.reset();
    fallback.comm.reset();
    fallback.exe.reset();
    fallback.time.reset();
    fallback.id.reset();
    fallback.signature.reset();
    auto head = util::read_file_at(dirfd, s.name.c_str(), kTextHead);
    if (head) summary_from_text(*head, fallback);
    s = std::move(fallback);
  }
  return s;
}

std::vector<ReportSummary> list_reports(int dirfd) {
  std::vector<ReportSummary> out;
  for (const auto& [index, entry] : scan(dirfd)) {
    if (!entry.text) continue;
    if (auto s = summarize_slot(dirfd, index)) out.push_back(std::move(*s));
  }
  std::sort(out.begin(), out.end(), [](const ReportSummary& a, const ReportSummary& b) {
    if (older(b.mtime, a.mtime)) return true;
    if (older(a.mtime, b.mtime)) return false;
    return a.slot > b.slot;
  });
  return out;
}

std::optional<ReportSummary> newest_with_pid(const std::vector<ReportSummary>& reports, int64_t pid) {
  const ReportSummary* best = nullptr;
  for (const auto& r : reports)
    if (r.pid == pid && (!best || older(best->mtime, r.mtime))) best = &r;
  if (!best) return std::nullopt;
  return *best;
}

DirectoryUsage directory_usage(int dirfd) {
  DirectoryUsage usage;
  auto walk = util::DirectoryWalk::open(dirfd);
  if (!walk) return usage;
  while (auto entry = walk->next()) {
    std::string name(*entry);
    auto st = stat_at(dirfd, name);
    if (!st || !S_ISREG(st->st_mode)) continue;
    usage.bytes += disk_bytes(*st);
    if (slot_index(name, kMaxSlots)) ++usage.reports;
  }
  return usage;
}

Result<CleanResult> clean_reports(int dirfd, std::optional<std::chrono::milliseconds> older_than, timespec now) {
  CleanResult result;
  timespec cutoff = now;
  if (older_than) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*older_than);
    cutoff.tv_sec -= static_cast<time_t>(seconds.count());
    cutoff.tv_nsec -= static_cast<long>((*older_than - seconds).count() * 1'000'000);
    if (cutoff.tv_nsec < 0) {
      cutoff.tv_nsec += 1'000'000'000;
      --cutoff.tv_sec;
    }
  }
  auto expired = [&](const struct stat& st) { return !older_than || older(st.st_mtim, cutoff); };
  auto remove = [&](const std::string& name) -> Result<void> {
    auto st = stat_at(dirfd, name);
    if (!st) return {};
    if (::unlinkat(dirfd, name.c_str(), 0) != 0) {
      if (errno == ENOENT) return {};
      return util::fail_errno("remove " + name);
    }
    result.removed.push_back(name);
    result.bytes += disk_bytes(*st);
    return {};
  };

  for (const auto& [index, entry] : scan(dirfd)) {
    std::string name = slot_name(index);
    std::vector<std::string> doomed;
    if (entry.text) {
      auto st = stat_at(dirfd, name);
      if (!st || !expired(*st)) continue;
      doomed.push_back(name);  // the text first: the slot stops looking complete
      ++result.reports;
    }
    for (SlotFile kind : {SlotFile::json, SlotFile::core}) {
      bool present = kind == SlotFile::json ? entry.json : entry.core;
      if (!present) continue;
      std::string companion = name + slot_suffix(kind);
      if (!entry.text) {
        // An orphan: its report is gone (an interrupted clean, a hand-removed file).
        auto st = stat_at(dirfd, companion);
        if (!st || !expired(*st)) continue;
      }
      doomed.push_back(companion);
    }
    for (const auto& file : doomed)
      if (auto r = remove(file); !r) return std::unexpected(r.error());
  }
  return result;
}

}  // namespace usercrash::store
