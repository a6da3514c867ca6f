#include "engine/registers.h"

namespace usercrash::engine {
namespace {

constexpr std::array<std::string_view, kRegisterCount> kNames = {
    "r15", "r14",      "r13", "r12", "rbp",    "rbx", "r11", "r10",     "r9",      "r8", "rax", "rcx", "rdx", "rsi",
    "rdi", "orig_rax", "rip", "cs",  "eflags", "rsp", "ss",  "fs_base", "gs_base", "ds", "es",  "fs",  "gs",
};

}  // namespace

std::string_view register_name(Reg r) { return kNames[static_cast<size_t>(r)]; }

std::optional<Reg> register_by_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<Reg>(i);
  return std::nullopt;
}

const std::array<Reg, kRegisterCount>& display_order() {
  static constexpr std::array<Reg, kRegisterCount> order = {
      Reg::rax,      Reg::rbx, Reg::rcx, Reg::rdx, Reg::rsi, Reg::rdi, Reg::rbp, Reg::rsp,     Reg::r8,
      Reg::r9,       Reg::r10, Reg::r11, Reg::r12, Reg::r13, Reg::r14, Reg::r15, Reg::rip,     Reg::eflags,
      Reg::orig_rax, Reg::cs,  Reg::ss,  Reg::ds,  Reg::es,  Reg::fs,  Reg::gs,  Reg::fs_base, Reg::gs_base,
  };
  return order;
}

const std::array<Reg, 16>& general_purpose() {
  static constexpr std::array<Reg, 16> regs = {
      Reg::rax, Reg::rbx, Reg::rcx, Reg::rdx, Reg::rsi, Reg::rdi, Reg::rbp, Reg::rsp,
      Reg::r8,  Reg::r9,  Reg::r10, Reg::r11, Reg::r12, Reg::r13, Reg::r14, Reg::r15,
  };
  return regs;
}

std::array<uint64_t, 17> to_dwarf(const Registers& r) {
  return {r.get(Reg::rax), r.get(Reg::rdx), r.get(Reg::rcx), r.get(Reg::rbx), r.get(Reg::rsi), r.get(Reg::rdi),
          r.get(Reg::rbp), r.get(Reg::rsp), r.get(Reg::r8),  r.get(Reg::r9),  r.get(Reg::r10), r.get(Reg::r11),
          r.get(Reg::r12), r.get(Reg::r13), r.get(Reg::r14), r.get(Reg::r15), r.get(Reg::rip)};
}

}  // namespace usercrash::engine
