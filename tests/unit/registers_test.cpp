// The x86_64 register tables: names, display order, DWARF order.
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
  const auto& order = display_order();
  std::set<Reg> regs(order.begin(), order.end());
  EXPECT_EQ(regs.size(), kRegisterCount);
  EXPECT_EQ(order.front(), Reg::rax);
  EXPECT_EQ(order[7], Reg::rsp);
  EXPECT_EQ(order[16], Reg::rip);
}

TEST(Registers, GeneralPurposeSet) {
  const auto& gp = general_purpose();
  std::set<Reg> regs(gp.begin(), gp.end());
  EXPECT_EQ(regs.size(), 16u);
  EXPECT_TRUE(regs.count(Reg::rsp));
  EXPECT_FALSE(regs.count(Reg::rip));
  EXPECT_FALSE(regs.count(Reg::eflags));
}

TEST(Registers, ToDwarfOrder) {
  Registers r;
  for (size_t i = 0; i < kRegisterCount; ++i) r.values[i] = 0x1000 + i;
  auto d = to_dwarf(r);
  ASSERT_EQ(d.size(), kDwarfRegisterCount);
  // DWARF x86_64: 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8..15 r8..r15, 16 RA.
  const Reg expected[] = {Reg::rax, Reg::rdx, Reg::rcx, Reg::rbx, Reg::rsi, Reg::rdi, Reg::rbp, Reg::rsp, Reg::r8,
                          Reg::r9,  Reg::r10, Reg::r11, Reg::r12, Reg::r13, Reg::r14, Reg::r15, Reg::rip};
  for (size_t i = 0; i < kDwarfRegisterCount; ++i) EXPECT_EQ(d[i], r.get(expected[i])) << "DWARF register " << i;
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
