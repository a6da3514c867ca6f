// The dynamic linker's list of loaded objects (r_debug.r_map), read from a
// process image: how eu-stack and gdb find the modules of a core that has
// no NT_FILE note (qemu-user's cores, some tools' cores). The image is
// hostile: the walk is capped and stops at a loop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/elf_image.h"

namespace usercrash::engine {

struct LinkMapEntry {
  uint64_t base = 0;  // l_addr: the object's load bias
  std::string name;   // l_name ("" for the main program)
};

struct LinkMapResult {
  std::vector<LinkMapEntry> entries;
  std::vector<std::string> problems;
};

// Reads the dynamic section at `dynamic` (`size` bytes) for DT_DEBUG, then
// walks r_debug's list. `word` is the process's pointer size.
LinkMapResult read_link_map(const ReadAt& memory, uint64_t dynamic, uint64_t size, unsigned word, size_t max_entries);

}  // namespace usercrash::engine
