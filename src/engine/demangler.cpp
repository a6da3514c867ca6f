#include "engine/demangler.h"

#include <libiberty/demangle.h>

#include <csetjmp>

namespace usercrash::engine {
namespace {

// The longest name handed to the demangler. Generic Rust code makes v0 names
// of several hundred bytes; libiberty's C++ demangler keeps two components
// per input byte on the stack, so the cap also bounds its stack use.
constexpr size_t kMaxMangled = 4096;
// The longest demangled name kept. Back-references (C++ substitutions, Rust
// v0 `B` paths) let a short name expand exponentially; past this the
// demangler is stopped and the mangled name reported instead of a cut one.
constexpr size_t kMaxDemangled = 16384;
// gdb's options: parameters and cv-qualifiers, no Rust hashes or crate
// disambiguators (those need DMGL_VERBOSE).
constexpr int kOptions = DMGL_PARAMS | DMGL_ANSI;

struct Output {
  std::string text;
  std::jmp_buf* stop = nullptr;
};

// libiberty's demanglers print through this callback. The work they do is
// proportional to what they print (a v0 back-reference is followed only
// when printed), so leaving at the output cap bounds their time too. The
// callback variants allocate nothing, so jumping out leaks nothing.
void append(const char* piece, size_t len, void* opaque) {
  auto* out = static_cast<Output*>(opaque);
  if (out->text.size() + len > kMaxDemangled) std::longjmp(*out->stop, 1);
  out->text.append(piece, len);
}

using Demangler = int (*)(const char*, int, demangle_callbackref, void*);

std::optional<std::string> run(Demangler demangler, const char* name, int options) {
  Output out;
  std::jmp_buf stop;
  out.stop = &stop;
  if (setjmp(stop) != 0) return std::nullopt;
  if (!demangler(name, options, append, &out) || out.text.empty()) return std::nullopt;
  return std::move(out.text);
}

}  // namespace

std::string demangle(std::string_view symbol) {
  bool rust_v0 = symbol.starts_with("_R");
  bool itanium = symbol.starts_with("_Z");
  if ((!rust_v0 && !itanium) || symbol.size() > kMaxMangled) return std::string(symbol);
  std::string name(symbol);  // NUL-terminated for the C API
  if (name.find('\0') != std::string::npos) return name;
  // Legacy Rust names are valid Itanium names too: Rust first, as gdb's
  // auto mode does; it declines anything without the hash.
  if (auto out = run(rust_demangle_callback, name.c_str(), kOptions)) return *out;
  if (itanium)
    if (auto out = run(cplus_demangle_v3_callback, name.c_str(), kOptions)) return *out;
  return name;
}

std::optional<std::string> demangle_type(std::string_view mangled) {
  if (mangled.empty() || mangled.size() > kMaxMangled || mangled.find('\0') != std::string_view::npos)
    return std::nullopt;
  std::string name(mangled);
  return run(cplus_demangle_v3_callback, name.c_str(), kOptions | DMGL_TYPES);
}

}  // namespace usercrash::engine
