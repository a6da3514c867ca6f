// The crash's log entry: message, MESSAGE_ID and fields as documented.
#include "publish/crash_entry.h"

#include <gtest/gtest.h>

#include "report/render.h"
#include "unit/sample_report.h"

namespace usercrash::publish {
namespace {

std::map<std::string, std::string> fields_of(const store::ReportHead& h) {
  std::map<std::string, std::string> out;
  for (const auto& f : crash_fields(h, "/var/log/usercrashes/usercrash_07")) out[f.name] = f.value;
  return out;
}

TEST(CrashEntry, MessageAndFields) {
  store::ReportHead h = store::parse_report_head(report::render_text(test::sample_report()));
  h.comm = "demo";
  EXPECT_EQ(crash_message(h, "/var/log/usercrashes/usercrash_07"),
            "Process 4242 (demo) of user 1000 crashed with SIGSEGV: access to unmapped address 0x7f0000001010 "
            "\u2014 report /var/log/usercrashes/usercrash_07");
  auto f = fields_of(h);
  EXPECT_EQ(f["MESSAGE_ID"], "76eb54f2cee04479a033d9849ff406a2");
  EXPECT_EQ(f["USERCRASH_PID"], "4242");
  EXPECT_EQ(f["USERCRASH_UID"], "1000");
  EXPECT_EQ(f["USERCRASH_EXE"], "/opt/demo/bin/demo");
  EXPECT_EQ(f["USERCRASH_COMM"], "demo");
  EXPECT_EQ(f["USERCRASH_SIGNAL"], "11");
  EXPECT_EQ(f["USERCRASH_SIGNAL_NAME"], "SIGSEGV");
  EXPECT_EQ(f["USERCRASH_SIGNATURE"], "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  EXPECT_EQ(f["USERCRASH_BUILD_ID"], "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(f["USERCRASH_REPORT"], "/var/log/usercrashes/usercrash_07");
  ASSERT_TRUE(f.contains("USERCRASH_BACKTRACE"));
  EXPECT_TRUE(f["USERCRASH_BACKTRACE"].starts_with("#00 pc ")) << f["USERCRASH_BACKTRACE"];
  EXPECT_EQ(std::count(f["USERCRASH_BACKTRACE"].begin(), f["USERCRASH_BACKTRACE"].end(), '\n') + 1,
            static_cast<long>(h.backtrace.size()));
}

TEST(CrashEntry, AbsentFactsLeaveTheirFieldOutAndTheMessageSaysSo) {
  store::ReportHead h;
  h.pid = 9;
  EXPECT_EQ(crash_message(h, "/r/usercrash_00"),
            "Process 9 (?) of user ? crashed with ? \u2014 report /r/usercrash_00");
  auto f = fields_of(h);
  EXPECT_FALSE(f.contains("USERCRASH_SIGNATURE"));
  EXPECT_FALSE(f.contains("USERCRASH_BACKTRACE"));
  EXPECT_TRUE(f.contains("USERCRASH_REPORT"));
}

TEST(CrashEntry, TheBacktraceIsCapped) {
  store::ReportHead h;
  for (int i = 0; i < 500; ++i) h.backtrace.push_back(fmt::format("#{:02} pc 0x{:016x} /a/b+0x10 (f)", i, i));
  auto f = fields_of(h);
  const std::string& bt = f["USERCRASH_BACKTRACE"];
  EXPECT_LE(bt.size(), kMaxBacktraceBytes + 64);
  EXPECT_NE(bt.find("more frames in the report"), std::string::npos);
  EXPECT_LE(std::count(bt.begin(), bt.end(), '\n'), static_cast<long>(kMaxBacktraceFrames));
}

}  // namespace
}  // namespace usercrash::publish
