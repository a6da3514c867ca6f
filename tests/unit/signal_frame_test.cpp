#include "engine/signal_frame.h"

#include <signal.h>
#include <sys/ucontext.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "unit/fake_target.h"

namespace usercrash::engine {
namespace {

using test::FakeTarget;

// The layout the unwinder assumes, checked against glibc's own ucontext_t
// and its REG_* indices (which follow the kernel's struct sigcontext).
TEST(SignalFrame, UcontextLayoutMatchesTheSystemHeaders) {
  EXPECT_EQ(kUcontextGregsOffset, offsetof(ucontext_t, uc_mcontext.gregs));
  const std::pair<Reg, int> expected[] = {
      {Reg::r8, REG_R8},   {Reg::r9, REG_R9},   {Reg::r10, REG_R10},   {Reg::r11, REG_R11}, {Reg::r12, REG_R12},
      {Reg::r13, REG_R13}, {Reg::r14, REG_R14}, {Reg::r15, REG_R15},   {Reg::rdi, REG_RDI}, {Reg::rsi, REG_RSI},
      {Reg::rbp, REG_RBP}, {Reg::rbx, REG_RBX}, {Reg::rdx, REG_RDX},   {Reg::rax, REG_RAX}, {Reg::rcx, REG_RCX},
      {Reg::rsp, REG_RSP}, {Reg::rip, REG_RIP}, {Reg::eflags, REG_EFL}};
  ASSERT_EQ(std::size(expected), kSigcontextOrder.size());
  for (const auto& [reg, index] : expected)
    EXPECT_EQ(kSigcontextOrder[static_cast<size_t>(index)], reg) << register_name(reg);
}

ucontext_t sample_context() {
  ucontext_t uc;
  std::memset(&uc, 0, sizeof uc);
  for (int i = 0; i < NGREG; ++i) uc.uc_mcontext.gregs[i] = 0x1000 + i;
  uc.uc_mcontext.gregs[REG_RIP] = 0x481280;
  uc.uc_mcontext.gregs[REG_RSP] = 0xc000038770;
  return uc;
}

TEST(SignalFrame, RegistersComeFromTheSavedContextAndSegmentsFromTheHandler) {
  ucontext_t uc = sample_context();
  Registers handler;
  handler.set(Reg::fs_base, 0x7f00);
  handler.set(Reg::rax, 0xdead);
  FakeTarget target;
  target.map(0x10000, 0x2000, "rw-p");
  std::vector<uint8_t> bytes(sizeof uc);
  std::memcpy(bytes.data(), &uc, sizeof uc);
  target.write_bytes(0x10100, bytes);
  MemoryCache memory(target);

  auto regs = interrupted_registers(memory, 0x10100, handler);
  ASSERT_TRUE(regs);
  EXPECT_EQ(regs->pc(), 0x481280u);
  EXPECT_EQ(regs->sp(), 0xc000038770u);
  EXPECT_EQ(regs->get(Reg::rax), static_cast<uint64_t>(0x1000 + REG_RAX));
  EXPECT_EQ(regs->get(Reg::r8), static_cast<uint64_t>(0x1000 + REG_R8));
  EXPECT_EQ(regs->get(Reg::eflags), static_cast<uint64_t>(0x1000 + REG_EFL));
  EXPECT_EQ(regs->get(Reg::fs_base), 0x7f00u);
}

TEST(SignalFrame, ATruncatedOrUnmappedFrameIsNoFrame) {
  ucontext_t uc = sample_context();
  Registers handler;
  FakeTarget target;
  // The registers run past the end of the mapping by one byte.
  uint64_t end = 0x20000 + 0x1000;
  uint64_t at = end - kUcontextGregsOffset - kUcontextGregsBytes + 1;
  target.map(0x20000, 0x1000, "rw-p");
  std::vector<uint8_t> bytes(kUcontextGregsOffset + kUcontextGregsBytes - 1);
  std::memcpy(bytes.data(), &uc, bytes.size());
  target.write_bytes(at, bytes);
  MemoryCache memory(target);
  EXPECT_FALSE(interrupted_registers(memory, at, handler));
  EXPECT_FALSE(interrupted_registers(memory, 0x90000, handler));
  // Addresses that would wrap around.
  EXPECT_FALSE(interrupted_registers(memory, UINT64_MAX - 8, handler));
  EXPECT_FALSE(interrupted_registers(memory, UINT64_MAX - kUcontextGregsOffset, handler));
}

TEST(SignalFrame, ANullPcOrSpIsNoFrame) {
  Registers handler;
  std::vector<std::byte> gregs(kUcontextGregsBytes, std::byte{0x11});
  EXPECT_TRUE(registers_from_gregs(gregs, handler));
  EXPECT_FALSE(registers_from_gregs(std::span(gregs).first(kUcontextGregsBytes - 1), handler));
  auto zero_slot = [&](int index) {
    auto copy = gregs;
    std::memset(copy.data() + index * 8, 0, 8);
    return copy;
  };
  EXPECT_FALSE(registers_from_gregs(zero_slot(REG_RIP), handler));
  EXPECT_FALSE(registers_from_gregs(zero_slot(REG_RSP), handler));
  Registers i386;
  i386.arch_id = ArchId::i386;
  EXPECT_FALSE(registers_from_gregs(gregs, i386));
}

TEST(SignalFrame, OnlyTheRtSigreturnCodeIsARestorer) {
  FakeTarget target;
  target.map(0x30000, 0x1000, "r-xp");
  const std::vector<uint8_t> code = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
  target.write_bytes(0x30100, code);
  target.write_bytes(0x30ff8, std::vector<uint8_t>(code.begin(), code.begin() + 8));  // cut by the mapping's end
  auto other = code;
  other[3] = 0x3c;  // exit
  target.write_bytes(0x30200, other);
  MemoryCache memory(target);
  EXPECT_TRUE(is_sigreturn_code(memory, 0x30100));
  EXPECT_FALSE(is_sigreturn_code(memory, 0x30101));
  EXPECT_FALSE(is_sigreturn_code(memory, 0x30200));
  EXPECT_FALSE(is_sigreturn_code(memory, 0x30ff8));
  EXPECT_FALSE(is_sigreturn_code(memory, UINT64_MAX - 3));
}

TEST(SignalFrame, GoRestorerAndFakedCallNames) {
  EXPECT_TRUE(is_go_restorer("runtime.sigreturn"));
  EXPECT_TRUE(is_go_restorer("runtime.sigreturn.abi0"));
  EXPECT_TRUE(is_go_restorer("runtime.sigreturn__sigaction.abi0"));
  EXPECT_FALSE(is_go_restorer("runtime.sigtramp.abi0"));
  EXPECT_FALSE(is_go_restorer("__restore_rt"));
  EXPECT_FALSE(is_go_restorer("main.runtime.sigreturn"));
  EXPECT_TRUE(is_faked_fault_call("runtime.sigpanic"));
  EXPECT_TRUE(is_faked_fault_call("runtime.sigpanic0.abi0"));
  EXPECT_FALSE(is_faked_fault_call("runtime.panicmem"));
  EXPECT_EQ(without_abi_suffix("runtime.futex.abi0"), "runtime.futex");
  EXPECT_EQ(without_abi_suffix("runtime.futex"), "runtime.futex");
  EXPECT_EQ(without_abi_suffix(".abi0"), ".abi0");
  EXPECT_EQ(without_abi_suffix("memcpy.part.0"), "memcpy.part.0");
}

TEST(SignalFrame, TheFaultIsTheFrameAboveTheFakedCall) {
  std::vector<Frame> frames(4);
  frames[0].function = "runtime.raise";
  frames[1].function = "runtime.sigpanic";
  frames[2].function = "main.greet";
  frames[2].pc = 0x481280;
  frames[3].function = "main.main.func1";
  EXPECT_EQ(faked_fault(frames), "a fault in main.greet at 0x481280");
  frames[2].function.reset();
  EXPECT_EQ(faked_fault(frames), "a fault in ?? at 0x481280");
  frames.resize(2);  // sigpanic outermost: nothing above it
  EXPECT_EQ(faked_fault(frames), std::nullopt);
}

}  // namespace
}  // namespace usercrash::engine
