// core_pattern.saved: the core_pattern `usercrashctl enable` replaced, byte
// for byte, in the root-only state directory (config key state_directory).
// enable writes it (tools/enable_state.h); usercrash_c reads it to pass each
// crash on to that handler. It names a program root runs for every crash,
// so it is only ever read through read_saved_pattern's checks.
#pragma once

#include <optional>
#include <string>

#include "util/result.h"

namespace usercrash::config {

inline constexpr const char* kSavedPatternName = "core_pattern.saved";
// A core_pattern holds at most 127 bytes; the file, a little more.
inline constexpr size_t kMaxSavedPattern = 4096;

// The saved pattern in the state directory open at `dirfd` (which the
// caller opened through util::open_private_directory), as written; nullopt
// when there is none. Refuses anything but a regular file
// of our own euid that group and others cannot write.
util::Result<std::optional<std::string>> read_saved_pattern_at(int dirfd);

// The same, opening `state_directory` with the same rules as enable does:
// ours, not writable by group or others, never through a symlink.
util::Result<std::optional<std::string>> read_saved_pattern(const std::string& state_directory);

}  // namespace usercrash::config
