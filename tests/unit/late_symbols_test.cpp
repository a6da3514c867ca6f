// crash_debuginfod's choice of the debug files the crash path asks for
// (collect/late_symbols.h), and what the child does with none.
#include "collect/late_symbols.h"

#include <gtest/gtest.h>

namespace usercrash::collect {
namespace {

engine::Frame frame(const std::string& module, const std::string& build_id, bool with_file) {
  engine::Frame f;
  f.pc = 0x1000;
  f.module = module;
  f.module_offset = 0x10;
  f.build_id = build_id;
  if (with_file) {
    f.file = "a.c";
    f.line = 3;
  }
  return f;
}

const std::string kApp(40, 'a'), kLib(40, 'b'), kLibc(40, 'c'), kOther(40, 'd');

engine::Report two_threads() {
  engine::Report r;
  engine::ThreadReport crashed, other;
  crashed.crashed = true;
  crashed.frames = {frame("/usr/lib/x86_64-linux-gnu/libc.so.6", kLibc, false), frame("/opt/app/lib.so", kLib, false),
                    frame("/opt/app/app", kApp, false), frame("/opt/app/app", kApp, false),
                    frame("[vdso]", kOther, false)};
  other.frames = {frame("/opt/app/other.so", kOther, false), frame("/opt/app/debug.so", std::string(40, 'e'), true)};
  r.threads = {crashed, other};
  return r;
}

TEST(LateSymbols, AsksForTheModulesWithoutFileLineCrashingThreadFirstOnce) {
  LateSymbols policy{.wanted = true, .lines = limits::SourceLines::own};
  // own: not libc (the runtime), not the vdso, not a module that had lines.
  EXPECT_EQ(wanted_debug_files(two_threads(), policy), (std::vector<std::string>{kLib, kApp, kOther}));
  policy.lines = limits::SourceLines::all;
  EXPECT_EQ(wanted_debug_files(two_threads(), policy), (std::vector<std::string>{kLibc, kLib, kApp, kOther}));
  policy.max_modules = 2;
  EXPECT_EQ(wanted_debug_files(two_threads(), policy), (std::vector<std::string>{kLibc, kLib}));
}

TEST(LateSymbols, AsksForNothingWhenOffOrWithoutSourceLinesOrForABadBuildId) {
  EXPECT_TRUE(wanted_debug_files(two_threads(), LateSymbols{.wanted = false}).empty());
  EXPECT_TRUE(
      wanted_debug_files(two_threads(), LateSymbols{.wanted = true, .lines = limits::SourceLines::none}).empty());
  engine::Report hostile;
  hostile.threads.emplace_back();
  hostile.threads[0].frames = {frame("/x", "../../etc", false), frame("/y", "ABCD", false)};
  EXPECT_TRUE(wanted_debug_files(hostile, LateSymbols{.wanted = true}).empty());
}

// A remote source that answers from a table.
class Table : public engine::RemoteDebugFiles {
 public:
  util::Result<engine::DebugFile> fetch(const std::string& build_id) override {
    asked.push_back(build_id);
    return util::fail("debuginfod (http://x) has no debug file of that build-id");
  }
  std::vector<std::string> asked;
};

TEST(LateSymbols, FetchesOnlyBuildIdsAndSaysWhyEachWasMissing) {
  Table table;
  FetchedDebugFiles got = fetch_debug_files({kApp, "not/hex", kLib}, table);
  EXPECT_EQ(table.asked, (std::vector<std::string>{kApp, kLib}));
  EXPECT_TRUE(got.files.empty());
  ASSERT_EQ(got.missing.size(), 2u);
  EXPECT_EQ(got.missing[0].first, kApp);
  EXPECT_NE(got.missing[0].second.find("has no debug file"), std::string::npos);
}

TEST(LateSymbols, MissingFilesLeaveTheFramesAndNameTheModuleWithItsReason) {
  engine::Report r = two_threads();
  auto before = r.threads[0].frames;
  auto problems = symbolize_late(r, {}, {{kApp, "gave no debug file within the 2000 ms budget"}},
                                 std::chrono::steady_clock::now() + std::chrono::seconds(5), 1234);
  EXPECT_TRUE(problems.empty());
  ASSERT_TRUE(r.symbolized);
  EXPECT_EQ(r.symbolized->frames_changed, 0u);
  EXPECT_EQ(r.symbolized->time, 1234);
  // Only the module asked for is listed, with the caller's reason.
  ASSERT_EQ(r.symbolized->modules.size(), 1u);
  EXPECT_EQ(r.symbolized->modules[0].build_id, kApp);
  EXPECT_EQ(r.symbolized->modules[0].problem, "gave no debug file within the 2000 ms budget");
  ASSERT_EQ(r.threads[0].frames.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_FALSE(r.threads[0].frames[i].resymbolized);

  engine::Report untouched = two_threads();
  EXPECT_TRUE(symbolize_late(untouched, {}, {}, std::chrono::steady_clock::now(), 0).empty());
  EXPECT_FALSE(untouched.symbolized) << "nothing fetched, nothing said";
}

}  // namespace
}  // namespace usercrash::collect
