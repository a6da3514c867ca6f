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

std::string map_lines(std::string_view text, const std::function<void(std::string_view line, std::string& out)>& each) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  while (!text.empty()) {
    size_t eol = text.find('\n');
    each(text.substr(0, eol), out);
    if (eol == std::string_view::npos) break;
    out += '\n';
    text.remove_prefix(eol + 1);
  }
  return out;
}

}  // namespace usercrash::tools::ctl
