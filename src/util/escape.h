// Making bytes that came from the crashing process safe to print.
#pragma once

#include <string>
#include <string_view>

namespace usercrash::util {

// Printable ASCII and valid UTF-8 pass through; control bytes, backslash and
// invalid UTF-8 become C-style escapes (\n, \t, \\, \x1b). The result never
// contains a newline or a terminal escape sequence.
std::string escape_text(std::string_view raw);

// Valid UTF-8 for JSON: invalid sequences become U+FFFD so the JSON stays
// valid; the JSON serializer escapes control characters itself.
std::string to_valid_utf8(std::string_view raw);

// The longest prefix of `text` of at most `max_bytes` that does not end
// inside a UTF-8 character.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

}  // namespace usercrash::util
