// The warm collector's modules: only trusted files, keyed by build-id, with
// their debug files and line tables loaded, within a memory budget.
#include "engine/warm_modules.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "engine/debug_files.h"
#include "unit/test_support.h"

namespace usercrash::engine {
namespace {

std::string warm_test_libc_path() {
  for (const auto& path : default_warm_libraries())
    if (path.find("/libc.so") != std::string::npos) return path;
  return {};
}

TEST(WarmModules, DefaultListIsThisProcessLibrariesLibcFirst) {
  auto paths = default_warm_libraries();
  ASSERT_GE(paths.size(), 2u);
  EXPECT_NE(paths[0].find("/libc.so"), std::string::npos) << paths[0];
  EXPECT_NE(paths[1].find("/ld-"), std::string::npos) << paths[1];
  for (const auto& p : paths) {
    EXPECT_EQ(p[0], '/');
    EXPECT_EQ(std::filesystem::canonical(p).string(), p) << "symlinks resolved";
  }
}

TEST(WarmModules, LoadsLibcWithItsDebugFileAndLineTables) {
  std::string path = warm_test_libc_path();
  ASSERT_FALSE(path.empty());
  auto warm = WarmModules::load({path, path}, WarmOptions{.max_bytes = 1ull << 30});  // no budget in the way
  ASSERT_EQ(warm.modules().size(), 1u) << "one module per build-id";
  const WarmModule& m = *warm.modules()[0];
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(m.device(), st.st_dev);
  EXPECT_EQ(m.inode(), st.st_ino);
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(file_build_id(fd.get()), m.build_id());
  EXPECT_EQ(warm.find(m.build_id()), &m);
  EXPECT_EQ(warm.find("00" + m.build_id().substr(2)), nullptr);
  // libc6-dbg (scripts/setup.sh) holds libc's DWARF.
  ASSERT_TRUE(m.debug_file()) << m.dwarf_problem().value_or("");
  EXPECT_TRUE(m.debug_file()->starts_with("/usr/lib/debug/")) << *m.debug_file();
  EXPECT_TRUE(m.has_dwarf()) << m.dwarf_problem().value_or("");
  EXPECT_GT(warm.resident_bytes(), 0u);
  EXPECT_GT(warm.data_bytes(), 8u << 20) << "libc's decompressed DWARF and line tables are private memory";
}

TEST(WarmModules, BudgetLeavesTheDwarfOutButKeepsTheSymbols) {
  auto warm = WarmModules::load({warm_test_libc_path()}, WarmOptions{.max_bytes = 1 << 20});
  ASSERT_EQ(warm.modules().size(), 1u);
  const WarmModule& m = *warm.modules()[0];
  EXPECT_FALSE(m.has_dwarf());
  EXPECT_GT(m.symbols().size(), 5000u) << "the debug file's .symtab";
  ASSERT_EQ(warm.problems().size(), 1u);
  EXPECT_NE(warm.problems()[0].find("budget"), std::string::npos) << warm.problems()[0];
}

TEST(WarmModules, RefusesFilesOthersCouldHaveWritten) {
  test::TempDir tmp;  // under /tmp: writable by everyone
  std::filesystem::copy_file(warm_test_libc_path(), tmp / "libc.so.6");
  auto warm = WarmModules::load({tmp / "libc.so.6", "/no/such/library.so"});
  EXPECT_TRUE(warm.modules().empty());
  ASSERT_EQ(warm.problems().size(), 2u);
  EXPECT_NE(warm.problems()[0].find("writable by group or others"), std::string::npos) << warm.problems()[0];
  EXPECT_NE(warm.problems()[1].find("not found"), std::string::npos) << warm.problems()[1];
}

TEST(WarmModules, RefusesAPathThroughASymlinkUnlessResolved) {
  // WarmModule::load takes resolved paths only; WarmModules resolves them.
  std::string through_link = "/proc/self/root" + warm_test_libc_path();
  EXPECT_FALSE(WarmModule::load(through_link, {}));
  auto warm = WarmModules::load({through_link});
  EXPECT_EQ(warm.modules().size(), 1u);
}

}  // namespace
}  // namespace usercrash::engine
