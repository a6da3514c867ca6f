// Making bytes from the crashing process safe to print and valid in JSON.
#include "util/escape.h"

#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace usercrash::util {
namespace {

// A strict UTF-8 check, written independently of escape.cpp.
bool valid_utf8(std::string_view s) {
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
      n = 2;
      cp = c & 0x1F;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
      min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      cp = c & 0x07;
      min = 0x10000;
    } else return false;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

bool has_raw_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return true;
  // C1 controls encoded in UTF-8: U+0080..U+009F.
  return s.find("\xC2\x80") != std::string_view::npos || [&] {
    for (size_t i = 0; i + 1 < s.size(); ++i)
      if (static_cast<unsigned char>(s[i]) == 0xC2 && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
          static_cast<unsigned char>(s[i + 1]) <= 0x9F)
        return true;
    return false;
  }();
}

TEST(EscapeText, PrintableAsciiAndValidUtf8PassThrough) {
  EXPECT_EQ(escape_text("hello, world $(rm -rf /) `x` 'q' \"d\""), "hello, world $(rm -rf /) `x` 'q' \"d\"");
  EXPECT_EQ(escape_text("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x92\xA5"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x92\xA5");
  EXPECT_EQ(escape_text("\xC2\xA0"), "\xC2\xA0") << "U+00A0 is the first code point after the C1 block";
  EXPECT_EQ(escape_text("\xF4\x8F\xBF\xBF"), "\xF4\x8F\xBF\xBF") << "U+10FFFF";
  EXPECT_EQ(escape_text(""), "");
}

TEST(EscapeText, ControlCharacters) {
  EXPECT_EQ(escape_text("a\nb"), "a\\nb");
  EXPECT_EQ(escape_text("\t\r"), "\\t\\r");
  EXPECT_EQ(escape_text("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(escape_text(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(escape_text("\x07\x08\x0b\x0c\x1f\x7f"), "\\x07\\x08\\x0b\\x0c\\x1f\\x7f");
  EXPECT_EQ(escape_text("\\"), "\\\\");
  EXPECT_EQ(escape_text("\\n"), "\\\\n") << "a literal backslash-n stays distinguishable from a newline";
}

TEST(EscapeText, InvalidUtf8BecomesHexEscapes) {
  EXPECT_EQ(escape_text("\xff"), "\\xff");
  EXPECT_EQ(escape_text("\x80"), "\\x80") << "lone continuation byte";
  EXPECT_EQ(escape_text("\xC3"), "\\xc3") << "truncated sequence at the end";
  EXPECT_EQ(escape_text("\xC3(x"), "\\xc3(x") << "bad continuation";
  EXPECT_EQ(escape_text("\xE2\x82"), "\\xe2\\x82");
  EXPECT_EQ(escape_text("\xF8\x88\x80\x80\x80"), "\\xf8\\x88\\x80\\x80\\x80") << "5-byte form";
}

TEST(EscapeText, OverlongFormsAreRefused) {
  EXPECT_EQ(escape_text("\xC0\xAF"), "\\xc0\\xaf") << "overlong '/'";
  EXPECT_EQ(escape_text("\xC1\xBF"), "\\xc1\\xbf");
  EXPECT_EQ(escape_text("\xE0\x80\xAF"), "\\xe0\\x80\\xaf");
  EXPECT_EQ(escape_text("\xF0\x80\x80\xAF"), "\\xf0\\x80\\x80\\xaf");
  EXPECT_EQ(escape_text("\xC0\x8A"), "\\xc0\\x8a") << "overlong newline";
}

TEST(EscapeText, SurrogatesAndOutOfRange) {
  EXPECT_EQ(escape_text("\xED\xA0\x80"), "\\xed\\xa0\\x80") << "U+D800";
  EXPECT_EQ(escape_text("\xED\xBF\xBF"), "\\xed\\xbf\\xbf") << "U+DFFF";
  EXPECT_EQ(escape_text("\xED\x9F\xBF"), "\xED\x9F\xBF") << "U+D7FF is fine";
  EXPECT_EQ(escape_text("\xF4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80") << "U+110000";
}

TEST(EscapeText, C1ControlsAreEscaped) {
  EXPECT_EQ(escape_text("\xC2\x9B"
                        "2J"),
            "\\xc2\\x9b2J")
      << "CSI as U+009B";
  EXPECT_EQ(escape_text("\xC2\x80"), "\\xc2\\x80");
  EXPECT_EQ(escape_text("\x9b"), "\\x9b") << "raw 8-bit CSI";
}

// Issue 9.7: a name with U+202E prints backwards ("Trojan Source"); zero-width
// characters make two different names look the same.
TEST(EscapeText, BidiAndZeroWidthCharactersAreEscaped) {
  EXPECT_EQ(escape_text("evil\u202Egpj.exe"), "evil\\u202egpj.exe") << "RIGHT-TO-LEFT OVERRIDE";
  for (char32_t cp : {0x202A, 0x202B, 0x202C, 0x202D, 0x2066, 0x2067, 0x2068, 0x2069, 0x200B, 0x200C, 0x200D, 0x200E,
                      0x200F, 0x2028, 0x2029, 0x2060, 0xFEFF}) {
    std::string raw = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                       static_cast<char>(0x80 | (cp & 0x3F))};
    EXPECT_EQ(escape_text("a" + raw + "b"), fmt::format("a\\u{:04x}b", static_cast<uint32_t>(cp)));
  }
  EXPECT_EQ(escape_text("\u061C"), "\\u061c") << "ARABIC LETTER MARK";
  // Visible characters next to them stay as they are.
  EXPECT_EQ(escape_text("\u2010\u2030\u2122\u00e9"), "\u2010\u2030\u2122\u00e9");
}

TEST(TerminalSafe, KeepsWhatOurRenderersWriteAndEscapesTheRest) {
  std::string ours = "pid: 1, comm: a\\x1bb\n\tframe \u00e9\n";
  EXPECT_EQ(terminal_safe(ours), ours);
  EXPECT_EQ(terminal_safe("a\x1b[31mred\r\n"), "a\\x1b[31mred\\x0d\n");
  EXPECT_EQ(terminal_safe("x\u202Ey\xC2\x9Bz\xff"), "x\\u202ey\\xc2\\x9bz\\xff");
}

TEST(EscapeText, OutputNeverHoldsControlsOrInvalidUtf8) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string raw(rng() % 64, '\0');
    for (char& c : raw) c = static_cast<char>(rng());
    std::string out = escape_text(raw);
    ASSERT_FALSE(has_raw_control(out)) << round;
    ASSERT_TRUE(valid_utf8(out)) << round;
  }
}

TEST(ToValidUtf8, ReplacesOnlyWhatIsInvalid) {
  EXPECT_EQ(to_valid_utf8("plain"), "plain");
  EXPECT_EQ(to_valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(to_valid_utf8("a\xff"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(to_valid_utf8("\xC3"), "\xEF\xBF\xBD");
  // Control characters are left to the JSON serializer, which escapes them.
  EXPECT_EQ(to_valid_utf8("a\nb\x1b"), "a\nb\x1b");
  EXPECT_EQ(to_valid_utf8(std::string("\0", 1)), std::string("\0", 1));
}

TEST(ToValidUtf8, OutputIsAlwaysValid) {
  std::mt19937 rng(11);
  for (int round = 0; round < 2000; ++round) {
    std::string raw(rng() % 64, '\0');
    for (char& c : raw) c = static_cast<char>(rng() | (round % 2 ? 0x80 : 0));
    ASSERT_TRUE(valid_utf8(to_valid_utf8(raw))) << round;
  }
}

TEST(ValidUtf8Checker, SelfTest) {
  EXPECT_TRUE(valid_utf8("caf\xC3\xA9"));
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));
  EXPECT_TRUE(has_raw_control("\x1b"));
  EXPECT_TRUE(has_raw_control("\xC2\x85"));
  EXPECT_FALSE(has_raw_control("\xC2\xA0"));
}

TEST(Utf8Prefix, NeverEndsInsideACharacter) {
  std::string text = "ab\xe6\x97\xa5\xe2\x82\xac";  // ab日€
  EXPECT_EQ(utf8_prefix(text, 100), text);
  EXPECT_EQ(utf8_prefix(text, 2), "ab");
  EXPECT_EQ(utf8_prefix(text, 3), "ab");
  EXPECT_EQ(utf8_prefix(text, 4), "ab");
  EXPECT_EQ(utf8_prefix(text, 5), "ab\xe6\x97\xa5");
  EXPECT_EQ(utf8_prefix(text, 7), "ab\xe6\x97\xa5");
  EXPECT_EQ(utf8_prefix(text, 0), "");
  EXPECT_EQ(utf8_prefix("\x80\x80\x80", 2), "") << "stray continuation bytes: nothing to keep";
}

}  // namespace
}  // namespace usercrash::util
