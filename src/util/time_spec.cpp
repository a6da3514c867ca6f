#include "util/time_spec.h"

#include <ctime>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "util/parse.h"

namespace usercrash::util {

namespace {

constexpr int64_t kMaxRelative = 100LL * 366 * 86400;

// The broken-down time (tm_year etc. set) as seconds, in UTC or local time;
// nullopt when the fields are no real date (2026-02-30) or out of range.
std::optional<int64_t> to_seconds(tm parts, bool utc) {
  tm asked = parts;
  parts.tm_isdst = -1;
  time_t t = utc ? ::timegm(&parts) : ::mktime(&parts);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  // mktime normalizes Feb 30 to Mar 2: a date it changed did not exist.
  if (parts.tm_year != asked.tm_year || parts.tm_mon != asked.tm_mon || parts.tm_mday != asked.tm_mday)
    return std::nullopt;
  return static_cast<int64_t>(t);
}

// Midnight of NOW's day, moved by DAYS days.
std::optional<int64_t> midnight(int64_t now, int days, bool utc) {
  time_t t = static_cast<time_t>(now);
  tm parts{};
  if ((utc ? ::gmtime_r(&t, &parts) : ::localtime_r(&t, &parts)) == nullptr) return std::nullopt;
  parts.tm_hour = parts.tm_min = parts.tm_sec = 0;
  parts.tm_mday += days;
  parts.tm_isdst = -1;
  time_t m = utc ? ::timegm(&parts) : ::mktime(&parts);
  return static_cast<int64_t>(m);
}

std::optional<int64_t> unit_seconds(std::string_view unit) {
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"s", 1},       {"sec", 1},      {"second", 1}, {"seconds", 1},   {"m", 60},         {"min", 60},
      {"minute", 60}, {"minutes", 60}, {"h", 3600},   {"hour", 3600},   {"hours", 3600},   {"d", 86400},
      {"day", 86400}, {"days", 86400}, {"w", 604800}, {"week", 604800}, {"weeks", 604800},
  };
  for (const auto& [name, seconds] : kUnits)
    if (unit == name) return seconds;
  return std::nullopt;
}

// "-2h", "+30min": NOW moved.
std::optional<int64_t> relative(std::string_view text, int64_t now) {
  int sign = text[0] == '-' ? -1 : 1;
  text.remove_prefix(1);
  size_t digits = text.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos) return std::nullopt;
  auto count = parse_int<int64_t>(text.substr(0, digits));
  auto unit = unit_seconds(text.substr(digits));
  if (!count || !unit || *count > kMaxRelative / *unit) return std::nullopt;
  return now + sign * *count * *unit;
}

// The zone after an ISO time: "", "Z", " UTC", "+01:00", "-0500". Its
// offset east of UTC in seconds, or nullopt when no zone was given.
std::optional<std::optional<int64_t>> zone_offset(std::string_view zone) {
  if (zone.empty()) return std::optional<int64_t>{};
  if (zone == "Z" || zone == " UTC" || zone == "UTC" || zone == " Z") return std::optional<int64_t>{0};
  if (zone[0] != '+' && zone[0] != '-') return std::nullopt;
  int sign = zone[0] == '-' ? -1 : 1;
  std::string hhmm(zone.substr(1));
  if (hhmm.size() == 5 && hhmm[2] == ':') hhmm.erase(2, 1);
  if (hhmm.size() != 4 && hhmm.size() != 2) return std::nullopt;
  auto hours = parse_int<int>(std::string_view(hhmm).substr(0, 2));
  auto minutes = hhmm.size() == 4 ? parse_int<int>(std::string_view(hhmm).substr(2, 2)) : std::optional<int>(0);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  return std::optional<int64_t>{sign * (*hours * 3600 + *minutes * 60)};
}

// "YYYY-MM-DD[( |T)HH:MM[:SS]][ZONE]".
std::optional<int64_t> absolute(std::string_view text, bool utc) {
  auto field = [&](size_t at, size_t len) -> std::optional<int> {
    if (text.size() < at + len) return std::nullopt;
    std::string_view digits = text.substr(at, len);
    if (digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    return parse_int<int>(digits);
  };
  auto year = field(0, 4), month = field(5, 2), day = field(8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-') return std::nullopt;
  tm parts{};
  parts.tm_year = *year - 1900;
  parts.tm_mon = *month - 1;
  parts.tm_mday = *day;
  size_t end = 10;
  if (text.size() > 10 && (text[10] == ' ' || text[10] == 'T') && text.size() >= 16 && text[13] == ':') {
    auto hour = field(11, 2), minute = field(14, 2);
    if (!hour || !minute || *hour > 23 || *minute > 59) return std::nullopt;
    parts.tm_hour = *hour;
    parts.tm_min = *minute;
    end = 16;
    if (text.size() >= 19 && text[16] == ':') {
      auto second = field(17, 2);
      if (!second || *second > 59) return std::nullopt;
      parts.tm_sec = *second;
      end = 19;
    }
  }
  if (*year < 1970 || *month < 1 || *month > 12 || *day < 1 || *day > 31) return std::nullopt;
  auto zone = zone_offset(text.substr(end));
  if (!zone) return std::nullopt;
  auto seconds = to_seconds(parts, utc || zone->has_value());
  if (!seconds) return std::nullopt;
  return *seconds - zone->value_or(0);
}

std::optional<int64_t> parse(std::string_view text, int64_t now, bool utc) {
  if (text == "now") return now;
  if (text == "today") return midnight(now, 0, utc);
  if (text == "yesterday") return midnight(now, -1, utc);
  if (text == "tomorrow") return midnight(now, 1, utc);
  if (text[0] == '-' || text[0] == '+') return relative(text, now);
  if (text[0] == '@') {
    auto seconds = parse_int<int64_t>(text.substr(1));
    if (!seconds || *seconds < 0 || *seconds > 253402300799) return std::nullopt;  // up to 9999-12-31
    return seconds;
  }
  return absolute(text, utc);
}

}  // namespace

Result<int64_t> parse_time_spec(std::string_view text, int64_t now, bool utc) {
  std::optional<int64_t> seconds;
  if (!text.empty() && text.size() <= kMaxTimeSpec) seconds = parse(text, now, utc);
  if (seconds) return *seconds;
  return fail(
      "not a time (2026-12-01, \"2026-12-01 10:00\", 2026-12-01T10:00:00Z, today, yesterday, -2h, -30min, -1d, "
      "@SECONDS)");
}

}  // namespace usercrash::util
