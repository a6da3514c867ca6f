// A report's JSON read back (report/json_reader.h) renders the same text
// as the report it was written from: what usercrashctl symbolize --text
// relies on. Hostile values are left absent, never trusted.
#include <sstream>

#include <gtest/gtest.h>

#include "report/json_parts.h"
#include "report/json_reader.h"
#include "report/render.h"
#include "unit/sample_report.h"

namespace usercrash::report {
namespace {

using nlohmann::json;

TEST(JsonReader, ReadsBackWhatTheRendererWroteToTheSameText) {
  engine::Report r = test::sample_report();
  r.time = 1764000000;  // the JSON keeps whole seconds
  r.symbolized =
      engine::Symbolization{1764000100, 2, {{"abcd", "/bin/x", "/d/.build-id/ab/cd.debug", "debug_dir", {}}}};
  r.threads[0].frames[0].resymbolized = true;
  auto back = report_from_json(json::parse(render_json(r)));
  ASSERT_TRUE(back) << back.error().message;
  // The JSON already made the hostile string's invalid UTF-8 valid; the
  // lines that quote it differ in how the text escapes those bytes.
  auto without_hostile = [](const std::string& text) {
    std::string out, line;
    std::istringstream in(text);
    while (std::getline(in, line))
      if (line.find("rm -rf") == std::string::npos) out += line + '\n';
    return out;
  };
  EXPECT_EQ(without_hostile(render_text(*back)), without_hostile(render_text(r)));
  EXPECT_EQ(json::parse(render_json(*back)), json::parse(render_json(r)));
}

TEST(JsonReader, RefusesWhatIsNoReportAndDropsMalformedValues) {
  EXPECT_FALSE(report_from_json(json::parse("[1, 2]")));
  EXPECT_FALSE(report_from_json(json::parse(R"({"pid": 1})")));
  auto r = report_from_json(json::parse(R"({"version": 4, "pid": "1", "uid": -5, "threads": [
    {"tid": 7, "registers": {"rip": "0xzz", "rsp": "0x10"}, "frames": [
      {"pc": "0x10", "method": "cfi", "line": 99999999999},
      {"pc": 16, "method": "cfi"},
      {"pc": "0x20", "method": "guess"}]},
    {"tid": "eight"}]})"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->pid, 0);
  EXPECT_FALSE(r->uid);
  ASSERT_EQ(r->threads.size(), 1u);
  ASSERT_EQ(r->threads[0].registers.size(), 1u);
  EXPECT_EQ(r->threads[0].registers[0].name, "rsp");
  ASSERT_EQ(r->threads[0].frames.size(), 1u) << "frames without a 0x pc or a known method are dropped";
  EXPECT_FALSE(r->threads[0].frames[0].line);
}

TEST(JsonReader, AFrameNeedsAHexPcAndAKnownMethod) {
  EXPECT_TRUE(frame_from_json(json::parse(R"({"pc": "0x1", "method": "inlined"})")));
  EXPECT_FALSE(frame_from_json(json::parse(R"({"pc": "0x", "method": "cfi"})")));
  EXPECT_FALSE(frame_from_json(json::parse(R"({"pc": "0x1ffffffffffffffff", "method": "cfi"})")));
  EXPECT_FALSE(frame_from_json(json::parse(R"({"pc": "0x1"})")));
  EXPECT_FALSE(frame_from_json(json::parse(R"("0x1")")));
}

}  // namespace
}  // namespace usercrash::report
