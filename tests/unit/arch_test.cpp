// The per-architecture tables: each is whole and consistent, and matches
// the kernel's register files and DWARF numbering.
#include "engine/arch.h"

#include <elf.h>
#include <sys/user.h>

#include <set>

#include <gtest/gtest.h>

namespace usercrash::engine {
namespace {

const ArchId kAll[] = {ArchId::x86_64, ArchId::i386, ArchId::aarch64, ArchId::x32};

TEST(Arch, TablesAreConsistent) {
  for (ArchId id : kAll) {
    const Arch& a = arch(id);
    SCOPED_TRACE(std::string(a.name));
    EXPECT_EQ(a.id, id);
    ASSERT_LE(a.register_count(), kMaxRegisters);
    std::set<std::string_view> names(a.registers.begin(), a.registers.end());
    EXPECT_EQ(names.size(), a.register_count()) << "a name twice";
    std::set<uint8_t> shown(a.display_order.begin(), a.display_order.end());
    EXPECT_EQ(shown.size(), a.register_count()) << "display order shows each register once";
    for (uint8_t r : a.general_purpose) EXPECT_LT(r, a.register_count());
    for (uint8_t r : a.dwarf) EXPECT_LT(r, a.register_count());
    EXPECT_LT(a.pc, a.register_count());
    EXPECT_LT(a.sp, a.register_count());
    EXPECT_EQ(a.dwarf[a.dwarf_sp], a.sp);
    EXPECT_EQ(a.dwarf[a.dwarf_fp], a.fp);
    EXPECT_EQ(arch_for_elf(a.elf_class, a.elf_machine), &a);
    EXPECT_EQ(arch_by_name(a.name), &a);
    EXPECT_GT(a.trap.size, 0u);
  }
}

TEST(Arch, NamesOfPcAndSp) {
  EXPECT_EQ(arch(ArchId::x86_64).pc_name(), "rip");
  EXPECT_EQ(arch(ArchId::i386).pc_name(), "eip");
  EXPECT_EQ(arch(ArchId::aarch64).pc_name(), "pc");
  EXPECT_EQ(arch(ArchId::i386).registers[arch(ArchId::i386).sp], "esp");
  EXPECT_EQ(arch(ArchId::aarch64).registers[arch(ArchId::aarch64).sp], "sp");
  EXPECT_EQ(arch(ArchId::aarch64).registers[*arch(ArchId::aarch64).lr], "x30");
  EXPECT_EQ(arch(ArchId::aarch64).registers[arch(ArchId::aarch64).fp], "x29");
}

TEST(Arch, I386FileIsTheKernels) {
  // struct user_regs_struct of arch/x86/include/asm/user_32.h, in words.
  const Arch& a = arch(ArchId::i386);
  const char* kernel[] = {"ebx", "ecx", "edx",      "esi", "edi", "ebp",    "eax", "ds", "es",
                          "fs",  "gs",  "orig_eax", "eip", "cs",  "eflags", "esp", "ss"};
  ASSERT_EQ(a.register_count(), std::size(kernel));
  for (size_t i = 0; i < std::size(kernel); ++i) EXPECT_EQ(a.registers[i], kernel[i]);
  // DWARF i386: eax ecx edx ebx esp ebp esi edi eip.
  const char* dwarf[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip"};
  ASSERT_EQ(a.dwarf.size(), std::size(dwarf));
  for (size_t i = 0; i < std::size(dwarf); ++i) EXPECT_EQ(a.registers[a.dwarf[i]], dwarf[i]);
  EXPECT_EQ(a.word_size, 4u);
  EXPECT_EQ(a.elf_class, ELFCLASS32);
}

TEST(Arch, Aarch64FileIsTheKernels) {
  const Arch& a = arch(ArchId::aarch64);
  ASSERT_EQ(a.register_count(), 34u);  // struct user_pt_regs: regs[31], sp, pc, pstate
  EXPECT_EQ(a.registers[0], "x0");
  EXPECT_EQ(a.registers[31], "sp");
  EXPECT_EQ(a.registers[32], "pc");
  EXPECT_EQ(a.registers[33], "pstate");
  EXPECT_EQ(a.dwarf.size(), 32u);  // x0..x30, sp; the pc has no DWARF number
  EXPECT_EQ(a.instruction_align, 4u);
}

TEST(Arch, X32KeepsTheWideRegisterFile) {
  const Arch& a = arch(ArchId::x32);
  EXPECT_EQ(a.register_count(), sizeof(user_regs_struct) / 8);
  EXPECT_EQ(a.register_size, 8u);
  EXPECT_EQ(a.word_size, 4u);
  EXPECT_EQ(arch_for_elf(ELFCLASS32, EM_X86_64), &a);
}

TEST(Arch, UnknownMachinesAreNotRead) {
  EXPECT_EQ(arch_for_elf(ELFCLASS64, EM_RISCV), nullptr);
  EXPECT_EQ(arch_for_elf(ELFCLASS32, EM_ARM), nullptr);
  EXPECT_EQ(arch_for_elf(ELFCLASS64, EM_386), nullptr);
  EXPECT_EQ(arch_by_name("sparc"), nullptr);
  EXPECT_EQ(native_arch().id, ArchId::x86_64);
}

TEST(Arch, Pointers) {
  EXPECT_EQ(arch(ArchId::i386).pointer(0x1234567890), 0x34567890u);
  EXPECT_EQ(arch(ArchId::x86_64).pointer(0x1234567890), 0x1234567890u);
}

}  // namespace
}  // namespace usercrash::engine
