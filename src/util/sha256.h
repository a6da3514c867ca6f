// SHA-256 (FIPS 180-4), for identifiers that must not collide on purpose:
// a crash signature decides which reports a crash loop may replace, so a
// local user must not be able to forge another program's.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace usercrash::util {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  // The digest; the object is spent afterwards.
  std::array<uint8_t, 32> finish();

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes hashed so far
};

// Lower-case hex of the digest of `bytes`.
std::string sha256_hex(std::string_view bytes);

}  // namespace usercrash::util
