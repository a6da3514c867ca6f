// Strict parsing of numbers, durations and sizes from text we do not trust.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace usercrash::util {

// The whole of `text` must be a number in `base`; no sign for unsigned types.
template <typename T>
std::optional<T> parse_int(std::string_view text, int base = 10) {
  T value{};
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "250ms", "5s", "2m", "1h", "7d", or plain seconds ("5").
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// "4096", "64K", "16M", "2G" (powers of 1024).
std::optional<uint64_t> parse_size(std::string_view text);

std::string_view trim(std::string_view text);

// Walks a text line by line (without the '\n'), counting lines from 1, for
// the KEY=VALUE files that report errors as FILE:LINE.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : rest_(text) {}
  // The next line, or false at the end.
  bool next(std::string_view& line) {
    if (rest_.empty()) return false;
    ++number_;
    size_t eol = rest_.find('\n');
    line = rest_.substr(0, eol);
    rest_ = eol == std::string_view::npos ? std::string_view{} : rest_.substr(eol + 1);
    return true;
  }
  size_t number() const { return number_; }

 private:
  std::string_view rest_;
  size_t number_ = 0;
};

}  // namespace usercrash::util
