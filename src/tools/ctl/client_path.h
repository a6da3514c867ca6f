// Which usercrash_c `enable` may hand the kernel: the kernel runs it as root
// for every crash, so it and every directory above it must be root's and
// writable by nobody else.
#pragma once

#include <optional>
#include <string>

#include "util/result.h"

namespace usercrash::tools::ctl {

// Fails with the first reason `path` (absolute, resolved) cannot be trusted.
util::Result<void> check_trusted_executable(const std::string& path);

// --client PATH when given, else usercrash_c beside this program (a build
// tree) or in ../sbin (installed): resolved, and trusted.
util::Result<std::string> find_client(const std::optional<std::string>& given);

// realpath(3), with the reason when it fails.
util::Result<std::string> absolute_path(const std::string& path);

}  // namespace usercrash::tools::ctl
