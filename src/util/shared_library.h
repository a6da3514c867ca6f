// A shared library loaded when it is first needed (dlopen) rather than
// linked: a program pays for mapping and relocating a library only on the
// paths that use it. The library is looked up by its soname where the
// dynamic loader looks for linked ones, and never unloaded.
#pragma once

#include <string>

namespace usercrash::util {

class SharedLibrary {
 public:
  // Loads `soname` with every symbol bound now (RTLD_NOW | RTLD_LOCAL).
  static SharedLibrary open(const char* soname);

  // `into` = the library's `name`; a missing one makes error() say which.
  template <typename F>
  void bind(const char* name, F& into) {
    into = reinterpret_cast<F>(symbol(name));
  }

  // Empty when the library and every symbol bound so far are there.
  const std::string& error() const { return error_; }

 private:
  void* symbol(const char* name);

  void* handle_ = nullptr;
  std::string soname_;
  std::string error_;
};

}  // namespace usercrash::util
