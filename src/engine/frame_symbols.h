// A frame's function, source line and inlined calls, looked up in one
// libdwfl module: the unwinder's (a module of the crashed process) and the
// symbolizer's (a debug file found by build-id on a build host) alike.
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/function_scopes.h"
#include "engine/report.h"
#include "engine/subprogram_index.h"
#include "engine/symbol_index.h"

namespace usercrash::engine {

// Compilation units of one module by address range, read once when libdw
// finds no unit for an address (see FrameSymbols::add_source).
struct UnitRanges {
  struct Unit {
    uint64_t low = 0, high = 0;  // module addresses, bias applied
    Dwarf_Die cu{};
  };
  std::optional<std::vector<Unit>> units;
  Dwarf_Addr bias = 0;
};

class FrameSymbols {
 public:
  // f.function and f.function_offset from the symbol table of `mod`, for
  // the address `lookup` (f.pc, or f.pc - 1 for a return address).
  static void add_symbol(Dwfl_Module* mod, uint64_t lookup, Frame& f);

  // The same from a warm module's index (engine/symbol_index.h): `address`
  // is `lookup` in the index's module.
  static void add_symbol(const SymbolIndex& index, uint64_t address, uint64_t lookup, Frame& f);

  // f's file and line from DWARF; each call inlined at `lookup` becomes a
  // frame of its own, pushed on `out` innermost first, then f with the
  // outermost call's site. `units` is the module's cache; `subprograms`,
  // when given, finds the function without walking its unit.
  void add_source(Dwfl_Module* mod, UnitRanges& units, uint64_t lookup, Frame f, std::vector<Frame>& out,
                  const SubprogramIndex* subprograms = nullptr);

 private:
  static void set_function(const char* name, uint64_t offset, uint64_t lookup, Frame& f);

  FunctionScopes scopes_;  // functions and inlined calls from DWARF, with their names
};

}  // namespace usercrash::engine
