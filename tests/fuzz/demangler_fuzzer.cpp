// demangle and demangle_type on any bytes: no crash, no hang (libFuzzer's
// timeout), and what comes back is either the input or a name of bounded
// size without NUL bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/demangler.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMaxDemangled = 16384;

  std::string name = usercrash::engine::demangle(raw);
  if (name != raw) {
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(name.size() <= kMaxDemangled);
    FUZZ_CHECK(name.find('\0') == std::string::npos);
    FUZZ_CHECK(raw.starts_with("_Z") || raw.starts_with("_R"));
  }
  if (auto type = usercrash::engine::demangle_type(raw)) {
    FUZZ_CHECK(!type->empty());
    FUZZ_CHECK(type->size() <= kMaxDemangled);
    FUZZ_CHECK(type->find('\0') == std::string::npos);
  }
  return 0;
}
