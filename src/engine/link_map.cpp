#include "engine/link_map.h"

#include <elf.h>

#include <cstring>
#include <set>

#include <fmt/format.h>

namespace usercrash::engine {
namespace {

constexpr uint64_t kMaxDynamic = 64 * 1024;
constexpr size_t kMaxName = 4096;

bool read_word(const ReadAt& memory, uint64_t address, unsigned word, uint64_t& value) {
  std::byte buffer[8] = {};
  if (memory(address, std::span(buffer, word)) != word) return false;
  value = 0;
  std::memcpy(&value, buffer, word);  // little-endian
  return true;
}

std::string read_string(const ReadAt& memory, uint64_t address) {
  std::string out;
  char chunk[256];
  while (out.size() < kMaxName) {
    size_t got = memory(address + out.size(), std::as_writable_bytes(std::span(chunk)));
    if (got == 0) break;
    size_t len = strnlen(chunk, got);
    out.append(chunk, len);
    if (len < got) break;
  }
  return out;
}

}  // namespace

LinkMapResult read_link_map(const ReadAt& memory, uint64_t dynamic, uint64_t size, unsigned word, size_t max_entries) {
  LinkMapResult result;
  uint64_t r_debug = 0;
  const uint64_t end = dynamic + std::min(size, kMaxDynamic);
  for (uint64_t at = dynamic; at + 2 * word <= end; at += 2 * word) {
    uint64_t tag = 0, value = 0;
    if (!read_word(memory, at, word, tag) || !read_word(memory, at + word, word, value)) {
      result.problems.push_back(fmt::format("the dynamic section at 0x{:x} is not in the core", at));
      return result;
    }
    if (tag == DT_NULL) break;
    if (tag == DT_DEBUG) {
      r_debug = value;
      break;
    }
  }
  if (r_debug == 0) {
    result.problems.push_back("no r_debug (DT_DEBUG is 0: the process died before the dynamic linker set it up?)");
    return result;
  }
  // struct r_debug { int r_version; struct link_map* r_map; ... }: r_map
  // is the second word.
  uint64_t entry = 0;
  if (!read_word(memory, r_debug + word, word, entry)) {
    result.problems.push_back(fmt::format("r_debug at 0x{:x} is not in the core", r_debug));
    return result;
  }
  // struct link_map { l_addr, l_name, l_ld, l_next, l_prev }.
  std::set<uint64_t> seen;
  while (entry != 0) {
    if (!seen.insert(entry).second) {
      result.problems.push_back("the link map loops");
      break;
    }
    if (result.entries.size() >= max_entries) {
      result.problems.push_back(
          fmt::format("the link map lists more than {} objects; the rest were left out", max_entries));
      break;
    }
    uint64_t base = 0, name = 0, next = 0;
    if (!read_word(memory, entry, word, base) || !read_word(memory, entry + word, word, name) ||
        !read_word(memory, entry + 3 * word, word, next)) {
      result.problems.push_back(fmt::format("link map entry at 0x{:x} is not in the core", entry));
      break;
    }
    result.entries.push_back({base, name ? read_string(memory, name) : std::string()});
    entry = next;
  }
  return result;
}

}  // namespace usercrash::engine
