#include "engine/function_scopes.h"

#include <dwarf.h>

#include "engine/demangler.h"

namespace usercrash::engine {
namespace {

// A reference chain longer than this is not followed (hostile DWARF).
constexpr int kMaxReferences = 8;
constexpr int kMaxDepth = FunctionScopes::kMaxDepth;

bool is_container(int tag) { return FunctionScopes::is_container(tag); }

bool find(Dwarf_Die* parent, Dwarf_Addr address, std::vector<Dwarf_Die>& chain, int depth) {
  if (depth > kMaxDepth) return false;
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return false;
  do {
    int tag = dwarf_tag(&child);
    if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block ||
        tag == DW_TAG_try_block || tag == DW_TAG_catch_block) {
      // Only code inside a subprogram counts as inlined into it.
      bool wanted = tag == DW_TAG_subprogram ? chain.empty() : !chain.empty();
      if (wanted && dwarf_haspc(&child, address) == 1) {
        if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) chain.push_back(child);
        find(&child, address, chain, depth + 1);
        return true;
      }
    } else if (chain.empty() && is_container(tag)) {
      if (find(&child, address, chain, depth + 1)) return true;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

void collect_parents(Dwarf_Die* parent, std::unordered_map<Dwarf_Off, Dwarf_Off>& out, int depth) {
  if (depth > kMaxDepth) return;
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  Dwarf_Off parent_offset = dwarf_dieoffset(parent);
  do {
    out.emplace(dwarf_dieoffset(&child), parent_offset);
    if (is_container(dwarf_tag(&child))) collect_parents(&child, out, depth + 1);
  } while (dwarf_siblingof(&child, &child) == 0);
}

const char* string_attr(Dwarf_Die* die, int name) {
  Dwarf_Attribute attr;
  return dwarf_attr(die, name, &attr) ? dwarf_formstring(&attr) : nullptr;
}

// The DIE that declares what `die` is an instance of: through
// DW_AT_abstract_origin (an inlined or out-of-line copy) and
// DW_AT_specification (a definition of a declaration).
bool declaration_of(Dwarf_Die* die, Dwarf_Die& out) {
  out = *die;
  for (int i = 0; i < kMaxReferences; ++i) {
    Dwarf_Attribute attr;
    Dwarf_Die next;
    if (dwarf_attr(&out, DW_AT_abstract_origin, &attr) || dwarf_attr(&out, DW_AT_specification, &attr)) {
      if (!dwarf_formref_die(&attr, &next)) return false;
      out = next;
      continue;
    }
    return true;
  }
  return false;
}

int language(Dwarf_Die* die) {
  Dwarf_Die cu;
  if (!dwarf_diecu(die, &cu, nullptr, nullptr)) return -1;
  return dwarf_srclang(&cu);
}

}  // namespace

bool FunctionScopes::is_container(int tag) {
  switch (tag) {
    case DW_TAG_namespace:
    case DW_TAG_structure_type:
    case DW_TAG_class_type:
    case DW_TAG_union_type:
    case DW_TAG_enumeration_type:
    case DW_TAG_interface_type:
    case DW_TAG_module: return true;
    default: return false;
  }
}

std::vector<Dwarf_Die> FunctionScopes::within(const Dwarf_Die& subprogram, int depth, Dwarf_Addr address) {
  Dwarf_Die die = subprogram;
  std::vector<Dwarf_Die> chain{die};
  find(&die, address, chain, depth + 1);
  return chain;
}

std::vector<Dwarf_Die> FunctionScopes::at(Dwarf_Die* cu, Dwarf_Addr address) {
  std::vector<Dwarf_Die> chain;
  if (cu) find(cu, address, chain, 0);
  return chain;
}

bool FunctionScopes::names_from_dwarf(Dwarf_Die* cu) {
  int lang = dwarf_srclang(cu);
  return lang == DW_LANG_Rust || lang == DW_LANG_Go;
}

const FunctionScopes::Parents& FunctionScopes::parents_in(Dwarf_Die* cu) {
  auto [it, inserted] = parents_.try_emplace(dwarf_dieoffset(cu));
  if (inserted) collect_parents(cu, it->second, 0);
  return it->second;
}

std::string FunctionScopes::rust_path(Dwarf_Die* declaration) {
  std::string path = string_attr(declaration, DW_AT_name);
  Dwarf_Die cu;
  if (!dwarf_diecu(declaration, &cu, nullptr, nullptr)) return path;
  Dwarf* dwarf = dwarf_cu_getdwarf(cu.cu);
  const Parents& parents = parents_in(&cu);
  Dwarf_Off at = dwarf_dieoffset(declaration);
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    auto up = parents.find(at);
    if (up == parents.end()) break;
    Dwarf_Die parent;
    if (!dwarf || !dwarf_offdie(dwarf, up->second, &parent) || !is_container(dwarf_tag(&parent))) break;
    const char* name = string_attr(&parent, DW_AT_name);
    if (!name) break;
    path = std::string(name) + "::" + path;
    at = up->second;
  }
  return path;
}

std::optional<std::string> FunctionScopes::name(Dwarf_Die* die) {
  Dwarf_Die declaration;
  int lang = language(die);
  if ((lang == DW_LANG_Rust || lang == DW_LANG_Go) && declaration_of(die, declaration) &&
      string_attr(&declaration, DW_AT_name)) {
    if (lang == DW_LANG_Go) return std::string(string_attr(&declaration, DW_AT_name));
    return rust_path(&declaration);
  }
  Dwarf_Attribute attr;
  // Inlined instances and out-of-line copies name their function through
  // DW_AT_abstract_origin / DW_AT_specification; _integrate follows them.
  for (int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (dwarf_attr_integrate(die, at, &attr)) {
      if (const char* s = dwarf_formstring(&attr)) return demangle(s);
    }
  }
  if (dwarf_attr_integrate(die, DW_AT_name, &attr)) {
    if (const char* s = dwarf_formstring(&attr)) return std::string(s);
  }
  return std::nullopt;
}

}  // namespace usercrash::engine
