// Small text helpers the commands share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace usercrash::tools::ctl {

// 'VALUE', escaped for a terminal.
std::string single_quoted(std::string_view value);

// 1536 → "1.5 KiB".
std::string human_bytes(uint64_t bytes);

}  // namespace usercrash::tools::ctl
