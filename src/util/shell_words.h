// Command lines printed for a person to copy into a shell (usercrashctl
// debug prints the debugger's, never runs it), and the words of an option
// that holds several arguments (-A "-batch -ex bt"). Nothing here runs a
// shell.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace usercrash::util {

// WORD as one shell word: as it is when it holds only [A-Za-z0-9_@%+=:,./-],
// else in single quotes ('\'' for a quote). nullopt when no quoting can show
// it safely on a terminal: empty of nothing it could lose, but a control
// byte, invalid UTF-8 or a character that reorders text (see escape_text).
std::optional<std::string> shell_quote(std::string_view word);

// WORDS quoted and joined by spaces; nullopt when one cannot be quoted.
std::optional<std::string> shell_command_line(std::span<const std::string> words);

// TEXT split into words as a shell would split one unexpanded argument list:
// blanks separate words, '...' and "..." quote (a backslash escapes " \ $ `
// inside "..."), a backslash escapes the next character outside quotes.
// Nothing is expanded. An unterminated quote or a trailing backslash is an
// error; at most kMaxWords words.
inline constexpr size_t kMaxWords = 256;
Result<std::vector<std::string>> split_shell_words(std::string_view text);

}  // namespace usercrash::util
