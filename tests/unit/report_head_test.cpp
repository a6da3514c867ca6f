// The head of a text report, as the server reads it to group, log and pass
// the report on: from the renderer's own output, hostile names included.
#include "store/report_head.h"

#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "report/render.h"
#include "unit/sample_report.h"
#include "util/escape.h"

namespace usercrash::store {
namespace {

TEST(ReportHead, ReadsWhatTheTextRendererWrites) {
  engine::Report r = test::sample_report();
  std::string text = report::render_text(r);
  ReportHead h = parse_report_head(text);
  EXPECT_EQ(h.pid, 4242);
  EXPECT_EQ(h.uid, 1000);
  ASSERT_TRUE(h.comm);
  EXPECT_EQ(*h.comm, util::escape_text(r.comm));
  EXPECT_EQ(h.comm->find('\n'), std::string::npos) << "escaped: no line of its own";
  EXPECT_EQ(h.exe, "/opt/demo/bin/demo");
  EXPECT_EQ(h.build_id, r.exe_build_id);
  EXPECT_EQ(h.signature, r.signature);
  EXPECT_EQ(h.signal, 11);
  EXPECT_EQ(h.signal_name, "SIGSEGV");
  EXPECT_EQ(h.cause, "access to unmapped address 0x7f0000001010");
  EXPECT_EQ(h.time, "2026-11-18T11:06:40Z");
  ASSERT_EQ(h.backtrace.size(), r.threads[0].frames.size());
  EXPECT_TRUE(h.backtrace[0].starts_with("#00 pc 0x000055550000123a /opt/demo/bin/demo")) << h.backtrace[0];
  for (const auto& line : h.backtrace) EXPECT_TRUE(line.starts_with("#")) << line;
}

TEST(ReportHead, AHostileNameCannotForgeAHeaderLine) {
  engine::Report r = test::sample_report();
  r.comm = "x\nsignature: 00000000000000000000000000000000\ncause: forged";
  r.threads[0].name = "t\nuid: 0, gid: 0";
  ReportHead h = parse_report_head(report::render_text(r));
  EXPECT_EQ(h.signature, r.signature);
  EXPECT_EQ(h.uid, 1000);
  EXPECT_EQ(h.cause, "access to unmapped address 0x7f0000001010");
}

TEST(ReportHead, PartsThatAreMissingStayEmpty) {
  ReportHead h = parse_report_head("*** ***\npid: 7, tgid: 7, comm: a\n\nRegisters:\n");
  EXPECT_EQ(h.pid, 7);
  EXPECT_EQ(h.comm, "a");
  EXPECT_FALSE(h.signature);
  EXPECT_FALSE(h.signal);
  EXPECT_TRUE(h.backtrace.empty());
  // A line cut short (a partial report) is not taken.
  EXPECT_FALSE(parse_report_head("pid: 7, tgid: 7, comm: a\nsignature: abc").signature);
  EXPECT_FALSE(parse_report_head("").pid);
  EXPECT_FALSE(parse_report_head(std::string(100000, '\n')).pid);
}

TEST(ReportHead, ReadFromAnFdWithoutMovingIt) {
  int fd = ::memfd_create("head", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string text = report::render_text(test::sample_report());
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  auto h = read_report_head(fd);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->pid, 4242);
  EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), static_cast<off_t>(text.size()));
  ::close(fd);
}

}  // namespace
}  // namespace usercrash::store
