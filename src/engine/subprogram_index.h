// A warm module's functions by address (engine/warm_module.h): every
// DW_TAG_subprogram that FunctionScopes::at could find at a unit's top level
// (or inside namespaces and types), with its address ranges, sorted. It
// answers in a binary search what FunctionScopes::at finds by walking the
// unit's DIEs (about 45 us an address in libc's bigger units): the first
// such subprogram, in DIE order, whose ranges hold the address.
#pragma once

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace usercrash::engine {

class SubprogramIndex {
 public:
  struct Found {
    Dwarf_Die die;
    int depth;  // of the DIE below its unit, as FunctionScopes counts it
  };

  // Reads every unit of `mod`'s DWARF (which must outlive the index).
  explicit SubprogramIndex(Dwfl_Module* mod);

  // The subprogram of unit `cu` holding `address` (a DWARF address, the
  // module's bias removed); nullopt when none does.
  std::optional<Found> at(Dwarf_Die* cu, Dwarf_Addr address) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Dwarf_Addr low = 0, high = 0;
    Dwarf_Off unit = 0;  // the unit DIE's offset
    Dwarf_Die die{};
    int depth = 0;
  };
  void add_children(Dwarf_Die* parent, Dwarf_Off unit, int depth);

  std::vector<Entry> entries_;  // by low
  Dwarf_Addr widest_ = 0;       // the longest range, which bounds a lookup's scan
};

}  // namespace usercrash::engine
