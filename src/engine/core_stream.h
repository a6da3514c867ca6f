// The head of a core arriving on a pipe or socket (core_pattern): the ELF
// header, program headers and notes, which the kernel writes first. Reading
// stops there, so the dying process stays in /proc (the kernel blocks on the
// rest) while we collect, and the report costs the same whatever the size of
// the process. The bytes read are kept for whoever takes the rest (saved
// core, chained handler).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "engine/core_notes.h"

namespace usercrash::engine {

struct CoreHead {
  std::vector<std::byte> bytes;        // everything read from the stream, in order
  std::optional<CoreLayout> layout;    // absent when the stream is not an ELF core
  CoreNotes notes;                     // empty when the notes were not reached
  std::optional<std::string> problem;  // why the head is incomplete, if it is
  bool end_of_stream = false;          // the stream ended inside the head
};

// Bound on the head: program headers of a process with a million mappings
// plus notes for tens of thousands of threads.
inline constexpr size_t kMaxCoreHead = 128ULL << 20;

// Reads from `fd` (never seeks) until the end of the note segment.
CoreHead read_core_head(int fd, const CoreLimits& limits = {}, size_t max_head = kMaxCoreHead);

}  // namespace usercrash::engine
