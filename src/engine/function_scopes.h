// The functions at an address, from DWARF: the subprogram and the calls
// inlined into it, and their names as gdb prints them. elfutils'
// dwarf_getscopes does not descend into namespaces, where Rust puts its
// functions (and their inlined calls), so the search is ours.
//
// Names: Rust functions by their path (namespaces and types above the
// declaration, generic arguments as rustc wrote them:
// "core::option::Option<&i64>::expect<&i64>"), Go functions by their own
// full name ("main.main.func1"), everything else by the demangled linkage
// name, else the plain name.
#pragma once

#include <elfutils/libdw.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace usercrash::engine {

class FunctionScopes {
 public:
  // The subprogram containing `address` (relative to the module's DWARF)
  // in `cu`, then the inlined calls inside it that contain the address,
  // outermost first; empty when no subprogram covers it. The DIEs point
  // into the module's Dwarf and live as long as it does.
  std::vector<Dwarf_Die> at(Dwarf_Die* cu, Dwarf_Addr address);

  // The same, from the subprogram `at` would find first (found at `depth`
  // below its unit, e.g. by engine/subprogram_index.h).
  std::vector<Dwarf_Die> within(const Dwarf_Die& subprogram, int depth, Dwarf_Addr address);

  // DWARF from a crashing process's files is hostile: nesting deeper than
  // this is not followed.
  static constexpr int kMaxDepth = 64;
  // DIEs that hold functions without having addresses of their own.
  static bool is_container(int tag);

  // The name of a subprogram or inlined call as gdb prints it.
  std::optional<std::string> name(Dwarf_Die* die);

  // Whether `cu` holds code whose frames are named from DWARF (Rust, Go),
  // where the symbol table's names differ from gdb's.
  static bool names_from_dwarf(Dwarf_Die* cu);

 private:
  // Parent of every DIE below a namespace or a type, per unit, built the
  // first time a Rust name in that unit is asked for.
  using Parents = std::unordered_map<Dwarf_Off, Dwarf_Off>;
  const Parents& parents_in(Dwarf_Die* cu);
  std::string rust_path(Dwarf_Die* declaration);

  std::unordered_map<Dwarf_Off, Parents> parents_;  // by unit DIE offset
};

}  // namespace usercrash::engine
