// The head of a core arriving on a pipe or socket (core_pattern): the ELF
// header, program headers and notes, which the kernel writes first. Reading
// stops there, so the dying process stays in /proc (the kernel blocks on the
// rest) while we collect, and the report costs the same whatever the size of
// the process. The bytes read are kept for whoever takes the rest (saved
// core, chained handler): in memory when the head is small (every real
// process), else in an unnamed memory file outside the client's heap, so
// that a process with huge notes (tens of thousands of mappings with long
// names make a 100 MB NT_FILE) cannot spend the collector's memory budget.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/core_notes.h"
#include "util/unique_fd.h"

namespace usercrash::engine {

struct CoreHead {
  std::vector<std::byte> bytes;        // everything read from the stream, in order (empty when spilled)
  util::UniqueFd spilled;              // else: everything read, from offset 0 (a memfd)
  uint64_t size = 0;                   // bytes read from the stream
  std::optional<CoreLayout> layout;    // absent when the stream is not an ELF core
  CoreNotes notes;                     // empty when the notes were not reached
  std::optional<std::string> problem;  // why the head is incomplete, if it is
  bool end_of_stream = false;          // the stream ended inside the head
};

// Bound on the head: program headers of a process with a million mappings
// plus notes for tens of thousands of threads.
inline constexpr size_t kMaxCoreHead = 128ULL << 20;
// A head larger than this is spilled; a note descriptor larger than
// kMaxNoteInMemory is then parsed from its first kMaxNoteInMemory bytes
// (an NT_FILE cut there keeps the files whose names it still holds, and
// says so).
inline constexpr size_t kHeadInMemory = 8ULL << 20;
inline constexpr size_t kMaxNoteInMemory = 4ULL << 20;

// Reads from `fd` (never seeks) until the end of the note segment.
CoreHead read_core_head(int fd, const CoreLimits& limits = {}, size_t max_head = kMaxCoreHead,
                        size_t in_memory = kHeadInMemory);

}  // namespace usercrash::engine
