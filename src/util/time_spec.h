// The times a person gives on a command line (usercrashctl list --since,
// --until), as journalctl and coredumpctl take them:
//   absolute  "2026-12-01", "2026-12-01 10:00", "2026-12-01 10:00:30",
//             ISO 8601 "2026-12-01T10:00:30" with an optional zone: "Z",
//             " UTC", "+01:00", "-0500"; without one, in the zone asked for
//   words     "now", "today", "yesterday", "tomorrow" (midnight)
//   relative  "-2h", "-30min", "-1d", "+1w", "-90s" (one number, one unit:
//             s sec second(s) m min minute(s) h hour(s) d day(s) w week(s))
//   epoch     "@1700000000"
// Bounded: at most kMaxTimeSpec bytes, years 1970-9999, a relative time of
// at most 100 years.
#pragma once

#include <cstdint>
#include <string_view>

#include "util/result.h"

namespace usercrash::util {

inline constexpr size_t kMaxTimeSpec = 64;

// Seconds since the epoch that TEXT names; NOW (seconds since the epoch) for
// the words and relative forms; UTC: a time without a zone (and midnight) is
// UTC rather than the local zone (TZ).
Result<int64_t> parse_time_spec(std::string_view text, int64_t now, bool utc);

}  // namespace usercrash::util
