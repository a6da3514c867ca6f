// Small helpers the programs share for their command lines.
#pragma once

#include <string>

#include "config/config.h"

namespace usercrash::util {

inline constexpr int kExitUsage = 2;

// Loads the config: `path` when given (must exist), else the default path
// if it exists, else the defaults. On error prints "PROGRAM: reason" and
// exits with status 2.
config::Config load_config_or_exit(const char* program, const std::string& path);

// Applies one flag override ("--count 5" → key "count"); exits 2 on a bad value.
void override_or_exit(const char* program, config::Config& config, const char* key, const char* value);

// Prints "PROGRAM: message" and a pointer to --help, exits 2.
[[noreturn]] void usage_error(const char* program, const std::string& message);

const char* version();

}  // namespace usercrash::util
