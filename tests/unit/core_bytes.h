// Core heads as bytes, for the tests of the core readers: the fixtures of
// unit/fixtures/cores, and little-endian fields read and patched in place.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace usercrash::test {

using Bytes = std::vector<std::byte>;

// unit/fixtures/cores/NAME (a real kernel core's head).
inline Bytes load_head(const char* name) {
  std::string s = read_file(fixture(std::string("cores/") + name));
  EXPECT_FALSE(s.empty()) << name;
  auto b = std::as_bytes(std::span(s.data(), s.size()));
  return Bytes(b.begin(), b.end());
}

template <typename T>
T read_at(const Bytes& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

template <typename T>
void write_at(Bytes& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

}  // namespace usercrash::test
