// Parsers of /proc text. Their input comes from the crashing process's
// /proc files, parts of which (comm, paths) the process controls: each one
// is bounded and never fails on any input, it skips what it cannot read.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "proc/proc_types.h"

namespace usercrash::proc {

// /proc/<pid>/maps; at most `max_entries` entries (`*truncated` set when more).
std::vector<MapEntry> parse_maps(std::string_view text, size_t max_entries, bool* truncated = nullptr);

// One maps line; nullopt when malformed.
std::optional<MapEntry> parse_maps_line(std::string_view line);

// At most this many supplementary groups are read (the kernel's NGROUPS_MAX).
inline constexpr size_t kMaxGroups = 65536;

Status parse_status(std::string_view text);

// The soft "Max core file size" of /proc/<pid>/limits, in bytes
// (UINT64_MAX: unlimited); nullopt when the line is missing or malformed.
std::optional<uint64_t> parse_core_limit(std::string_view text);

// /proc/<pid>/stat: comm may contain spaces and ')' so it is taken up to the last ')'.
std::optional<Stat> parse_stat(std::string_view text);

// NUL-separated strings (cmdline, environ); at most `max_items`.
std::vector<std::string> parse_nul_separated(std::string_view bytes, size_t max_items, bool* truncated = nullptr);

// /proc/<pid>/stack: "[<0>] do_coredump+0x..." lines without the "[<0>] " prefix.
std::vector<std::string> parse_kernel_stack(std::string_view text, size_t max_lines);

// /proc/<pid>/auxv, up to AT_NULL: pairs of the process's words (8 bytes,
// or 4 for a 32-bit process).
std::vector<AuxvEntry> parse_auxv(std::string_view bytes, unsigned word_size = 8);

// The Pid: field of /proc/<pid>/fdinfo/<pidfd> (the pid a pidfd refers to; -1 when it died).
std::optional<pid_t> parse_pidfd_fdinfo(std::string_view text);

}  // namespace usercrash::proc
