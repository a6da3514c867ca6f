#include "engine/frame_symbols.h"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <string>
#include <utility>

#include "engine/demangler.h"
#include "engine/signal_frame.h"
#include "util/phase_trace.h"

namespace usercrash::engine {
namespace {

std::optional<std::pair<std::string, int>> call_site(Dwarf_Die* inlined, Dwarf_Die* cu) {
  Dwarf_Attribute attr;
  Dwarf_Word file_index = 0, line = 0;
  if (!dwarf_attr(inlined, DW_AT_call_file, &attr) || dwarf_formudata(&attr, &file_index) != 0) return std::nullopt;
  if (!dwarf_attr(inlined, DW_AT_call_line, &attr) || dwarf_formudata(&attr, &line) != 0) return std::nullopt;
  Dwarf_Files* files;
  size_t nfiles;
  if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || file_index >= nfiles) return std::nullopt;
  const char* name = dwarf_filesrc(files, file_index, nullptr, nullptr);
  if (!name) return std::nullopt;
  return std::make_pair(std::string(name), static_cast<int>(line));
}

// The compilation unit that holds `lookup`, and the module's bias. libdw
// finds units through .debug_aranges; Go's linker writes none, and libdw
// (0.188) then finds no unit, so no line, name or inlined call, for any Go
// address. Then the units' own ranges are read, once per module (at most
// kMaxUnitRanges of them: the DWARF is the crashed program's), and searched.
Dwarf_Die* unit_at(Dwfl_Module* mod, UnitRanges& r, uint64_t lookup, Dwarf_Addr& bias) {
  if (Dwarf_Die* cu = dwfl_module_addrdie(mod, lookup, &bias)) return cu;
  constexpr size_t kMaxUnitRanges = 1 << 16;
  if (!r.units) {
    r.units.emplace();
    Dwarf_Die* cu = nullptr;
    while (r.units->size() < kMaxUnitRanges && (cu = dwfl_module_nextcu(mod, cu, &r.bias))) {
      Dwarf_Addr base = 0, low = 0, high = 0;
      for (ptrdiff_t at = 0; r.units->size() < kMaxUnitRanges && (at = dwarf_ranges(cu, at, &base, &low, &high)) > 0;)
        if (low < high) r.units->push_back({low + r.bias, high + r.bias, *cu});
    }
    std::sort(r.units->begin(), r.units->end(), [](const auto& a, const auto& b) { return a.low < b.low; });
  }
  auto after = std::upper_bound(r.units->begin(), r.units->end(), lookup,
                                [](uint64_t address, const auto& unit) { return address < unit.low; });
  if (after == r.units->begin()) return nullptr;
  auto& unit = *std::prev(after);
  if (lookup >= unit.high) return nullptr;
  bias = r.bias;
  return &unit.cu;
}

}  // namespace

void FrameSymbols::add_symbol(Dwfl_Module* mod, uint64_t lookup, Frame& f) {
  util::trace::Span span(util::trace::Cost::symbols);
  GElf_Off offset = 0;
  GElf_Sym sym;
  const char* name = dwfl_module_addrinfo(mod, lookup, &offset, &sym, nullptr, nullptr, nullptr);
  if (name) set_function(name, offset, lookup, f);
}

void FrameSymbols::add_symbol(const SymbolIndex& index, uint64_t address, uint64_t lookup, Frame& f) {
  util::trace::Span span(util::trace::Cost::symbols);
  if (auto hit = index.at(address)) set_function(hit->name, address - hit->value, lookup, f);
}

void FrameSymbols::set_function(const char* name, uint64_t offset, uint64_t lookup, Frame& f) {
  // "__libc_start_main@@GLIBC_2.34": the version is not part of the name.
  std::string plain(name);
  if (size_t at = plain.find('@'); at != std::string::npos && at > 0) plain.resize(at);
  f.function = demangle(without_abi_suffix(plain));
  f.function_offset = offset + (f.pc - lookup);
}

void FrameSymbols::add_source(Dwfl_Module* mod, UnitRanges& units, uint64_t lookup, Frame f, std::vector<Frame>& out,
                              const SubprogramIndex* subprograms) {
  util::trace::Span span(util::trace::Cost::source_lines);
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = unit_at(mod, units, lookup, bias);
  if (Dwfl_Line* line = dwfl_module_getsrc(mod, lookup)) {
    int lineno = 0;
    if (const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr)) {
      f.file = file;
      f.line = lineno;
    }
  } else if (Dwarf_Line* unit_line = cu ? dwarf_getsrc_die(cu, lookup - bias) : nullptr) {
    int lineno = 0;
    const char* file = dwarf_linesrc(unit_line, nullptr, nullptr);
    if (file && dwarf_lineno(unit_line, &lineno) == 0) {
      f.file = file;
      f.line = lineno;
    }
  }
  // Inlined calls at this pc become frames of their own, innermost first;
  // each one's caller line is the inlined instance's call site.
  std::vector<Dwarf_Die> chain;
  if (cu && subprograms) {
    if (auto found = subprograms->at(cu, lookup - bias))
      chain = scopes_.within(found->die, found->depth, lookup - bias);
  } else if (cu) {
    chain = scopes_.at(cu, lookup - bias);
  }
  // Rust and Go functions as gdb names them: from DWARF, not the symbol table.
  if (!chain.empty() && FunctionScopes::names_from_dwarf(cu))
    if (auto name = scopes_.name(&chain.front())) f.function = std::move(name);
  std::optional<std::string> file = f.file;
  std::optional<int> lineno = f.line;
  for (size_t i = chain.size(); i-- > 1;) {
    Frame inl;
    inl.pc = f.pc;
    inl.method = FrameMethod::inlined;
    inl.module = f.module;
    inl.module_offset = f.module_offset;
    inl.build_id = f.build_id;
    inl.function = scopes_.name(&chain[i]);
    inl.file = file;
    inl.line = lineno;
    out.push_back(std::move(inl));
    auto site = call_site(&chain[i], cu);
    file = site ? std::optional(site->first) : std::nullopt;
    lineno = site ? std::optional(site->second) : std::nullopt;
  }
  f.file = file;
  f.line = lineno;
  out.push_back(std::move(f));
}

}  // namespace usercrash::engine
