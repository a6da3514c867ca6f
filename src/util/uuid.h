// Random (version 4) UUIDs: the stable id of a report (issue 12.7).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace usercrash::util {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower-case hex, from getrandom().
// When the kernel gives no random bytes (it always does after early boot),
// the clock, pid and a counter make one that is still unique on this machine.
std::string random_uuid();

// TEXT in lower case when it has the 36-character 8-4-4-4-12 hex form
// (either case); nullopt otherwise.
std::optional<std::string> parse_uuid(std::string_view text);

}  // namespace usercrash::util
