// The x86_64 register file: names, display order, DWARF order; a 32-bit
// task's registers from ptrace.
#include "engine/registers.h"

#include <sys/user.h>

#include <algorithm>
#include <cstddef>
#include <set>

#include <gtest/gtest.h>

namespace usercrash::engine {
namespace {

TEST(Registers, LayoutMatchesTheKernelsUserRegsStruct) {
  static_assert(sizeof(user_regs_struct) == kGregsetBytes);
  EXPECT_EQ(static_cast<size_t>(Reg::r15), offsetof(user_regs_struct, r15) / 8);
  EXPECT_EQ(static_cast<size_t>(Reg::rbp), offsetof(user_regs_struct, rbp) / 8);
  EXPECT_EQ(static_cast<size_t>(Reg::rax), offsetof(user_regs_struct, rax) / 8);
  EXPECT_EQ(static_cast<size_t>(Reg::orig_rax), offsetof(user_regs_struct, orig_rax) / 8);
  EXPECT_EQ(static_cast<size_t>(Reg::rip), offsetof(user_regs_struct, rip) / 8);
  EXPECT_EQ(static_cast<size_t>(Reg::eflags), offsetof(user_regs_struct, eflags) / 8);
  EXPECT_EQ(static_cast<size_t>(Reg::rsp), offsetof(user_regs_struct, rsp) / 8);
  EXPECT_EQ(static_cast<size_t>(Reg::fs_base), offsetof(user_regs_struct, fs_base) / 8);
  EXPECT_EQ(static_cast<size_t>(Reg::gs), offsetof(user_regs_struct, gs) / 8);
}

TEST(Registers, NamesRoundTrip) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < kRegisterCount; ++i) {
    Reg r = static_cast<Reg>(i);
    std::string_view name = register_name(r);
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(seen.insert(name).second) << name << " twice";
    EXPECT_EQ(register_by_name(name), r);
  }
  EXPECT_EQ(register_name(Reg::rip), "rip");
  EXPECT_EQ(register_name(Reg::orig_rax), "orig_rax");
  EXPECT_EQ(register_name(Reg::fs_base), "fs_base");
  EXPECT_EQ(register_by_name("eip"), std::nullopt);
  EXPECT_EQ(register_by_name("RIP"), std::nullopt);
  EXPECT_EQ(register_by_name(""), std::nullopt);
}

TEST(Registers, DisplayOrderCoversAll27Once) {
  const auto& order = arch(ArchId::x86_64).display_order;
  std::set<uint8_t> regs(order.begin(), order.end());
  EXPECT_EQ(regs.size(), kRegisterCount);
  EXPECT_EQ(order.front(), static_cast<uint8_t>(Reg::rax));
  EXPECT_EQ(order[7], static_cast<uint8_t>(Reg::rsp));
  EXPECT_EQ(order[16], static_cast<uint8_t>(Reg::rip));
}

TEST(Registers, GeneralPurposeSet) {
  const auto& gp = arch(ArchId::x86_64).general_purpose;
  std::set<uint8_t> regs(gp.begin(), gp.end());
  EXPECT_EQ(regs.size(), 16u);
  EXPECT_TRUE(regs.count(static_cast<uint8_t>(Reg::rsp)));
  EXPECT_FALSE(regs.count(static_cast<uint8_t>(Reg::rip)));
  EXPECT_FALSE(regs.count(static_cast<uint8_t>(Reg::eflags)));
}

TEST(Registers, DwarfOrder) {
  const auto& dwarf = arch(ArchId::x86_64).dwarf;
  ASSERT_EQ(dwarf.size(), 17u);
  // DWARF x86_64: 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8..15 r8..r15, 16 RA.
  const Reg expected[] = {Reg::rax, Reg::rdx, Reg::rcx, Reg::rbx, Reg::rsi, Reg::rdi, Reg::rbp, Reg::rsp, Reg::r8,
                          Reg::r9,  Reg::r10, Reg::r11, Reg::r12, Reg::r13, Reg::r14, Reg::r15, Reg::rip};
  for (size_t i = 0; i < dwarf.size(); ++i) EXPECT_EQ(dwarf[i], static_cast<uint8_t>(expected[i])) << "DWARF " << i;
}

TEST(Registers, CompatModeTaskBecomesI386) {
  Registers wide;
  wide.set(Reg::cs, 0x23);
  wide.set(Reg::rip, 0xf7f01234);
  wide.set(Reg::rsp, 0xffd01000);
  wide.set(Reg::rax, 0xdeadbeef);
  wide.set(Reg::rbx, 1);
  wide.set(Reg::orig_rax, UINT64_MAX);
  ASSERT_TRUE(is_compat_mode(wide));
  Registers narrow = i386_from_x86_64(wide);
  EXPECT_EQ(narrow.arch_id, ArchId::i386);
  EXPECT_EQ(narrow.count(), 17u);
  EXPECT_EQ(narrow.pc(), 0xf7f01234u);
  EXPECT_EQ(narrow.sp(), 0xffd01000u);
  EXPECT_EQ(narrow.get("eax"), 0xdeadbeefu);
  EXPECT_EQ(narrow.get("ebx"), 1u);
  EXPECT_EQ(narrow.get("orig_eax"), 0xffffffffu);
  EXPECT_EQ(narrow.get("rip"), std::nullopt);
  wide.set(Reg::cs, 0x33);
  EXPECT_FALSE(is_compat_mode(wide));
}

TEST(Registers, Accessors) {
  Registers r;
  r.set(Reg::rip, 0x401000);
  r.set(Reg::rsp, 0x7ffc0000);
  EXPECT_EQ(r.pc(), 0x401000u);
  EXPECT_EQ(r.sp(), 0x7ffc0000u);
  EXPECT_EQ(r.values[16], 0x401000u);
  EXPECT_EQ(r.values[19], 0x7ffc0000u);
}

}  // namespace
}  // namespace usercrash::engine
