// The few facts of an ELF file the engine reads without libelf: its class,
// machine, type, entry, program headers, build-id, interpreter and dynamic
// segment, from a file or from a process's memory, both hostile. Every
// count is capped and every read bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/result.h"

namespace usercrash::engine {

struct ElfSegment {
  uint32_t type = 0;
  uint32_t flags = 0;  // PF_R | PF_W | PF_X
  uint64_t offset = 0, vaddr = 0, file_size = 0, mem_size = 0;
};

// Reads up to out.size() bytes at `position` (a file offset or an address);
// returns how many it read.
using ReadAt = std::function<size_t(uint64_t position, std::span<std::byte> out)>;

struct ElfImage {
  uint8_t elf_class = 0;  // ELFCLASS32 or ELFCLASS64
  uint16_t type = 0;      // ET_EXEC, ET_DYN...
  uint16_t machine = 0;
  uint64_t entry = 0;
  uint64_t phoff = 0;
  std::vector<ElfSegment> segments;

  unsigned word_size() const { return elf_class == 2 ? 8 : 4; }
  // Lowest PT_LOAD address, page-aligned down: what maps at the load base.
  std::optional<uint64_t> first_load_vaddr() const;
  const ElfSegment* find(uint32_t segment_type) const;
};

// At most this many program headers are read (the kernel refuses more).
inline constexpr size_t kMaxElfSegments = 4096;

// The ELF header and program headers at position 0 of `read`.
util::Result<ElfImage> read_elf_image(const ReadAt& read);

// A segment's p_flags as a maps permission string ("r-xp").
std::string segment_perms(uint32_t flags);

// The GNU build-id in hex, from the PT_NOTE segments. `file` reads them at
// their file offsets; otherwise at their addresses plus `bias` (an image in
// memory).
std::optional<std::string> elf_build_id(const ElfImage& image, const ReadAt& read, bool file, uint64_t bias = 0);

// PT_INTERP's path (from a file).
std::optional<std::string> elf_interpreter(const ElfImage& image, const ReadAt& read);

// A ReadAt over a file descriptor (pread).
ReadAt file_reader(int fd);

}  // namespace usercrash::engine
