// SymbolIndex against the scan it replaces: dwfl_module_addrinfo's answer
// at addresses around every kind of symbol of the system's libraries.
#include "engine/symbol_index.h"

#include <gelf.h>

#include <cstring>
#include <set>

#include <gtest/gtest.h>

#include "engine/warm_module.h"
#include "engine/warm_modules.h"

namespace usercrash::engine {
namespace {

// Addresses where libdwfl's rules decide something: the bounds of sampled
// symbols (every `step`th of the table), just inside and outside them, and
// a stride through the module.
std::vector<uint64_t> probe_addresses(Dwfl_Module* mod, int step) {
  std::set<uint64_t> out;
  int n = dwfl_module_getsymtab(mod);
  for (int i = 1; i < n; i += step) {
    GElf_Sym sym;
    GElf_Addr value = 0;
    if (!dwfl_module_getsym_info(mod, i, &sym, &value, nullptr, nullptr, nullptr)) continue;
    for (uint64_t a : {value - 1, value, value + 1, value + sym.st_size / 2, value + sym.st_size - 1,
                       value + sym.st_size, value + sym.st_size + 1})
      out.insert(a);
  }
  Dwarf_Addr start = 0, end = 0;
  dwfl_module_info(mod, nullptr, &start, &end, nullptr, nullptr, nullptr, nullptr);
  for (uint64_t a = start; a < end; a += (end - start) / 97 + 1) out.insert(a);
  return {out.begin(), out.end()};
}

TEST(SymbolIndex, AnswersAsLibdwflScansInTheSystemLibraries) {
  auto warm = WarmModules::load(default_warm_libraries(), WarmOptions{.max_bytes = 0});  // symbols only
  ASSERT_GE(warm.modules().size(), 3u);  // libc, the loader, libstdc++ at least
  size_t compared = 0, answered = 0;
  for (const auto& m : warm.modules()) {
    Dwfl_Module* mod = m->module();
    int n = dwfl_module_getsymtab(mod);
    for (uint64_t address : probe_addresses(mod, std::max(1, n / 80))) {
      GElf_Off offset = 0;
      GElf_Sym sym;
      const char* cold = dwfl_module_addrinfo(mod, address, &offset, &sym, nullptr, nullptr, nullptr);
      auto hit = m->symbols().at(address);
      ++compared;
      ASSERT_EQ(cold != nullptr, hit.has_value()) << m->path() << " at 0x" << std::hex << address;
      if (!cold) continue;
      ++answered;
      EXPECT_STREQ(hit->name, cold) << m->path() << " at 0x" << std::hex << address;
      EXPECT_EQ(address - hit->value, offset) << m->path() << " at 0x" << std::hex << address;
    }
  }
  EXPECT_GT(compared, 1000u);
  EXPECT_GT(answered, compared / 2);
}

TEST(SymbolIndex, FindsTheFirstDefinedSymbolOfAName) {
  auto warm = WarmModules::load(default_warm_libraries(), WarmOptions{.max_bytes = 0});  // symbols only
  ASSERT_FALSE(warm.modules().empty());
  const WarmModule& libc = *warm.modules().front();
  ASSERT_NE(libc.path().find("libc.so"), std::string::npos) << libc.path();
  Dwfl_Module* mod = libc.module();
  std::optional<uint64_t> scanned;
  int n = dwfl_module_getsymtab(mod);
  for (int i = 0; i < n && !scanned; ++i) {
    GElf_Sym sym;
    GElf_Addr value = 0;
    const char* name = dwfl_module_getsym_info(mod, i, &sym, &value, nullptr, nullptr, nullptr);
    if (name && std::strcmp(name, "__abort_msg") == 0 && sym.st_shndx != SHN_UNDEF) scanned = value;
  }
  ASSERT_TRUE(scanned);
  EXPECT_EQ(libc.symbols().address_of("__abort_msg"), scanned);
  EXPECT_FALSE(libc.symbols().address_of("no_such_symbol_anywhere"));
  EXPECT_GT(libc.symbols().size(), 5000u);
}

}  // namespace
}  // namespace usercrash::engine
