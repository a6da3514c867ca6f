// Page-granular cache in front of Target::read_memory. The unwinder reads a
// word at a time; without this each word would be a pread of /proc/<pid>/mem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

#include "engine/target.h"

namespace usercrash::engine {

class MemoryCache {
 public:
  // `target` must outlive the cache. At most `max_pages` pages are held.
  explicit MemoryCache(Target& target, size_t max_pages = 4096) : target_(target), max_pages_(max_pages) {}

  // Copies up to out.size() bytes from `address`; returns the readable prefix length.
  size_t read(uint64_t address, std::span<std::byte> out);

  // A little-endian word of `size` bytes (4 or 8), zero-extended.
  bool read_word(uint64_t address, uint64_t& value, unsigned size = 8);

 private:
  static constexpr uint64_t kPageSize = 4096;
  struct Page {
    size_t valid = 0;  // readable bytes from the page start
    std::unique_ptr<std::byte[]> data;
  };
  const Page& page(uint64_t base);

  Target& target_;
  size_t max_pages_;
  std::unordered_map<uint64_t, Page> pages_;
};

}  // namespace usercrash::engine
