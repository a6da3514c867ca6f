// list's matches, time window, count and order.
#include "tools/ctl/report_filter.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace usercrash::tools::ctl {
namespace {

store::ReportSummary report(const std::string& name, int64_t pid, int64_t uid, int signal, const std::string& exe,
                            const char* time) {
  store::ReportSummary r;
  r.name = name;
  r.pid = pid;
  r.uid = uid;
  r.signal = signal;
  r.exe = exe;
  r.comm = exe.substr(exe.rfind('/') + 1);
  r.signature = "AB12" + name;
  r.time = time;
  return r;
}

// Newest first, as list_reports gives them.
const std::vector<store::ReportSummary> kReports = {
    report("c", 30, 1000, SIGABRT, "/usr/bin/vim", "2023-11-14T22:00:00Z"),
    report("b", 20, 0, SIGSEGV, "/usr/sbin/sshd", "2023-11-14T12:00:00Z"),
    report("a", 10, 1000, SIGSEGV, "/usr/bin/vim", "2023-11-13T12:00:00Z"),
};

std::vector<std::string> names(std::vector<std::string> args, int64_t now = 1'700'000'000) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  const std::vector<util::OptionSpec> specs = {{"lines", 'n', true}, {"reverse", 'r', false}, {"newest", '1', false},
                                               {"since", 0, true},   {"until", 0, true},      {"pid", 0, true},
                                               {"uid", 0, true},     {"comm", 0, true},       {"exe", 0, true},
                                               {"signal", 0, true},  {"signature", 0, true}};
  auto parsed = util::parse_options(argv, specs);
  EXPECT_TRUE(parsed) << parsed.error().message;
  auto filter = make_filter(*parsed, now, true);
  if (!filter) return {"error: " + filter.error().message};
  std::vector<std::string> out;
  for (const auto& r : filter_reports(kReports, *filter)) out.push_back(r.name);
  return out;
}

using Names = std::vector<std::string>;

TEST(ReportFilter, BareMatchesAreAPidAnExeOrAComm) {
  EXPECT_EQ(names({}), (Names{"c", "b", "a"}));
  EXPECT_EQ(names({"20"}), Names{"b"});
  EXPECT_EQ(names({"/usr/bin/vim"}), (Names{"c", "a"}));
  EXPECT_EQ(names({"sshd"}), Names{"b"});
  EXPECT_EQ(names({"vi"}), Names{}) << "a whole name, not a part";
  EXPECT_EQ(names({"10", "30"}), (Names{"c", "a"})) << "one field: either value";
  EXPECT_EQ(names({"vim", "10"}), Names{"a"}) << "two fields: both";
}

TEST(ReportFilter, FieldOptions) {
  EXPECT_EQ(names({"--pid", "20"}), Names{"b"});
  EXPECT_EQ(names({"--uid", "1000"}), (Names{"c", "a"}));
  EXPECT_EQ(names({"--uid=0", "--uid=1000", "--signal", "SEGV"}), (Names{"b", "a"}));
  for (const char* signal : {"11", "SEGV", "sigsegv", "SIGSEGV"})
    EXPECT_EQ(names({"--signal", signal, "--comm", "vim"}), Names{"a"}) << signal;
  EXPECT_EQ(names({"--exe", "/usr/sbin/sshd"}), Names{"b"});
  EXPECT_EQ(names({"--signature", "ab12C"}), Names{"c"}) << "a prefix, any case";
}

TEST(ReportFilter, TimeWindowCountAndOrder) {
  EXPECT_EQ(names({"--since", "2023-11-14"}), (Names{"c", "b"}));
  EXPECT_EQ(names({"--until", "2023-11-14 12:00"}), (Names{"b", "a"})) << "inclusive";
  EXPECT_EQ(names({"--since", "-2h"}), Names{"c"});  // now is 22:13:20
  EXPECT_EQ(names({"--since", "-12h"}), (Names{"c", "b"}));
  EXPECT_EQ(names({"--since", "yesterday", "--until", "today"}), Names{"a"});
  EXPECT_EQ(names({"-n", "2"}), (Names{"c", "b"}));
  EXPECT_EQ(names({"-1"}), Names{"c"});
  EXPECT_EQ(names({"-r"}), (Names{"a", "b", "c"}));
  EXPECT_EQ(names({"-r", "-n2", "vim"}), (Names{"a", "c"})) << "the newest 2 that match, oldest first";
}

TEST(ReportFilter, BadValuesSayWhichOption) {
  EXPECT_EQ(names({"--since", "soon"})[0].substr(0, 31), "error: --since: 'soon' is not a");
  EXPECT_EQ(names({"-n", "0"}), Names{"error: -n: '0' is not a count of reports (1 or more)"});
  EXPECT_EQ(names({"-n", "x"}), Names{"error: -n: 'x' is not a count of reports (1 or more)"});
  EXPECT_EQ(names({"--pid", "-3"}), Names{"error: --pid: '-3' is not a number"});
  EXPECT_EQ(names({"--signal", "SIGFOO"}), Names{"error: --signal: 'SIGFOO' is not a signal"});
  EXPECT_EQ(names({"--signal", "65"}), Names{"error: --signal: '65' is not a signal"});
  EXPECT_EQ(names({"--signature", "xyz"}), Names{"error: --signature: 'xyz' is not hexadecimal"});
  EXPECT_EQ(names({"--comm", "\x1b[31m"}), Names{}) << "a value is data, matched as it is";
}

TEST(ReportFilter, CrashTimeFallsBackOnThePublicationTime) {
  store::ReportSummary r;
  r.mtime.tv_sec = 123;
  EXPECT_EQ(crash_time(r), 123);
  r.time = "2023-11-14T22:13:20Z";
  EXPECT_EQ(crash_time(r), 1'700'000'000);
  r.time = "garbage";
  EXPECT_EQ(crash_time(r), 123);
}

}  // namespace
}  // namespace usercrash::tools::ctl
