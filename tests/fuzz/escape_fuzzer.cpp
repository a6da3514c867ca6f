// escape_text never lets a control byte, a C1 control, a bidi or invisible
// character or invalid UTF-8 through; to_valid_utf8 always gives valid UTF-8
// and keeps valid text as is.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "util/escape.h"

namespace {

// The characters that reorder or hide text (written here from Unicode's
// lists, not taken from escape.cpp): the Arabic letter mark, zero-width
// characters and directional marks, line and paragraph separators, bidi
// embeddings, overrides and isolates, invisible operators, the BOM.
bool bidi_or_invisible(uint32_t cp) {
  return cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF;
}

// Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF);
// `c1` is set when a U+0080..U+009F control is seen, `hidden` when a
// character bidi_or_invisible is.
bool valid_utf8(std::string_view s, bool* c1 = nullptr, bool* hidden = nullptr) {
  if (c1) *c1 = false;
  if (hidden) *hidden = false;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (c1 && cp <= 0x9F) *c1 = true;
    if (hidden && bidi_or_invisible(cp)) *hidden = true;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);

  std::string escaped = usercrash::util::escape_text(raw);
  for (unsigned char c : escaped) FUZZ_CHECK(c >= 0x20 && c != 0x7F);
  bool c1 = false, hidden = false;
  FUZZ_CHECK(valid_utf8(escaped, &c1, &hidden));
  FUZZ_CHECK(!c1);
  FUZZ_CHECK(!hidden);
  FUZZ_CHECK(escaped.size() >= size);

  std::string valid = usercrash::util::to_valid_utf8(raw);
  FUZZ_CHECK(valid_utf8(valid));
  FUZZ_CHECK(usercrash::util::to_valid_utf8(valid) == valid);
  bool raw_c1 = false, raw_hidden = false;
  if (valid_utf8(raw, &raw_c1, &raw_hidden) && !raw_c1) {
    FUZZ_CHECK(valid == raw);
    bool plain = true;
    for (unsigned char c : raw) plain = plain && c >= 0x20 && c != 0x7F && c != '\\';
    if (plain && !raw_hidden) FUZZ_CHECK(escaped == raw);
  }
  return 0;
}
