// Times as usercrashctl shows them (issue 12.8): in local time with the zone,
// as coredumpctl does ("Tue 2026-12-01 05:36:39 CET"), or in UTC with --utc.
// Reports and JSON keep ISO 8601 UTC; only what is printed for a person
// changes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace usercrash::tools::ctl {

// SECONDS since the epoch, in the local zone (TZ, /etc/localtime) or UTC.
std::string show_time(int64_t seconds, bool utc);

// "2026-12-01T04:36:39Z" (the reports' form) to seconds since the epoch.
std::optional<int64_t> parse_iso8601_utc(std::string_view text);

// TEXT (a text report) with its "time: <ISO 8601 UTC>" header line shown as
// show_time does; every other line, and a time line that does not parse, as
// it was.
std::string show_report_times(std::string_view text, bool utc);

}  // namespace usercrash::tools::ctl
