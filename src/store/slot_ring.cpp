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

}  // namespace usercrash::store
