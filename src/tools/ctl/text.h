// Small text helpers the commands share.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace usercrash::tools::ctl {

// 'VALUE', escaped for a terminal.
std::string single_quoted(std::string_view value);

// 1536 → "1.5 KiB".
std::string human_bytes(uint64_t bytes);

// TEXT rewritten line by line: EACH is given every line without its '\n'
// and appends what stands for it to OUT. The '\n's stay as they were (a last
// line without one stays without).
std::string map_lines(std::string_view text, const std::function<void(std::string_view line, std::string& out)>& each);

}  // namespace usercrash::tools::ctl
