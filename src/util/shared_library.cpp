#include "util/shared_library.h"

#include <dlfcn.h>

namespace usercrash::util {

SharedLibrary SharedLibrary::open(const char* soname) {
  SharedLibrary l;
  l.soname_ = soname;
  l.handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!l.handle_) {
    const char* why = ::dlerror();
    l.error_ = why ? why : l.soname_ + " could not be loaded";
  }
  return l;
}

void* SharedLibrary::symbol(const char* name) {
  if (!handle_) return nullptr;
  void* found = ::dlsym(handle_, name);
  if (!found && error_.empty()) error_ = soname_ + " has no " + name;
  return found;
}

}  // namespace usercrash::util
