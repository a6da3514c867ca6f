// x86_64 general registers: the kernel's user_regs_struct / elf_gregset_t
// layout (what NT_PRSTATUS and PTRACE_GETREGS carry), their names, and the
// DWARF numbering libdwfl unwinds with.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace usercrash::engine {

enum class Reg : unsigned {
  r15,
  r14,
  r13,
  r12,
  rbp,
  rbx,
  r11,
  r10,
  r9,
  r8,
  rax,
  rcx,
  rdx,
  rsi,
  rdi,
  orig_rax,
  rip,
  cs,
  eflags,
  rsp,
  ss,
  fs_base,
  gs_base,
  ds,
  es,
  fs,
  gs,
};
inline constexpr size_t kRegisterCount = 27;
inline constexpr size_t kGregsetBytes = kRegisterCount * sizeof(uint64_t);

struct Registers {
  std::array<uint64_t, kRegisterCount> values{};

  uint64_t get(Reg r) const { return values[static_cast<size_t>(r)]; }
  void set(Reg r, uint64_t v) { values[static_cast<size_t>(r)] = v; }
  uint64_t pc() const { return get(Reg::rip); }
  uint64_t sp() const { return get(Reg::rsp); }
};

std::string_view register_name(Reg r);
std::optional<Reg> register_by_name(std::string_view name);

// Order in which a report prints them: the usual gdb / kernel-oops order.
const std::array<Reg, kRegisterCount>& display_order();

// The registers worth dumping memory around (the seed's list plus the rest
// of the general-purpose set).
const std::array<Reg, 16>& general_purpose();

// DWARF x86_64 register numbers 0..16 (rax, rdx, rcx, rbx, rsi, rdi, rbp,
// rsp, r8..r15, return address = rip) taken from `regs`.
std::array<uint64_t, 17> to_dwarf(const Registers& regs);
inline constexpr unsigned kDwarfRegisterCount = 17;

}  // namespace usercrash::engine
