// Code around pc, decoded with capstone in AT&T syntax.
#include "engine/disassembler.h"

#include <vector>

#include <gtest/gtest.h>

namespace usercrash::engine {
namespace {

// push %rbp; mov %rsp,%rbp; movl $0x2a,(%rdi); nop; pop %rbp; ret
const std::vector<uint8_t> kFunction = {0x55, 0x48, 0x89, 0xe5, 0xc7, 0x07, 0x2a, 0x00, 0x00, 0x00, 0x90, 0x5d, 0xc3};
constexpr uint64_t kBase = 0x401000;
constexpr uint64_t kStore = kBase + 4;  // the movl

size_t faulting_index(const std::vector<Instruction>& v) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].faulting) return i;
  return v.size();
}

TEST(Disassembler, DecodesAroundPcAndMarksIt) {
  auto code = disassemble_around(kFunction, kBase, kStore, kBase);
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(code[0].address, kBase);
  EXPECT_EQ(code[0].text, "pushq %rbp");
  EXPECT_EQ(code[1].text, "movq %rsp, %rbp");
  EXPECT_EQ(code[2].address, kStore);
  EXPECT_EQ(code[2].text, "movl $0x2a, (%rdi)");
  EXPECT_EQ(code[2].bytes, (std::vector<uint8_t>{0xc7, 0x07, 0x2a, 0x00, 0x00, 0x00}));
  EXPECT_TRUE(code[2].faulting);
  EXPECT_EQ(faulting_index(code), 2u) << "exactly one instruction is marked";
  for (size_t i = 0; i < code.size(); ++i) {
    if (i != 2) {
      EXPECT_FALSE(code[i].faulting);
    }
  }
  EXPECT_EQ(code[3].text, "nop");
  EXPECT_EQ(code[4].text, "popq %rbp");
  EXPECT_TRUE(code[5].text.starts_with("ret")) << code[5].text;
}

TEST(Disassembler, WithoutAFunctionStartItFindsAStartThatLandsOnPc) {
  auto code = disassemble_around(kFunction, kBase, kStore, std::nullopt);
  ASSERT_FALSE(code.empty());
  size_t at = faulting_index(code);
  ASSERT_LT(at, code.size());
  EXPECT_EQ(code[at].address, kStore);
  EXPECT_EQ(code[at].text, "movl $0x2a, (%rdi)");
}

TEST(Disassembler, BeforeAndAfterCaps) {
  auto code = disassemble_around(kFunction, kBase, kStore, kBase, 1, 1);
  ASSERT_EQ(code.size(), 3u);
  EXPECT_EQ(code[0].text, "movq %rsp, %rbp");
  EXPECT_TRUE(code[1].faulting);
  EXPECT_EQ(code[2].text, "nop");
  auto none = disassemble_around(kFunction, kBase, kStore, kBase, 0, 0);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_TRUE(none[0].faulting);
}

TEST(Disassembler, PcAtTheFirstAndLastByte) {
  auto first = disassemble_around(kFunction, kBase, kBase, std::nullopt);
  ASSERT_FALSE(first.empty());
  EXPECT_TRUE(first[0].faulting);
  EXPECT_EQ(first[0].text, "pushq %rbp");
  auto last = disassemble_around(kFunction, kBase, kBase + kFunction.size() - 1, kBase);
  ASSERT_FALSE(last.empty());
  EXPECT_TRUE(last.back().faulting);
  EXPECT_TRUE(last.back().text.starts_with("ret"));
}

TEST(Disassembler, PcOutsideTheCodeGivesNothing) {
  EXPECT_TRUE(disassemble_around(kFunction, kBase, kBase - 1, std::nullopt).empty());
  EXPECT_TRUE(disassemble_around(kFunction, kBase, kBase + kFunction.size(), std::nullopt).empty());
  EXPECT_TRUE(disassemble_around({}, kBase, kBase, std::nullopt).empty());
}

TEST(Disassembler, FunctionStartAfterPcIsIgnored) {
  auto code = disassemble_around(kFunction, kBase, kStore, kBase + 10);
  ASSERT_FALSE(code.empty());
  EXPECT_EQ(code[faulting_index(code)].address, kStore);
}

TEST(Disassembler, MisleadingFunctionStartFallsBack) {
  // Decoding from kBase + 1 reads "mov %rsp,%rbp" then lands on pc too, but a start
  // in the middle of the movl never lands on the nop: the fallback must find a start that does.
  uint64_t nop = kBase + 10;
  auto code = disassemble_around(kFunction, kBase, nop, kBase + 5);
  ASSERT_FALSE(code.empty());
  size_t at = faulting_index(code);
  ASSERT_LT(at, code.size());
  EXPECT_EQ(code[at].address, nop);
  EXPECT_EQ(code[at].text, "nop");
}

TEST(Disassembler, Ud2AndUndecodableBytes) {
  std::vector<uint8_t> ud2 = {0x0f, 0x0b};
  auto code = disassemble_around(ud2, 0x1000, 0x1000, std::nullopt);
  ASSERT_EQ(code.size(), 1u);
  EXPECT_EQ(code[0].text, "ud2");
  std::vector<uint8_t> junk = {0x48, 0xb8, 0x01};  // movabs cut inside its immediate
  EXPECT_TRUE(disassemble_around(junk, 0x1000, 0x1000, std::nullopt).empty());
}

TEST(Disassembler, LongGarbageBeforePcIsBounded) {
  // 4 KiB of code before pc: decoding starts at most 64 bytes back.
  std::vector<uint8_t> code(4096, 0x90);
  code.push_back(0x0f);
  code.push_back(0x0b);
  auto out = disassemble_around(code, 0x10000, 0x10000 + 4096, std::nullopt, 8, 8);
  ASSERT_EQ(out.size(), 9u);
  EXPECT_TRUE(out.back().faulting);
  EXPECT_EQ(out.back().text, "ud2");
  EXPECT_EQ(out.front().address, 0x10000u + 4096 - 8);
}

}  // namespace
}  // namespace usercrash::engine
