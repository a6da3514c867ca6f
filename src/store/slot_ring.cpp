#include "store/slot_ring.h"

#include <fmt/format.h>

#include "util/parse.h"

namespace usercrash::store {

std::string slot_name(unsigned index) { return fmt::format("usercrash_{:02}", index); }

std::optional<unsigned> slot_index(const std::string& name, unsigned count) {
  constexpr std::string_view kPrefix = "usercrash_";
  if (!name.starts_with(kPrefix)) return std::nullopt;
  auto n = util::parse_int<unsigned>(std::string_view(name).substr(kPrefix.size()));
  if (!n || *n >= count || slot_name(*n) != name) return std::nullopt;
  return n;
}

unsigned choose_slot(const SlotTimes& times, const std::vector<bool>& busy) {
  auto is_busy = [&](size_t i) { return i < busy.size() && busy[i]; };
  bool all_busy = true;
  for (size_t i = 0; i < times.size(); ++i) all_busy = all_busy && is_busy(i);
  auto usable = [&](size_t i) { return all_busy || !is_busy(i); };

  for (size_t i = 0; i < times.size(); ++i)
    if (usable(i) && !times[i]) return static_cast<unsigned>(i);
  std::optional<size_t> oldest;
  for (size_t i = 0; i < times.size(); ++i) {
    if (!usable(i)) continue;
    if (!oldest) {
      oldest = i;
      continue;
    }
    const timespec& a = *times[i];
    const timespec& b = *times[*oldest];
    if (a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec)) oldest = i;
  }
  return static_cast<unsigned>(oldest.value_or(0));
}

}  // namespace usercrash::store
