#include "engine/symbol_index.h"

#include <gelf.h>

#include <algorithm>
#include <set>

namespace usercrash::engine {
namespace {

int binding_of(const GElf_Sym& sym) {
  switch (GELF_ST_BIND(sym.st_info)) {
    case STB_GLOBAL: return 3;
    case STB_WEAK: return 2;
    case STB_LOCAL: return 1;
    default: return 0;
  }
}

uint64_t end_of(uint64_t value, uint64_t size) { return value + size < value ? UINT64_MAX : value + size; }

}  // namespace

SymbolIndex::SymbolIndex(Dwfl_Module* mod) {
  int count = dwfl_module_getsymtab(mod);
  int first_global = count > 0 ? dwfl_module_getsymtab_first_global(mod) : -1;
  if (count <= 0 || first_global < 0) return;
  search_locals_ = first_global > 1;
  int globals_from = first_global == 0 ? 1 : first_global;
  for (int i = 1; i < count; ++i) {
    GElf_Sym sym;
    GElf_Addr value = 0;
    GElf_Word shndx = SHN_UNDEF;
    const char* name = dwfl_module_getsym_info(mod, i, &sym, &value, &shndx, nullptr, nullptr);
    if (!name || sym.st_shndx == SHN_UNDEF) continue;
    by_name_.emplace(name, value);  // the first of a name wins
    int type = GELF_ST_TYPE(sym.st_info);
    if (name[0] == '\0' || type == STT_SECTION || type == STT_FILE || type == STT_TLS) continue;
    (i >= globals_from ? globals_ : locals_).order.push_back(static_cast<uint32_t>(symbols_.size()));
    symbols_.push_back({value, sym.st_size, name, binding_of(sym), shndx >= SHN_LORESERVE});
  }
  // Sections of the main file, as libdwfl finds an address's section.
  GElf_Addr bias = 0;
  Elf* elf = dwfl_module_getelf(mod, &bias);
  for (Elf_Scn* scn = elf ? elf_nextscn(elf, nullptr) : nullptr; scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) && (shdr.sh_flags & SHF_ALLOC))
      sections_.push_back({shdr.sh_addr + bias, shdr.sh_addr + bias + shdr.sh_size});
  }
  std::stable_sort(sections_.begin(), sections_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  build(globals_);
  build(locals_);
}

// Whether libdwfl prefers `candidate` to `current` among the sized symbols
// holding an address, met in table order.
bool SymbolIndex::better(int32_t current, uint32_t candidate) const {
  if (current < 0) return true;
  const Symbol& c = symbols_[static_cast<uint32_t>(current)];
  const Symbol& s = symbols_[candidate];
  if (c.value < s.value || c.binding < s.binding) return true;
  return c.value == s.value && c.size > s.size && c.binding <= s.binding;
}

void SymbolIndex::build(Pass& pass) {
  std::vector<uint32_t> sized;
  for (uint32_t i : pass.order) {
    const Symbol& s = symbols_[i];
    if (s.size == 0) pass.sizeless[s.value].push_back(i);
    else sized.push_back(i);
  }
  // The sized symbols holding each elementary range, folded in table order.
  std::vector<uint64_t> bounds;
  for (uint32_t i : sized) {
    bounds.push_back(symbols_[i].value);
    bounds.push_back(end_of(symbols_[i].value, symbols_[i].size));
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  std::vector<uint32_t> by_start = sized;
  std::sort(by_start.begin(), by_start.end(),
            [&](uint32_t a, uint32_t b) { return symbols_[a].value < symbols_[b].value; });
  std::set<uint32_t> active;  // symbols_ indices are in table order
  std::multiset<std::pair<uint64_t, uint32_t>> ends;
  size_t next = 0;
  for (uint64_t at : bounds) {
    while (!ends.empty() && ends.begin()->first <= at) {
      active.erase(ends.begin()->second);
      ends.erase(ends.begin());
    }
    for (; next < by_start.size() && symbols_[by_start[next]].value <= at; ++next) {
      uint32_t i = by_start[next];
      uint64_t end = end_of(symbols_[i].value, symbols_[i].size);
      if (end <= at) continue;
      active.insert(i);
      ends.emplace(end, i);
    }
    int32_t chosen = -1;
    for (uint32_t i : active)
      if (better(chosen, i)) chosen = static_cast<int32_t>(i);
    if (!pass.chosen.empty() && pass.chosen.back() == chosen) continue;
    pass.starts.push_back(at);
    pass.chosen.push_back(chosen);
  }
  // The highest end of the symbols at or below each value: what libdwfl
  // calls min_label, which a sizeless symbol must reach.
  std::vector<uint32_t> all = pass.order;
  std::sort(all.begin(), all.end(), [&](uint32_t a, uint32_t b) { return symbols_[a].value < symbols_[b].value; });
  uint64_t highest = 0;
  for (uint32_t i : all) {
    highest = std::max(highest, end_of(symbols_[i].value, symbols_[i].size));
    pass.by_value.push_back(symbols_[i].value);
    pass.max_end.push_back(highest);
  }
}

int32_t SymbolIndex::sized_at(const Pass& pass, uint64_t address) const {
  auto after = std::upper_bound(pass.starts.begin(), pass.starts.end(), address);
  if (after == pass.starts.begin()) return -1;
  return pass.chosen[static_cast<size_t>(after - pass.starts.begin()) - 1];
}

std::optional<uint64_t> SymbolIndex::highest_end(const Pass& pass, uint64_t address) const {
  auto after = std::upper_bound(pass.by_value.begin(), pass.by_value.end(), address);
  if (after == pass.by_value.begin()) return std::nullopt;
  return pass.max_end[static_cast<size_t>(after - pass.by_value.begin()) - 1];
}

// libdwfl's section of an address: a binary search over the main file's
// allocated sections by start, a section's end counting as inside it unless
// the next one starts there; -1 for none.
int64_t SymbolIndex::section_of(uint64_t address) const {
  size_t low = 0, high = sections_.size();
  while (low < high) {
    size_t i = (low + high) / 2;
    if (address < sections_[i].first) high = i;
    else if (address > sections_[i].second) low = i + 1;
    else {
      if (address == sections_[i].second && i + 1 < sections_.size() && address == sections_[i + 1].first) ++i;
      return static_cast<int64_t>(i);
    }
  }
  return -1;
}

std::optional<SymbolIndex::Hit> SymbolIndex::at(uint64_t address) const {
  auto hit = [&](int32_t i) {
    return Hit{symbols_[static_cast<uint32_t>(i)].name, symbols_[static_cast<uint32_t>(i)].value};
  };
  if (int32_t g = sized_at(globals_, address); g >= 0) return hit(g);
  // A global symbol without size exactly at the address ends the search.
  bool locals = search_locals_ && !globals_.sizeless.contains(address);
  if (locals)
    if (int32_t l = sized_at(locals_, address); l >= 0) return hit(l);
  std::optional<uint64_t> highest = highest_end(globals_, address);
  if (locals)
    if (auto h = highest_end(locals_, address); h && (!highest || *h > *highest)) highest = h;
  if (!highest) return std::nullopt;
  // The last sizeless symbol met (the locals come after the globals) that
  // starts where the highest symbol below the address ends, in its section.
  std::optional<uint32_t> chosen = locals ? last_sizeless(locals_, *highest, address) : std::nullopt;
  if (!chosen) chosen = last_sizeless(globals_, *highest, address);
  if (!chosen) return std::nullopt;
  return hit(static_cast<int32_t>(*chosen));
}

std::optional<uint32_t> SymbolIndex::last_sizeless(const Pass& pass, uint64_t value, uint64_t address) const {
  auto it = pass.sizeless.find(value);
  if (it == pass.sizeless.end()) return std::nullopt;
  bool same = section_of(value) == section_of(address);
  for (auto i = it->second.rbegin(); i != it->second.rend(); ++i)
    if (symbols_[*i].absolute ? value == address : same) return *i;
  return std::nullopt;
}

std::optional<uint64_t> SymbolIndex::address_of(std::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

}  // namespace usercrash::engine
