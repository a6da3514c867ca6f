// One thread's general registers, in its architecture's register file order
// (the kernel's elf_gregset_t: what NT_PRSTATUS and ptrace carry). The Arch
// says what each one is; `Reg` names the x86_64 file for code that knows it
// has one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/arch.h"

namespace usercrash::engine {

// The x86_64 register file (struct user_regs_struct), in its order.
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
inline constexpr size_t kRegisterCount = 27;  // x86_64
inline constexpr size_t kGregsetBytes = kRegisterCount * sizeof(uint64_t);

struct Registers {
  ArchId arch_id = ArchId::x86_64;
  // values[i] is arch().registers[i]; 32-bit registers zero-extended.
  std::array<uint64_t, kMaxRegisters> values{};

  const Arch& arch() const { return engine::arch(arch_id); }
  size_t count() const { return arch().register_count(); }

  // x86_64 (and x32) register files only.
  uint64_t get(Reg r) const { return values[static_cast<size_t>(r)]; }
  void set(Reg r, uint64_t v) { values[static_cast<size_t>(r)] = v; }

  uint64_t pc() const { return values[arch().pc]; }
  uint64_t sp() const { return values[arch().sp]; }
  void set_pc(uint64_t v) { values[arch().pc] = v; }
  void set_sp(uint64_t v) { values[arch().sp] = v; }
  std::optional<uint64_t> get(std::string_view name) const;
};

// x86_64 names, for code that works on that file.
std::string_view register_name(Reg r);
std::optional<Reg> register_by_name(std::string_view name);

// The x86_64 registers of a 32-bit (compat mode) task, as ptrace returns
// them to a 64-bit tracer, turned into the i386 register file.
Registers i386_from_x86_64(const Registers& wide);

// True when x86_64 registers from ptrace belong to a task running 32-bit
// code (its code segment is the compat one).
bool is_compat_mode(const Registers& x86_64);

}  // namespace usercrash::engine
