// SubprogramIndex against the walk it replaces: FunctionScopes::at and
// the index find the same function and inlined calls in libc's DWARF.
#include "engine/subprogram_index.h"

#include <gtest/gtest.h>

#include "engine/function_scopes.h"
#include "engine/warm_modules.h"

namespace usercrash::engine {
namespace {

std::vector<Dwarf_Off> offsets_of(const std::vector<Dwarf_Die>& chain) {
  std::vector<Dwarf_Off> out;
  for (auto die : chain) out.push_back(dwarf_dieoffset(&die));
  return out;
}

TEST(SubprogramIndex, FindsWhatTheUnitWalkFindsInLibc) {
  std::string libc;
  for (const auto& path : default_warm_libraries())
    if (path.find("/libc.so") != std::string::npos) libc = path;
  auto warm = WarmModules::load({libc}, WarmOptions{.max_bytes = 1ull << 30});  // no budget in the way
  ASSERT_EQ(warm.modules().size(), 1u);
  const WarmModule& m = *warm.modules()[0];
  ASSERT_TRUE(m.has_dwarf()) << m.dwarf_problem().value_or("");
  ASSERT_NE(m.subprograms(), nullptr);
  EXPECT_GT(m.subprograms()->size(), 1000u);
  Dwarf_Addr start = 0, end = 0;
  dwfl_module_info(m.module(), nullptr, &start, &end, nullptr, nullptr, nullptr, nullptr);
  FunctionScopes walk, indexed;
  size_t compared = 0, found = 0, inlined = 0;
  // Addresses through the whole module, not aligned to anything.
  for (Dwarf_Addr a = start; a < end; a += 1201) {
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = dwfl_module_addrdie(m.module(), a, &bias);
    if (!cu) continue;
    auto expected = walk.at(cu, a - bias);
    auto hit = m.subprograms()->at(cu, a - bias);
    std::vector<Dwarf_Die> got = hit ? indexed.within(hit->die, hit->depth, a - bias) : std::vector<Dwarf_Die>{};
    ++compared;
    found += !expected.empty();
    inlined += expected.size() > 1;
    EXPECT_EQ(offsets_of(got), offsets_of(expected)) << "at 0x" << std::hex << a;
  }
  EXPECT_GT(compared, 500u);
  EXPECT_GT(found, compared / 2);
  EXPECT_GT(inlined, 10u);
}

}  // namespace
}  // namespace usercrash::engine
