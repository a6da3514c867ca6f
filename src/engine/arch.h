// What differs between the architectures the engine reads, in one table per
// architecture: the register file as the kernel dumps it (NT_PRSTATUS,
// ptrace), which registers are pc, sp, frame pointer and link register, the
// DWARF numbering libdwfl unwinds with, the ELF class and machine of its
// cores, its trap instruction and the faults only it has. Code that needs
// an architecture asks its Arch; nothing else switches on one.
//
// Live (this machine): x86_64 and i386 processes. Offline (`analyze` of a
// core file): the same plus aarch64 and x32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace usercrash::engine {

enum class ArchId : uint8_t { x86_64, i386, aarch64, x32 };

// Registers in a register file: aarch64's 34 is the most.
inline constexpr size_t kMaxRegisters = 34;

// An instruction the compiler plants to stop the program (x86's ud2,
// aarch64's udf), as `size` bytes equal to `value` under `mask`.
struct TrapInstruction {
  size_t size = 0;
  uint8_t value[4]{};
  uint8_t mask[4]{};
  std::string_view cause;  // what the report says when a SIGILL lands on it
};

struct Arch {
  ArchId id;
  std::string_view name;   // "x86_64", "i386", "aarch64", "x32"
  uint16_t elf_machine;    // EM_X86_64, EM_386, EM_AARCH64
  uint8_t elf_class;       // ELFCLASS64 or ELFCLASS32
  unsigned word_size;      // bytes in a pointer (and in NT_FILE, NT_AUXV words)
  unsigned register_size;  // bytes per register in the register file (x32: 8)
  // The register file in the kernel's order (elf_gregset_t).
  std::span<const std::string_view> registers;
  unsigned pc, sp, fp;                       // indices into `registers`
  std::optional<unsigned> lr;                // where a call leaves its return address, if not on the stack
  std::span<const uint8_t> display_order;    // the order a report prints them
  std::span<const uint8_t> general_purpose;  // registers worth dumping memory around
  // DWARF register n is registers[dwarf[n]]; libdwfl gets them in this order.
  std::span<const uint8_t> dwarf;
  unsigned dwarf_sp, dwarf_fp;  // DWARF numbers of sp and the frame pointer
  size_t red_zone;              // bytes below sp a leaf function may use
  unsigned instruction_align;   // 1 (x86: any byte may start one) or the fixed size
  TrapInstruction trap;
  // si_code values of SIGSEGV that only this architecture's kernel sends
  // (the rest are shared); a code outside it and the shared set is unknown.
  std::span<const uint8_t> segv_codes;

  size_t register_count() const { return registers.size(); }
  std::string_view pc_name() const { return registers[pc]; }
  // Masks a value to a pointer of this architecture.
  uint64_t pointer(uint64_t v) const { return word_size == 8 ? v : v & 0xffffffffu; }
};

const Arch& arch(ArchId id);

// The architecture of an ELF core, or null when the engine does not read it.
const Arch* arch_for_elf(uint8_t elf_class, uint16_t machine);

// By name ("i386"), or null.
const Arch* arch_by_name(std::string_view name);

// The architecture this program was built for (the one it reads live).
const Arch& native_arch();

// "x86_64, i386, aarch64, x32": for messages about unsupported cores.
std::string_view supported_architectures();

}  // namespace usercrash::engine
