// The times list --since and --until take.
#include "util/time_spec.h"

#include <gtest/gtest.h>

#include "unit/zone_guard.h"

namespace usercrash::util {
namespace {

constexpr int64_t kNow = 1'700'000'000;  // Tue 2023-11-14 22:13:20 UTC

int64_t utc(std::string_view text) { return parse_time_spec(text, kNow, true).value(); }

TEST(TimeSpec, AbsoluteTimesInUtcAndWithZones) {
  EXPECT_EQ(utc("2023-11-14"), 1'699'920'000);
  EXPECT_EQ(utc("2023-11-14 22:13"), 1'699'999'980);
  EXPECT_EQ(utc("2023-11-14 22:13:20"), kNow);
  EXPECT_EQ(utc("2023-11-14T22:13:20"), kNow);
  EXPECT_EQ(utc("2023-11-14T22:13:20Z"), kNow);
  EXPECT_EQ(utc("2023-11-14 22:13:20 UTC"), kNow);
  EXPECT_EQ(utc("2023-11-14T23:13:20+01:00"), kNow);
  EXPECT_EQ(utc("2023-11-14T17:13:20-0500"), kNow);
  EXPECT_EQ(utc("@1700000000"), kNow);
}

TEST(TimeSpec, WithoutAZoneATimeIsLocalUnlessUtc) {
  test::ZoneGuard zone("CET-1CEST,M3.5.0,M10.5.0/3");
  EXPECT_EQ(parse_time_spec("2023-11-14 23:13:20", kNow, false).value(), kNow);
  EXPECT_EQ(parse_time_spec("2023-07-22 06:26:40", kNow, false).value(), 1'690'000'000) << "summer time";
  EXPECT_EQ(parse_time_spec("2023-11-14T22:13:20Z", kNow, false).value(), kNow) << "a zone given wins";
  EXPECT_EQ(parse_time_spec("today", kNow, false).value(), 1'699'916'400);  // 2023-11-14 00:00 CET
  EXPECT_EQ(parse_time_spec("today", kNow, true).value(), 1'699'920'000);   // 2023-11-14 00:00 UTC
}

TEST(TimeSpec, WordsAndRelativeTimes) {
  EXPECT_EQ(utc("now"), kNow);
  EXPECT_EQ(utc("yesterday"), 1'699'920'000 - 86400);
  EXPECT_EQ(utc("tomorrow"), 1'699'920'000 + 86400);
  EXPECT_EQ(utc("-2h"), kNow - 7200);
  EXPECT_EQ(utc("-30min"), kNow - 1800);
  EXPECT_EQ(utc("-30m"), kNow - 1800);
  EXPECT_EQ(utc("-1d"), kNow - 86400);
  EXPECT_EQ(utc("-2days"), kNow - 2 * 86400);
  EXPECT_EQ(utc("+1w"), kNow + 604800);
  EXPECT_EQ(utc("-90s"), kNow - 90);
}

TEST(TimeSpec, RefusesWhatIsNoTime) {
  for (const char* bad : {"",
                          "soon",
                          "-",
                          "-h",
                          "-2",
                          "-2x",
                          "--2h",
                          "-2 h",
                          "2h",
                          "2023-11-14 ",
                          "2023-11-14 22",
                          "2023-11-14 22:1",
                          "2023-13-01",
                          "2023-02-30",
                          "2023-11-31",
                          "2023-11-14 24:00",
                          "2023-11-14 22:60",
                          "2023-11-14T22:13:20+25:00",
                          "2023-11-14T22:13:20 CET",
                          "1969-12-31",
                          "20231114",
                          "@-1",
                          "@x",
                          "-99999999999999d",
                          "-1000000000000s",
                          "2023-1-14",
                          "+2023-11-14"})
    EXPECT_FALSE(parse_time_spec(bad, kNow, true)) << bad;
  EXPECT_FALSE(parse_time_spec(std::string(kMaxTimeSpec + 1, '1'), kNow, true));
  EXPECT_NE(parse_time_spec("soon", kNow, true).error().message.find("not a time (2026-12-01"), std::string::npos);
}

}  // namespace
}  // namespace usercrash::util
