#include "engine/subprogram_index.h"

#include <dwarf.h>

#include <algorithm>

#include "engine/function_scopes.h"

namespace usercrash::engine {

SubprogramIndex::SubprogramIndex(Dwfl_Module* mod) {
  Dwarf_Addr bias = 0;
  for (Dwarf_Die* cu = nullptr; (cu = dwfl_module_nextcu(mod, cu, &bias));) add_children(cu, dwarf_dieoffset(cu), 0);
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.low < b.low; });
  for (const auto& e : entries_) widest_ = std::max(widest_, e.high - e.low);
}

// As FunctionScopes::at walks a unit: subprograms at its top level and
// inside containers (namespaces, types), not inside other subprograms.
void SubprogramIndex::add_children(Dwarf_Die* parent, Dwarf_Off unit, int depth) {
  if (depth > FunctionScopes::kMaxDepth) return;
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    if (tag == DW_TAG_subprogram) {
      Dwarf_Addr base = 0, low = 0, high = 0;
      for (ptrdiff_t at = 0; (at = dwarf_ranges(&child, at, &base, &low, &high)) > 0;)
        if (low < high) entries_.push_back({low, high, unit, child, depth});
    } else if (FunctionScopes::is_container(tag)) {
      add_children(&child, unit, depth + 1);
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

std::optional<SubprogramIndex::Found> SubprogramIndex::at(Dwarf_Die* cu, Dwarf_Addr address) const {
  Dwarf_Off unit = dwarf_dieoffset(cu);
  auto after = std::upper_bound(entries_.begin(), entries_.end(), address,
                                [](Dwarf_Addr a, const Entry& e) { return a < e.low; });
  // Every range holding the address starts at most widest_ below it; the
  // first in DIE order wins, as in the walk.
  const Entry* best = nullptr;
  for (auto it = after; it != entries_.begin();) {
    --it;
    if (address - it->low >= widest_) break;
    if (it->unit != unit || address >= it->high) continue;
    if (!best ||
        dwarf_dieoffset(const_cast<Dwarf_Die*>(&it->die)) < dwarf_dieoffset(const_cast<Dwarf_Die*>(&best->die)))
      best = &*it;
  }
  if (!best) return std::nullopt;
  return Found{best->die, best->depth};
}

}  // namespace usercrash::engine
