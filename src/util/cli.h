// Small helpers the programs share for their command lines.
#pragma once

#include <string>

namespace usercrash::util {

inline constexpr int kExitUsage = 2;

// Prints "PROGRAM: message" and a pointer to --help, exits 2.
[[noreturn]] void usage_error(const char* program, const std::string& message);

const char* version();

}  // namespace usercrash::util
