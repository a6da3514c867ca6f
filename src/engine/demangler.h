// Symbol names as gdb and rustfilt print them: C++ (Itanium ABI), Rust v0
// (`_R…`) and Rust legacy (`_ZN…17h<hash>E`, printed without the hash),
// through libiberty's demangler, the one gdb and binutils use. Names come
// from the crashing process's files: both what the demangler reads and what
// it writes are capped.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace usercrash::engine {

// The demangled name, or `symbol` itself when it is not a mangled name (a C
// function), is too long, or does not demangle.
std::string demangle(std::string_view symbol);

// A C++ type as std::type_info::name() holds it ("St12out_of_range",
// "N4bank13AccountLockedE", "i") demangled ("std::out_of_range", "int");
// nullopt when it does not demangle.
std::optional<std::string> demangle_type(std::string_view mangled);

}  // namespace usercrash::engine
