// Strict numbers, durations and sizes.
#include "util/parse.h"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace usercrash::util {
namespace {

using std::chrono::milliseconds;

TEST(ParseInt, WholeTextOnly) {
  EXPECT_EQ(parse_int<int>("42"), 42);
  EXPECT_EQ(parse_int<int>("-42"), -42);
  EXPECT_EQ(parse_int<int>("0"), 0);
  EXPECT_EQ(parse_int<uint64_t>("ffffffffffffffff", 16), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(parse_int<uint64_t>("7f0000000000", 16), 0x7f0000000000u);
  for (const char* bad : {"", " 1", "1 ", "+1", "1a", "0x10", "--1", "1.5", "١"})
    EXPECT_EQ(parse_int<int>(bad), std::nullopt) << bad;
  EXPECT_EQ(parse_int<unsigned>("-1"), std::nullopt);
  EXPECT_EQ(parse_int<int>("2147483648"), std::nullopt);
  EXPECT_EQ(parse_int<int>("-2147483648"), std::numeric_limits<int>::min());
  EXPECT_EQ(parse_int<uint64_t>("10000000000000000", 16), std::nullopt);
  EXPECT_EQ(parse_int<int>(std::string_view("12\0", 3)), std::nullopt);
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(parse_duration("5"), milliseconds(5000));
  EXPECT_EQ(parse_duration("5s"), milliseconds(5000));
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(parse_duration("2min"), milliseconds(120'000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
}

TEST(ParseDuration, Refusals) {
  for (const char* bad : {"", "s", "ms", "-5s", "5 s", " 5s", "5S", "5sec", "1.5s", "5w", "h1", "5ms5", "0x5"})
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
}

TEST(ParseDuration, OverflowIsRefusedNotWrapped) {
  EXPECT_EQ(parse_duration("18446744073709551615ms"), std::nullopt);
  EXPECT_EQ(parse_duration("99999999999999999h"), std::nullopt);
  EXPECT_EQ(parse_duration("18446744073709551616"), std::nullopt);
  auto big = parse_duration("1000000000h");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->count(), 3'600'000'000'000'000LL);
}

TEST(ParseSize, Units) {
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("4096B"), 4096u);
  EXPECT_EQ(parse_size("64K"), 64u << 10);
  EXPECT_EQ(parse_size("64k"), 64u << 10);
  EXPECT_EQ(parse_size("64KiB"), 64u << 10);
  EXPECT_EQ(parse_size("16M"), 16u << 20);
  EXPECT_EQ(parse_size("16MiB"), 16u << 20);
  EXPECT_EQ(parse_size("2G"), 2ULL << 30);
  EXPECT_EQ(parse_size("2GiB"), 2ULL << 30);
  EXPECT_EQ(parse_size("0"), 0u);
}

TEST(ParseSize, RefusalsAndOverflow) {
  for (const char* bad : {"", "K", "-1", "1T", "1 K", "1.5M", "1KB", "1m", "1g", "0x10"})
    EXPECT_EQ(parse_size(bad), std::nullopt) << bad;
  EXPECT_EQ(parse_size("17179869183G"), 17179869183ULL << 30);
  EXPECT_EQ(parse_size("17179869184G"), std::nullopt);
  EXPECT_EQ(parse_size("18446744073709551615"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(parse_size("18446744073709551616"), std::nullopt);
}

TEST(Trim, Whitespace) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim("\v\fx\f"), "x");
  EXPECT_EQ(trim("   "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("x"), "x");
}

}  // namespace
}  // namespace usercrash::util
