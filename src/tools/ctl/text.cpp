#include "tools/ctl/text.h"

#include <iterator>

#include <fmt/format.h>

#include "util/escape.h"

namespace usercrash::tools::ctl {

std::string single_quoted(std::string_view value) { return "'" + util::escape_text(value) + "'"; }

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

}  // namespace usercrash::tools::ctl
