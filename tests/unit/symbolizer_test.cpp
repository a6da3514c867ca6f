// The symbolizer on frames recorded elsewhere: a function of this very
// test program, found by its build-id in a debug directory (the unstripped
// program serves as its own debug file), and frames whose build-id, offset
// or module path a hostile report made up.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "engine/debug_files.h"
#include "engine/symbolizer.h"
#include "unit/test_support.h"
#include "util/unique_fd.h"

namespace usercrash::engine {
namespace {

constexpr int kMarkerLine = __LINE__ + 1;
__attribute__((noinline)) int marker_function(int x) { return x * 3 + 1; }

std::string own_build_id() {
  util::UniqueFd fd(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  return file_build_id(fd.get()).value_or("");
}

// This program's debug file by build-id: a link to the program itself.
std::string debug_dir_for_self(const test::TempDir& dir, const std::string& id) {
  std::string sub = dir.path() + "/.build-id/" + id.substr(0, 2);
  std::filesystem::create_directories(sub);
  std::filesystem::create_symlink(std::filesystem::read_symlink("/proc/self/exe"), sub + "/" + id.substr(2) + ".debug");
  return dir.path();
}

Frame marker_frame(const std::string& id) {
  Dl_info info{};
  EXPECT_NE(::dladdr(reinterpret_cast<void*>(&marker_function), &info), 0);
  Frame f;
  f.pc = reinterpret_cast<uintptr_t>(&marker_function);
  f.module = "/device/bin/unit_tests";
  f.module_offset = f.pc - reinterpret_cast<uintptr_t>(info.dli_fbase);
  f.build_id = id;
  f.method = FrameMethod::context;
  return f;
}

TEST(Symbolizer, FindsAFunctionAndItsLineByBuildIdInADebugDirectory) {
  std::string id = own_build_id();
  ASSERT_TRUE(is_build_id(id));
  test::TempDir dir;
  DebugSearch search;
  search.debug_dirs = {debug_dir_for_self(dir, id)};
  Symbolizer symbolizer(search);
  auto frames = symbolizer.frames({marker_frame(id)});
  ASSERT_GE(frames.size(), 1u);
  const Frame& f = frames.back();
  ASSERT_TRUE(f.function);
  EXPECT_NE(f.function->find("marker_function"), std::string::npos) << *f.function;
  EXPECT_EQ(f.function_offset, 0u);
  ASSERT_TRUE(f.file && f.line);
  EXPECT_TRUE(f.file->ends_with("symbolizer_test.cpp")) << *f.file;
  EXPECT_GE(*f.line, kMarkerLine);
  EXPECT_LE(*f.line, kMarkerLine + 2);
  EXPECT_TRUE(f.resymbolized);
  EXPECT_EQ(f.module, "/device/bin/unit_tests") << "the device's names stay";
  auto modules = symbolizer.modules();
  ASSERT_EQ(modules.size(), 1u);
  EXPECT_EQ(modules[0].source, "debug_dir");
  EXPECT_FALSE(modules[0].problem);
  // Symbolized again, nothing changes.
  auto again = symbolizer.frames(frames);
  EXPECT_FALSE(again.back().resymbolized);
}

TEST(Symbolizer, LeavesFramesAHostileReportMadeUpAsTheyWere) {
  std::string id = own_build_id();
  test::TempDir dir;
  DebugSearch search;
  search.debug_dirs = {debug_dir_for_self(dir, id)};
  search.sysroot = dir.path();
  Symbolizer symbolizer(search);
  Frame traversal = marker_frame(id);
  traversal.build_id = "../../../../etc/passwd";
  Frame past_pc = marker_frame(id);
  past_pc.module_offset = past_pc.pc + 1;
  Frame upper = marker_frame(id);
  upper.build_id = std::string(id.size(), 'A');
  Frame no_id = marker_frame(id);
  no_id.build_id.reset();
  for (const Frame& f : {traversal, past_pc, upper, no_id}) {
    EXPECT_FALSE(symbolizer.symbolize(f));
    auto out = symbolizer.frames({f});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].resymbolized);
    EXPECT_FALSE(out[0].function);
  }
  EXPECT_TRUE(symbolizer.modules().empty()) << "nothing was looked up for them";
}

TEST(Symbolizer, SaysWhereItLookedForAModuleWithoutADebugFile) {
  test::TempDir dir;
  DebugSearch search;
  search.debug_dirs = {dir.path()};
  Symbolizer symbolizer(search);
  Frame f = marker_frame(std::string(40, 'a'));
  f.method = FrameMethod::cfi;
  Frame inl = f;
  inl.method = FrameMethod::inlined;
  inl.function = "as the device said";
  auto out = symbolizer.frames({inl, f});
  ASSERT_EQ(out.size(), 2u) << "inlined frames stay with their frame";
  EXPECT_EQ(out[0].function, "as the device said");
  auto modules = symbolizer.modules();
  ASSERT_EQ(modules.size(), 1u);
  ASSERT_TRUE(modules[0].problem);
  EXPECT_NE(modules[0].problem->find(dir.path() + "/.build-id/aa/"), std::string::npos) << *modules[0].problem;
  EXPECT_FALSE(modules[0].debug_file);
}

TEST(DebugFiles, ABuildIdIsLowerHexOfEvenLength) {
  EXPECT_TRUE(is_build_id("ab"));
  EXPECT_TRUE(is_build_id(std::string(40, 'f')));
  EXPECT_FALSE(is_build_id(""));
  EXPECT_FALSE(is_build_id("abc"));
  EXPECT_FALSE(is_build_id("AB"));
  EXPECT_FALSE(is_build_id("a/"));
  EXPECT_FALSE(is_build_id(std::string(130, 'a')));
}

TEST(DebugFiles, AModulePathStaysInsideTheSysroot) {
  test::TempDir root;
  std::string id = own_build_id();
  DebugSearch search;
  search.sysroot = root.path();
  // The program itself, named by a path that climbs out of the sysroot.
  std::string exe = std::filesystem::read_symlink("/proc/self/exe");
  auto found = find_debug_file(search, id, "/../../../../.." + exe);
  EXPECT_FALSE(found);
  std::filesystem::create_directories(root.path() + "/opt");
  std::filesystem::copy_file(exe, root.path() + "/opt/unit_tests");
  found = find_debug_file(search, id, "/opt/unit_tests");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->source, DebugSource::sysroot);
}

}  // namespace
}  // namespace usercrash::engine
