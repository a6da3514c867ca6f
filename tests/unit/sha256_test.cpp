// SHA-256 against the FIPS 180-4 examples and sha256sum.
#include "util/sha256.h"

#include <string>

#include <gtest/gtest.h>

namespace usercrash::util {
namespace {

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PiecesHashLikeTheWhole) {
  // Every split of a message across the 55/56/64-byte padding edges.
  std::string message;
  for (int i = 0; i < 130; ++i) message.push_back(static_cast<char>(i * 7));
  for (size_t length : {55u, 56u, 63u, 64u, 65u, 119u, 120u, 130u}) {
    std::string whole = sha256_hex(std::string_view(message).substr(0, length));
    for (size_t cut = 0; cut <= length; cut += 13) {
      Sha256 h;
      h.update(std::string_view(message).substr(0, cut));
      h.update(std::string_view(message).substr(cut, length - cut));
      std::string hex;
      for (uint8_t b : h.finish()) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
      EXPECT_EQ(hex, whole) << length << " cut at " << cut;
    }
  }
}

}  // namespace
}  // namespace usercrash::util
