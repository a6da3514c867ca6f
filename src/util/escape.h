// Making bytes that came from the crashing process safe to print.
#pragma once

#include <string>
#include <string_view>

namespace usercrash::util {

// Printable ASCII and valid UTF-8 pass through; control bytes, backslash and
// invalid UTF-8 become C-style escapes (\n, \t, \\, \x1b); characters that
// reorder or hide text (bidi controls U+202A-202E and U+2066-2069, zero-width
// U+200B-200F, U+2028/2029, U+2060-2064, U+FEFF, U+061C) become \u202e. The
// result never contains a newline, a terminal escape sequence or a character
// that makes the text read other than it is.
std::string escape_text(std::string_view raw);

// A whole text (a report read back from disk) made safe for a terminal:
// lines, tabs and backslashes stay as they are; every other control byte,
// invalid UTF-8 and the characters escape_text writes as \u202e are escaped
// as escape_text does. Text our renderers wrote passes through unchanged.
std::string terminal_safe(std::string_view text);

// Valid UTF-8 for JSON: invalid sequences become U+FFFD so the JSON stays
// valid; the JSON serializer escapes control characters itself.
std::string to_valid_utf8(std::string_view raw);

// The longest prefix of `text` of at most `max_bytes` that does not end
// inside a UTF-8 character.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

}  // namespace usercrash::util
