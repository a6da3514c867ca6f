// The crash signature: one stable identifier per bug, the same across runs,
// address-space layouts and machines running the same build, and different
// for different crash sites. README.md ("Crash signatures") says exactly
// what goes in and why; this file is the one place it is computed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "engine/report.h"

namespace usercrash::engine {

// Frames of the crashing thread that go into a signature: enough to tell
// apart two callers of one shared helper, few enough that the outer frames
// (event loops, thread entry points) of one bug do not split it.
inline constexpr size_t kSignatureFrames = 5;

// Hex digits kept of the SHA-256: 128 bits.
inline constexpr size_t kSignatureLength = 32;

// The lines that are hashed (for tests and for people asking why two
// crashes share a signature); nullopt when the report is not of a crash.
std::optional<std::string> signature_input(const Report& report);

// kSignatureLength hex digits; nullopt when the report is not of a crash.
std::optional<std::string> crash_signature(const Report& report);

// The C and C++ runtime, the dynamic loader and the vdso: the frames every
// crash shares (abort, raise, __assert_fail, the throw machinery), left out
// of a signature. Matched on the module's file name.
bool is_runtime_module(std::string_view path);

// Whether `s` looks like a signature or a prefix of one (hex, 4 to 32 digits).
bool is_signature_prefix(std::string_view s);

}  // namespace usercrash::engine
