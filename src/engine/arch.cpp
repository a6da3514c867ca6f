#include "engine/arch.h"

#include <elf.h>

#include <array>

namespace usercrash::engine {
namespace {

// --- x86_64 (and x32, which keeps the 64-bit register file) -----------------

// struct user_regs_struct, arch/x86/include/asm/user_64.h.
constexpr std::array<std::string_view, 27> kX86_64Names = {
    "r15", "r14",      "r13", "r12", "rbp",    "rbx", "r11", "r10",     "r9",      "r8", "rax", "rcx", "rdx", "rsi",
    "rdi", "orig_rax", "rip", "cs",  "eflags", "rsp", "ss",  "fs_base", "gs_base", "ds", "es",  "fs",  "gs",
};
// rax rbx rcx rdx rsi rdi rbp rsp r8..r15 rip eflags orig_rax cs ss ds es fs gs fs_base gs_base
constexpr std::array<uint8_t, 27> kX86_64Display = {10, 5, 11, 12, 13, 14, 4,  19, 9,  8,  7,  6,  3, 2,
                                                    1,  0, 16, 18, 15, 17, 20, 23, 24, 25, 26, 21, 22};
constexpr std::array<uint8_t, 16> kX86_64General = {10, 5, 11, 12, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0};
// DWARF 0..16: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip (return address column).
constexpr std::array<uint8_t, 17> kX86_64Dwarf = {10, 12, 11, 5, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0, 16};
// SEGV_BNDERR (MPX), SEGV_PKUERR (protection keys), SEGV_CPERR (shadow stack).
constexpr std::array<uint8_t, 3> kX86SegvCodes = {3, 4, 10};
constexpr TrapInstruction kUd2 = {
    2, {0x0f, 0x0b}, {0xff, 0xff}, "ud2: a trap the compiler inserted (__builtin_trap, unreachable code)"};

// --- i386 -------------------------------------------------------------------

// struct user_regs_struct, arch/x86/include/asm/user_32.h (xds... named as gdb names them).
constexpr std::array<std::string_view, 17> kI386Names = {
    "ebx", "ecx", "edx",      "esi", "edi", "ebp",    "eax", "ds", "es",
    "fs",  "gs",  "orig_eax", "eip", "cs",  "eflags", "esp", "ss",
};
constexpr std::array<uint8_t, 17> kI386Display = {6, 0, 1, 2, 3, 4, 5, 15, 12, 14, 11, 13, 16, 7, 8, 9, 10};
constexpr std::array<uint8_t, 8> kI386General = {6, 0, 1, 2, 3, 4, 5, 15};
// DWARF 0..8: eax ecx edx ebx esp ebp esi edi eip.
constexpr std::array<uint8_t, 9> kI386Dwarf = {6, 1, 2, 0, 15, 5, 3, 4, 12};

// --- aarch64 ----------------------------------------------------------------

// struct user_pt_regs: x0..x30, sp, pc, pstate.
constexpr std::array<std::string_view, 34> kAarch64Names = {
    "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",     "x10", "x11",
    "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",    "x22", "x23",
    "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp",  "pc",  "pstate",
};
constexpr std::array<uint8_t, 34> kAarch64Display = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                                                     24, 25, 26, 27, 28, 29, 30, 31, 32, 33};
constexpr std::array<uint8_t, 32> kAarch64General = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                                     16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
// DWARF 0..31: x0..x30, sp. The pc has no DWARF number; it is given apart.
constexpr std::array<uint8_t, 32> kAarch64Dwarf = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                                   16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
// SEGV_PKUERR (POE), SEGV_MTEAERR, SEGV_MTESERR (memory tagging).
constexpr std::array<uint8_t, 3> kAarch64SegvCodes = {4, 8, 9};
// udf #imm16: the top half-word is zero (little-endian: bytes 2 and 3).
constexpr TrapInstruction kUdf = {
    4, {0, 0, 0, 0}, {0, 0, 0xff, 0xff}, "udf: a permanently undefined instruction (a trap the compiler inserted?)"};

constexpr Arch kArchs[] = {
    {ArchId::x86_64, "x86_64",       EM_X86_64,      ELFCLASS64,   8, 8, kX86_64Names, 16, 19,   4,
     std::nullopt,   kX86_64Display, kX86_64General, kX86_64Dwarf, 7, 6, 128,          1,  kUd2, kX86SegvCodes},
    {ArchId::i386, "i386",       EM_386,       ELFCLASS32, 4, 4, kI386Names, 12, 15,   5,
     std::nullopt, kI386Display, kI386General, kI386Dwarf, 4, 5, 0,          1,  kUd2, kX86SegvCodes},
    {ArchId::aarch64,
     "aarch64",
     EM_AARCH64,
     ELFCLASS64,
     8,
     8,
     kAarch64Names,
     32,
     31,
     29,
     30,
     kAarch64Display,
     kAarch64General,
     kAarch64Dwarf,
     31,
     29,
     0,
     4,
     kUdf,
     kAarch64SegvCodes},
    {ArchId::x32,  "x32",          EM_X86_64,      ELFCLASS32,   4, 8, kX86_64Names, 16, 19,   4,
     std::nullopt, kX86_64Display, kX86_64General, kX86_64Dwarf, 7, 6, 128,          1,  kUd2, kX86SegvCodes},
};

}  // namespace

const Arch& arch(ArchId id) { return kArchs[static_cast<size_t>(id)]; }

const Arch* arch_for_elf(uint8_t elf_class, uint16_t machine) {
  for (const auto& a : kArchs)
    if (a.elf_class == elf_class && a.elf_machine == machine) return &a;
  return nullptr;
}

const Arch* arch_by_name(std::string_view name) {
  for (const auto& a : kArchs)
    if (a.name == name) return &a;
  return nullptr;
}

const Arch& native_arch() {
#if defined(__x86_64__) && defined(__ILP32__)
  return arch(ArchId::x32);
#elif defined(__x86_64__)
  return arch(ArchId::x86_64);
#elif defined(__i386__)
  return arch(ArchId::i386);
#elif defined(__aarch64__)
  return arch(ArchId::aarch64);
#else
#error "usercrash reads x86_64, i386 and aarch64 processes"
#endif
}

std::string_view supported_architectures() { return "x86_64, i386, aarch64, x32"; }

}  // namespace usercrash::engine
