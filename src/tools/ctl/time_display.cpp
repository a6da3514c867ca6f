#include "tools/ctl/time_display.h"

#include <ctime>

#include "tools/ctl/text.h"
#include "util/parse.h"

namespace usercrash::tools::ctl {

std::string show_time(int64_t seconds, bool utc) {
  time_t t = static_cast<time_t>(seconds);
  tm parts{};
  if ((utc ? ::gmtime_r(&t, &parts) : ::localtime_r(&t, &parts)) == nullptr) return std::to_string(seconds);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, utc ? "%a %Y-%m-%d %H:%M:%S UTC" : "%a %Y-%m-%d %H:%M:%S %Z", &parts);
  return n ? std::string(buf, n) : std::to_string(seconds);
}

std::optional<int64_t> parse_iso8601_utc(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SSZ, nothing more or less.
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z')
    return std::nullopt;
  auto field = [&](size_t at, size_t len) { return util::parse_int<int>(text.substr(at, len)); };
  auto year = field(0, 4), month = field(5, 2), day = field(8, 2);
  auto hour = field(11, 2), minute = field(14, 2), second = field(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
    return std::nullopt;
  tm parts{};
  parts.tm_year = *year - 1900;
  parts.tm_mon = *month - 1;
  parts.tm_mday = *day;
  parts.tm_hour = *hour;
  parts.tm_min = *minute;
  parts.tm_sec = *second;
  return static_cast<int64_t>(::timegm(&parts));
}

std::string show_report_times(std::string_view text, bool utc) {
  constexpr std::string_view kTime = "time: ";
  bool done = false;  // only the header's line: a report holds one
  return map_lines(text, [&](std::string_view line, std::string& out) {
    std::optional<int64_t> seconds;
    if (!done && line.starts_with(kTime)) seconds = parse_iso8601_utc(line.substr(kTime.size()));
    if (!seconds) {
      out += line;
      return;
    }
    out += kTime;
    out += show_time(*seconds, utc);
    done = true;
  });
}

}  // namespace usercrash::tools::ctl
