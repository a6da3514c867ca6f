// usercrashctl -F FIELD (list and info): one value of each report's JSON,
// one line per report. FIELD is a key of the report ("exe") or a path of
// keys and array indexes joined by dots ("signal.name", "threads.0.tid").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace usercrash::tools::ctl {

inline constexpr size_t kMaxFieldLength = 256;
inline constexpr size_t kMaxFieldDepth = 16;

// FIELD split at its dots; nullopt when it is no field (an empty part, a
// character other than [A-Za-z0-9_-], too long or too deep).
std::optional<std::vector<std::string>> parse_field(std::string_view field);

// The value at PATH in DOC; nullptr when there is none.
const nlohmann::json* field_of(const nlohmann::json& doc, const std::vector<std::string>& path);

// VALUE as one line: a string as it is, escaped (no control or bidi
// character reaches the terminal), anything else as compact JSON with every
// non-ASCII character escaped; no value: an empty line's text.
std::string field_line(const nlohmann::json* value);

}  // namespace usercrash::tools::ctl
