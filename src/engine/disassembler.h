// Code around an address, decoded with capstone in the mode of the
// process's architecture (x86: AT&T syntax, as gdb and objdump print it on
// Linux; i386 in 32-bit mode; aarch64 in its own).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/arch.h"
#include "engine/report.h"

namespace usercrash::engine {

// Loads capstone (dlopen) if it is not yet: call it before a sandbox that
// forbids mapping code (the collector child's), and from any thread.
// Returns why it cannot be loaded (then nothing is disassembled).
std::optional<std::string> load_disassembler();

// Decodes `code` (which starts at `code_address` and contains `pc`) and
// returns up to `before` instructions ending just before `pc`, the one at
// `pc` (marked faulting) and up to `after` following it. x86 cannot be
// decoded backwards with certainty: the start is chosen so that decoding
// lands exactly on `pc`, preferring `function_start` when it is in `code`.
std::vector<Instruction> disassemble_around(ArchId arch, std::span<const uint8_t> code, uint64_t code_address,
                                            uint64_t pc, std::optional<uint64_t> function_start, size_t before = 8,
                                            size_t after = 8);

// x86_64, for the callers that know it.
inline std::vector<Instruction> disassemble_around(std::span<const uint8_t> code, uint64_t code_address, uint64_t pc,
                                                   std::optional<uint64_t> function_start, size_t before = 8,
                                                   size_t after = 8) {
  return disassemble_around(ArchId::x86_64, code, code_address, pc, function_start, before, after);
}

}  // namespace usercrash::engine
