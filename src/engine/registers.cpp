#include "engine/registers.h"

namespace usercrash::engine {

std::optional<uint64_t> Registers::get(std::string_view name) const {
  const auto& names = arch().registers;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return values[i];
  return std::nullopt;
}

std::string_view register_name(Reg r) { return arch(ArchId::x86_64).registers[static_cast<size_t>(r)]; }

std::optional<Reg> register_by_name(std::string_view name) {
  const auto& names = arch(ArchId::x86_64).registers;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<Reg>(i);
  return std::nullopt;
}

Registers i386_from_x86_64(const Registers& w) {
  Registers r;
  r.arch_id = ArchId::i386;
  // i386 order: ebx ecx edx esi edi ebp eax ds es fs gs orig_eax eip cs eflags esp ss.
  const Reg from[] = {Reg::rbx, Reg::rcx, Reg::rdx,      Reg::rsi, Reg::rdi, Reg::rbp,    Reg::rax, Reg::ds, Reg::es,
                      Reg::fs,  Reg::gs,  Reg::orig_rax, Reg::rip, Reg::cs,  Reg::eflags, Reg::rsp, Reg::ss};
  for (size_t i = 0; i < std::size(from); ++i) r.values[i] = w.get(from[i]) & 0xffffffffu;
  return r;
}

bool is_compat_mode(const Registers& w) {
  // __USER32_CS (GDT entry 4, RPL 3); 64-bit code runs with __USER_CS (0x33).
  constexpr uint64_t kUser32Cs = 0x23;
  return w.arch_id == ArchId::x86_64 && w.get(Reg::cs) == kUser32Cs;
}

}  // namespace usercrash::engine
