// The text report: sections in the seed's order, hostile strings escaped,
// the fault address marked in Maps, truncation said, the size cap.
#include <gtest/gtest.h>

#include "util/escape.h"

#include "report/render.h"
#include "unit/sample_report.h"

namespace usercrash::report {
namespace {

using test::sample_report;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

size_t line_index(const std::vector<std::string>& lines, const std::string& prefix) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].starts_with(prefix)) return i;
  return lines.size();
}

bool has_line(const std::string& text, const std::string& line) {
  auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(TextRenderer, HeaderLines) {
  engine::Report report = sample_report();
  std::string text = render_text(report);
  auto lines = lines_of(text);
  ASSERT_GT(lines.size(), 10u);
  EXPECT_EQ(lines[0], "*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***");
  EXPECT_EQ(lines[1],
            "pid: 4242, tgid: 4242, comm: evil\\n\\x1b[31mred\\x1b[0m $(rm -rf /) \\xff\\xfe \\xc2\\x9b tail");
  EXPECT_EQ(lines[2], "thread: worker\\x1b]0;title\\x07, tid: 4243");
  EXPECT_EQ(lines[3], "uid: 1000, gid: 1001");
  EXPECT_TRUE(has_line(text, "exe: /opt/demo/bin/demo"));
  EXPECT_TRUE(has_line(text, "build id: 0123456789abcdef0123456789abcdef01234567"));
  EXPECT_TRUE(has_line(text, "signature: 0f1e2d3c4b5a69788796a5b4c3d2e1f0"));
  EXPECT_TRUE(has_line(text, "time: 2026-11-18T11:06:40Z"));
  EXPECT_TRUE(has_line(text, "id: " + report.id));
  EXPECT_TRUE(has_line(text, "kernel: 6.18.0, host: builder"));
  EXPECT_TRUE(has_line(text, "source: core_pattern"));
  EXPECT_TRUE(has_line(text, "signal: 11 (SIGSEGV), code: 1 (SEGV_MAPERR), fault addr: 0x00007f0000001010"));
  EXPECT_TRUE(has_line(text, "cause: access to unmapped address 0x7f0000001010"));
}

TEST(TextRenderer, SectionsInOrder) {
  auto lines = lines_of(render_text(sample_report()));
  std::vector<size_t> at;
  for (const char* section :
       {"signal: ", "Registers:", "BackTrace:", "Memory near rsp", "Code around rip:", "Threads (3):",
        "Threads backtrace:", "Stack:", "Maps:", "Open files:", "Truncated:", "Problems:", "(collected in 12.5 ms)"}) {
    size_t i = line_index(lines, section);
    ASSERT_LT(i, lines.size()) << section;
    at.push_back(i);
  }
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end()));
}

TEST(TextRenderer, RegistersThreeToALine) {
  std::string text = render_text(sample_report());
  EXPECT_NE(text.find("        rax 0x000000000000100a     rbx 0x0000000000001005     rcx 0x000000000000100b\n"),
            std::string::npos);
  EXPECT_NE(text.find("rip 0x000055550000123a"), std::string::npos);
}

TEST(TextRenderer, BacktraceLines) {
  std::string text = render_text(sample_report());
  EXPECT_TRUE(has_line(text,
                       "    #00 pc 0x000055550000123a /opt/demo/bin/demo+0x123a (write_through+0x1a) "
                       "(/src/demo/crash\\nfile.c:42) (BuildId: 0123456789abcdef0123456789abcdef01234567)"));
  EXPECT_TRUE(has_line(text, "    #01 pc 0x0000555500001300 /opt/demo/bin/demo (inlined_helper) [inlined]"));
  EXPECT_TRUE(has_line(text, "    #02 pc 0x4141414141414141 ?? (?\?) [frame pointer]"));
  EXPECT_TRUE(has_line(text, "    (backtrace stopped: no pc: unreadable stack at 0x4141414141414141)"));
  EXPECT_TRUE(has_line(text, "--- tid 4242, name: demo, state: S (sleeping) ---"));
  EXPECT_TRUE(has_line(text, "    #00 pc 0x00007f0000002000 /usr/lib/x86_64-linux-gnu/libc.so.6+0x2000 (pause+0x10)"));
  EXPECT_TRUE(has_line(text, "    (backtrace stopped: no registers for this thread)"));
  EXPECT_TRUE(has_line(text, "    tid 4243, name: worker\\x1b]0;title\\x07, state: R (running) (crashed)"));
}

TEST(TextRenderer, MemoryAndCode) {
  std::string text = render_text(sample_report());
  EXPECT_TRUE(has_line(text, "Memory near rsp (0x00007ffc00001230):"));
  EXPECT_TRUE(
      has_line(text, "    00007ffc00001210  41 42 43 44 45 1b 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDE.GHIJKLMNOP|"));
  EXPECT_TRUE(has_line(text, "    00007ffc00001230  47 48 49 4a 4b 4c 4d 4e                           |GHIJKLMN|"));
  EXPECT_TRUE(has_line(text, "--->000055550000123a:  c7 07 2a 00 00 00        movl $0x2a, (%rdi)"));
  EXPECT_TRUE(has_line(text, "    0000555500001236:  48 89 e5 90              movq %rsp, %rbp"));
}

TEST(TextRenderer, HostileStringsAreEscaped) {
  std::string text = render_text(sample_report());
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "no terminal escape reaches the text";
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_EQ(text.find("\xC2\x9b"), std::string::npos) << "no C1 control either";
  EXPECT_EQ(text.find("\xff"), std::string::npos);
  // Each hostile value stays on its own line.
  for (const auto& line : lines_of(text)) EXPECT_FALSE(line.starts_with("[31mred")) << line;
  EXPECT_TRUE(has_line(text,
                       "cmdline: /opt/demo/bin/demo --arg=evil\\n\\x1b[31mred\\x1b[0m $(rm -rf /) \\xff\\xfe "
                       "\\xc2\\x9b tail two words"));
  EXPECT_TRUE(has_line(text, "    7 -> /tmp/evil\\n\\x1b[31mred\\x1b[0m $(rm -rf /) \\xff\\xfe \\xc2\\x9b tail"));
}

TEST(TextRenderer, MapsMarkTheFaultAddressBetweenMappings) {
  std::string text = render_text(sample_report());
  EXPECT_TRUE(has_line(text, "--->Fault address falls at 0x00007f0000001010 between mappings"));
  EXPECT_TRUE(has_line(text, "    00007f0000000000-00007f0000001000 rw-p 00000000 00:00 0"));
  EXPECT_TRUE(has_line(text, "    0000555500000000-0000555500002000 r-xp 00000000 fe:00 123  /opt/demo/bin/demo"));
  auto lines = lines_of(text);
  size_t marker = line_index(lines, "--->Fault address");
  ASSERT_LT(marker, lines.size());
  EXPECT_TRUE(lines[marker - 1].starts_with("    00007f0000000000-"));
  EXPECT_TRUE(lines[marker + 1].starts_with("    00007f0000002000-"));
  size_t marks = 0;
  for (size_t i = line_index(lines, "Maps:"); i < line_index(lines, "Open files:"); ++i)
    if (lines[i].starts_with("--->")) ++marks;
  EXPECT_EQ(marks, 1u);
}

TEST(TextRenderer, MapsMarkTheMappingHoldingTheFault) {
  auto r = sample_report();
  r.signal->fault_address = 0x7f0000002010;
  std::string text = render_text(r);
  EXPECT_TRUE(
      has_line(text,
               "--->00007f0000002000-00007f0000003000 r-xp 00026000 fe:00 456  /lib/evil\\n\\x1b[31mred\\x1b[0m "
               "$(rm -rf /) \\xff\\xfe \\xc2\\x9b tail"));
  EXPECT_EQ(text.find("Fault address falls"), std::string::npos);
}

TEST(TextRenderer, MapsMarkTheFaultBeforeAndAfterAllMappings) {
  auto r = sample_report();
  r.signal->fault_address = 0x10;
  std::string text = render_text(r);
  auto lines = lines_of(text);
  size_t maps = line_index(lines, "Maps:");
  ASSERT_LT(maps + 1, lines.size());
  EXPECT_EQ(lines[maps + 1], "--->Fault address falls at 0x0000000000000010 before the first mapping");
  r.signal->fault_address = 0xffffffffff600000;
  EXPECT_TRUE(has_line(render_text(r), "--->Fault address falls at 0xffffffffff600000 after the last mapping"));
  r.signal->fault_address.reset();
  EXPECT_EQ(render_text(r).find("Fault address"), std::string::npos);
}

TEST(TextRenderer, TruncatedAndProblemsAreListed) {
  std::string text = render_text(sample_report());
  auto lines = lines_of(text);
  size_t t = line_index(lines, "Truncated:");
  ASSERT_LT(t + 2, lines.size());
  EXPECT_EQ(lines[t + 1], "    maps: kept the first 4");
  EXPECT_EQ(lines[t + 2], "    thread 4243: frames cut at 3");
  EXPECT_TRUE(has_line(text, "    module /lib/x: not an ELF file"));
  auto r = sample_report();
  r.truncated.clear();
  EXPECT_EQ(render_text(r).find("Truncated:"), std::string::npos);
}

TEST(TextRenderer, AbsentFactsAreQuestionMarksNotInventions) {
  engine::Report r;
  r.pid = 9;
  r.comm = "x";
  r.source = "live";
  std::string text = render_text(r);
  EXPECT_TRUE(has_line(text, "pid: 9, tgid: ?, comm: x"));
  EXPECT_TRUE(has_line(text, "uid: ?, gid: ?"));
  EXPECT_TRUE(has_line(text, "signal: none (live process)"));
  EXPECT_TRUE(has_line(text, "    (no thread registers)"));
  EXPECT_EQ(text.find("exe:"), std::string::npos);
  EXPECT_EQ(text.find("abort message"), std::string::npos);
}

TEST(TextRenderer, AbortMessageAndSender) {
  auto r = sample_report();
  r.signal->number = SIGABRT;
  r.signal->code = SI_TKILL;
  r.signal->fault_address.reset();
  r.signal->sender_pid = 4242;
  r.signal->sender_uid = 1000;
  r.abort_message = "demo: demo.c:10: main: Assertion `x' failed.\n\x1b[2J";
  std::string text = render_text(r);
  EXPECT_TRUE(has_line(text, "signal: 6 (SIGABRT), code: -6 (SI_TKILL)"));
  EXPECT_TRUE(has_line(text, "sent by: pid 4242, uid 1000"));
  EXPECT_TRUE(has_line(text, "abort message: 'demo: demo.c:10: main: Assertion `x' failed.\\n\\x1b[2J'"));
}

TEST(TextRenderer, SizeCapCutsWithANote) {
  auto r = sample_report();
  for (int i = 0; i < 5000; ++i)
    r.maps.push_back({0x100000000ULL + i * 0x1000ULL, 0x100001000ULL + i * 0x1000ULL, "r--p", 0, "fe:00", 1,
                      "/usr/lib/a-rather-long-library-name-" + std::to_string(i) + ".so"});
  RenderOptions o;
  o.max_bytes = 20000;
  std::string text = render_text(r, o);
  EXPECT_LE(text.size(), 20000u);
  EXPECT_GT(text.size(), 19000u);
  EXPECT_TRUE(text.ends_with("\n*** report cut at 20000 bytes (max_report_size) ***\n"));
  EXPECT_TRUE(text.starts_with("*** *** ***"));
  o.max_bytes = 10;
  text = render_text(r, o);
  EXPECT_TRUE(text.ends_with("*** report cut at 10 bytes (max_report_size) ***\n")) << "the note survives any cap";
  o.max_bytes = 16 << 20;
  EXPECT_EQ(render_text(r, o).find("report cut"), std::string::npos);
}

TEST(TextRenderer, SizeCapNeverSplitsAUtf8Character) {
  auto r = sample_report();
  for (int i = 0; i < 2000; ++i)
    r.maps.push_back({0x100000000ULL + i * 0x1000ULL, 0x100001000ULL + i * 0x1000ULL, "r--p", 0, "fe:00", 1,
                      "/usr/lib/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe2\x82\xac.so"});  // 日本語€
  RenderOptions o;
  for (size_t cap = 20000; cap < 20100; ++cap) {  // more than a line: every cut position
    o.max_bytes = cap;
    std::string text = render_text(r, o);
    EXPECT_LE(text.size(), cap);
    std::string body = text.substr(0, text.find("\n*** report cut"));
    EXPECT_EQ(util::to_valid_utf8(body), body) << "cap " << cap;
  }
}

TEST(TextRenderer, Brief) {
  RenderOptions o;
  o.brief = true;
  std::string text = render_text(sample_report(), o);
  auto lines = lines_of(text);
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines[0], "TID 4243 (worker\\x1b]0;title\\x07):");
  EXPECT_TRUE(lines[1].starts_with("#00 pc 0x000055550000123a"));
  EXPECT_EQ(text.find("Maps:"), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(RenderHelpers, Iso8601AndThreadStates) {
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601_utc(1795000000), "2026-11-18T11:06:40Z");
  EXPECT_EQ(thread_state_name("S"), "S (sleeping)");
  EXPECT_EQ(thread_state_name("D"), "D (disk sleep)");
  EXPECT_EQ(thread_state_name("t"), "t (tracing stop)");
  EXPECT_EQ(thread_state_name("Q"), "Q");
  EXPECT_EQ(thread_state_name("\x1b"), "\\x1b");
  EXPECT_EQ(thread_state_name("RS"), "RS");
}

}  // namespace
}  // namespace usercrash::report
