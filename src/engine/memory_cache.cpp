#include "engine/memory_cache.h"

#include <algorithm>
#include <cstring>

#include "util/phase_trace.h"

namespace usercrash::engine {

const MemoryCache::Page& MemoryCache::page(uint64_t base) {
  if (auto it = pages_.find(base); it != pages_.end()) return it->second;
  if (pages_.size() >= max_pages_) pages_.clear();
  util::trace::Span span(util::trace::Cost::memory_reads);
  Page p;
  p.data = std::make_unique<std::byte[]>(kPageSize);
  p.valid = target_.read_memory(base, std::span(p.data.get(), kPageSize));
  return pages_.emplace(base, std::move(p)).first->second;
}

size_t MemoryCache::read(uint64_t address, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    uint64_t at = address + done;
    if (at < address) break;  // wrapped past the top of the address space
    uint64_t base = at & ~(kPageSize - 1);
    size_t in_page = static_cast<size_t>(at - base);
    const Page& p = page(base);
    if (p.valid <= in_page) break;
    size_t n = std::min(out.size() - done, p.valid - in_page);
    std::memcpy(out.data() + done, p.data.get() + in_page, n);
    done += n;
    if (p.valid < kPageSize) break;
  }
  return done;
}

bool MemoryCache::read_word(uint64_t address, uint64_t& value, unsigned size) {
  if (size == 4) {
    uint32_t narrow = 0;
    std::byte buffer[sizeof narrow];
    if (read(address, buffer) != sizeof narrow) return false;
    std::memcpy(&narrow, buffer, sizeof narrow);
    value = narrow;
    return true;
  }
  std::byte buffer[sizeof value];
  if (read(address, buffer) != sizeof value) return false;
  std::memcpy(&value, buffer, sizeof value);
  return true;
}

}  // namespace usercrash::engine
