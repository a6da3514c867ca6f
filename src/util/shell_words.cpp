#include "util/shell_words.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/escape.h"

namespace usercrash::util {

namespace {

bool plain(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
}

// Whether a terminal shows WORD as the bytes it is.
bool shows_as_it_is(std::string_view word) {
  for (char c : word)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return terminal_safe(word) == word;
}

// One word of TEXT from AT on (AT at a non-blank); AT is left after it.
Result<std::string> next_word(std::string_view text, size_t& at) {
  std::string word;
  char quote = 0;
  for (; at < text.size(); ++at) {
    char c = text[at];
    if (quote == '\'') {
      if (c == '\'') quote = 0;
      else word += c;
    } else if (quote == '"') {
      if (c == '"') quote = 0;
      else if (c == '\\' && at + 1 < text.size() &&
               std::string_view("\"\\$`").find(text[at + 1]) != std::string_view::npos)
        word += text[++at];
      else word += c;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      break;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\') {
      if (++at == text.size()) return fail("a backslash ends the text");
      word += text[at];
    } else {
      word += c;
    }
  }
  if (quote) return fail(fmt::format("unterminated {} quote", quote == '\'' ? "single" : "double"));
  return word;
}

}  // namespace

std::optional<std::string> shell_quote(std::string_view word) {
  if (!shows_as_it_is(word)) return std::nullopt;
  if (!word.empty() && std::all_of(word.begin(), word.end(), plain)) return std::string(word);
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::optional<std::string> shell_command_line(std::span<const std::string> words) {
  std::string line;
  for (const auto& w : words) {
    auto quoted = shell_quote(w);
    if (!quoted) return std::nullopt;
    line += line.empty() ? "" : " ";
    line += *quoted;
  }
  return line;
}

Result<std::vector<std::string>> split_shell_words(std::string_view text) {
  std::vector<std::string> words;
  size_t at = 0;
  while (true) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n')) ++at;
    if (at == text.size()) return words;
    if (words.size() == kMaxWords) return fail(fmt::format("more than {} words", kMaxWords));
    auto word = next_word(text, at);
    if (!word) return std::unexpected(word.error());
    words.push_back(std::move(*word));
  }
}

}  // namespace usercrash::util
