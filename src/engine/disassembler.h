// Code around an address, decoded with capstone (AT&T syntax, as gdb and
// objdump print it on Linux).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/report.h"

namespace usercrash::engine {

// Decodes `code` (which starts at `code_address` and contains `pc`) and
// returns up to `before` instructions ending just before `pc`, the one at
// `pc` (marked faulting) and up to `after` following it. x86 cannot be
// decoded backwards with certainty: the start is chosen so that decoding
// lands exactly on `pc`, preferring `function_start` when it is in `code`.
std::vector<Instruction> disassemble_around(std::span<const uint8_t> code, uint64_t code_address, uint64_t pc,
                                            std::optional<uint64_t> function_start, size_t before = 8,
                                            size_t after = 8);

}  // namespace usercrash::engine
