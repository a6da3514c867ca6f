// -F FIELD: a dotted path into a report's JSON, one safe line per value;
// and info's summary of a text report.
#include "tools/ctl/report_field.h"

#include <gtest/gtest.h>

#include "tools/ctl/report_summary.h"

namespace usercrash::tools::ctl {
namespace {

using nlohmann::json;
using Path = std::vector<std::string>;

TEST(ReportField, PathsAreKeysAndIndexesJoinedByDots) {
  EXPECT_EQ(parse_field("exe"), Path{"exe"});
  EXPECT_EQ(parse_field("signal.name"), (Path{"signal", "name"}));
  EXPECT_EQ(parse_field("threads.0.frames.1.function"), (Path{"threads", "0", "frames", "1", "function"}));
  for (const char* bad : {"", ".", "a.", ".a", "a..b", "a b", "a/b", "$(x)", "a\n"})
    EXPECT_FALSE(parse_field(bad)) << bad;
  EXPECT_FALSE(parse_field(std::string(kMaxFieldLength + 1, 'a')));
  std::string deep = "a";
  for (size_t i = 0; i < kMaxFieldDepth; ++i) deep += ".a";
  EXPECT_FALSE(parse_field(deep));
}

TEST(ReportField, ValuesAreOneEscapedLine) {
  json doc = json::parse(R"({"exe": "/bin/x", "pid": 7, "abort_message": null, "ok": true,
    "signal": {"name": "SIGSEGV"}, "threads": [{"tid": 7}, {"tid": 8}],
    "comm": "a\u001b[31mb\u202ec\nd", "cmdline": ["x", "é"]})");
  EXPECT_EQ(field_line(field_of(doc, {"exe"})), "/bin/x");
  EXPECT_EQ(field_line(field_of(doc, {"pid"})), "7");
  EXPECT_EQ(field_line(field_of(doc, {"ok"})), "true");
  EXPECT_EQ(field_line(field_of(doc, {"abort_message"})), "null");
  EXPECT_EQ(field_line(field_of(doc, {"signal", "name"})), "SIGSEGV");
  EXPECT_EQ(field_line(field_of(doc, {"threads", "1", "tid"})), "8");
  EXPECT_EQ(field_line(field_of(doc, {"signal"})), R"({"name":"SIGSEGV"})");
  EXPECT_EQ(field_line(field_of(doc, {"comm"})), "a\\x1b[31mb\\u202ec\\nd");
  EXPECT_EQ(field_line(field_of(doc, {"cmdline"})), R"(["x","\u00e9"])");
  EXPECT_EQ(field_of(doc, {"nothing"}), nullptr);
  EXPECT_EQ(field_of(doc, {"threads", "2"}), nullptr);
  EXPECT_EQ(field_of(doc, {"exe", "x"}), nullptr);
  EXPECT_EQ(field_line(nullptr), "");
}

TEST(ReportSummaryText, TheHeaderAndTheCrashingThreadsBacktrace) {
  std::string text =
      "*** ***\npid: 1, comm: x\nsignal: 11 (SIGSEGV)\ncause: null pointer\n\nRegisters:\n  rax 0x0\n\n"
      "BackTrace:\n    #00 pc 0x1 x (f+0x1)\n    #01 pc 0x2 x (main+0x2)\n\nMemory near rax:\n  0x0 ...\n\n"
      "Threads backtrace:\n\nBackTrace:\n    #00 pc 0x9 other\n";
  EXPECT_EQ(summarize_report_text(text),
            "*** ***\npid: 1, comm: x\nsignal: 11 (SIGSEGV)\ncause: null pointer\n\n"
            "BackTrace:\n    #00 pc 0x1 x (f+0x1)\n    #01 pc 0x2 x (main+0x2)\n");
  EXPECT_EQ(summarize_report_text("pid: 1\nno end"), "pid: 1\nno end\n");
  EXPECT_EQ(summarize_report_text("pid: 1\n\nBackTrace:\n    #00 last"), "pid: 1\n\nBackTrace:\n    #00 last\n");
  EXPECT_EQ(summarize_report_text(""), "");
}

}  // namespace
}  // namespace usercrash::tools::ctl
