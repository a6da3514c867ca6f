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

}  // namespace usercrash::util
