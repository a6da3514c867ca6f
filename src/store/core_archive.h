// Saved cores: the core stream, zstd-compressed as it arrives, capped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "util/result.h"

namespace usercrash::store {

struct CoreSaveResult {
  uint64_t bytes_in = 0;   // uncompressed bytes kept
  uint64_t bytes_out = 0;  // compressed bytes written
  bool truncated = false;  // stopped at max_bytes with more to come
};

// Compresses what it is given into `out_fd` (owned by the caller), keeping
// at most `max_bytes` of the core; bytes past the cap are counted as cut.
class CoreWriter {
 public:
  CoreWriter(int out_fd, uint64_t max_bytes);
  ~CoreWriter();
  CoreWriter(const CoreWriter&) = delete;
  CoreWriter& operator=(const CoreWriter&) = delete;

  util::Result<void> add(std::span<const std::byte> bytes);
  // The cap was reached and bytes past it arrived: it wants no more.
  bool full() const;
  // Ends the zstd frame. No add() after this.
  util::Result<CoreSaveResult> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decompresses a saved core from `in_fd` into `out_fd` (for gdb), zero
// pages as holes where `out_fd` is a regular file. Stops with an error past
// `max_bytes` of output: a small hostile .core.zst can stand for terabytes.
util::Result<uint64_t> decompress_core(int in_fd, int out_fd, uint64_t max_bytes = UINT64_MAX);

}  // namespace usercrash::store
