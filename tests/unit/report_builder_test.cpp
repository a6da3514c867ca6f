// build_report on a fake Target: hand-made stacks, hostile ones included,
// must give a bounded, partial backtrace that says why it stopped.
#include "engine/report_builder.h"

#include <elf.h>

#include <csignal>

#include <gtest/gtest.h>

#include "unit/fake_target.h"

namespace usercrash::engine {
namespace {

using Clock = std::chrono::steady_clock;
using test::FakeTarget;

constexpr uint64_t kCode = 0x400000;
constexpr uint64_t kStack = 0x7ffc00000000;
constexpr uint64_t kStackSize = 0x10000;

// A process with a code mapping, a stack and one crashing thread.
struct Scene {
  FakeTarget target;
  Registers* regs;
  Scene() {
    target.facts_mut().pid = 4242;
    target.facts_mut().comm = "fake";
    target.map(kCode, 0x1000, "r-xp");
    target.map(kStack, kStackSize, "rw-p", "[stack]");
    regs = &target.add_thread(4242);
    regs->set(Reg::rip, kCode + 0x10);
    regs->set(Reg::rsp, kStack + 0x80);
    target.set_signal({SIGSEGV, 0, SEGV_MAPERR, 0x10, 0, 0});
  }
  // Frame record at `rbp`: saved rbp, then the return address.
  void frame(uint64_t rbp, uint64_t saved_rbp, uint64_t return_address) {
    target.write_word(rbp, saved_rbp);
    target.write_word(rbp + 8, return_address);
  }
};

CollectOptions options(size_t max_frames = 256) {
  CollectOptions o;
  o.max_frames = max_frames;
  o.source_lines = limits::SourceLines::none;
  o.deadline = Clock::now() + std::chrono::seconds(10);
  o.time = 1795000000;
  return o;
}

std::vector<uint64_t> pcs(const ThreadReport& t) {
  std::vector<uint64_t> out;
  for (const auto& f : t.frames) out.push_back(f.pc);
  return out;
}

// Runs build_report and checks it ended quickly.
Report build(Scene& s, const CollectOptions& o = options()) {
  auto start = Clock::now();
  Report r = build_report(s.target, o);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3)) << "the unwinder must not hang";
  return r;
}

TEST(ReportBuilder, FactsSignalAndRegisters) {
  Scene s;
  s.target.facts_mut().uid = 1000;
  s.target.facts_mut().cmdline = {"fake", "--x"};
  s.target.facts_mut().truncated = {"cmdline"};
  Report r = build(s);
  EXPECT_EQ(r.source, "fake");
  EXPECT_EQ(r.pid, 4242);
  EXPECT_EQ(r.tid, 4242);
  EXPECT_EQ(r.uid, 1000u);
  EXPECT_EQ(r.comm, "fake");
  EXPECT_EQ(r.time, 1795000000);
  EXPECT_EQ(r.truncated, std::vector<std::string>{"cmdline"});
  ASSERT_TRUE(r.signal);
  EXPECT_EQ(r.signal->number, SIGSEGV);
  EXPECT_EQ(r.signal->fault_address, 0x10u);
  EXPECT_EQ(r.signal->cause, "null-pointer dereference (offset 0x10)");
  ASSERT_EQ(r.threads.size(), 1u);
  EXPECT_TRUE(r.threads[0].crashed);
  ASSERT_EQ(r.threads[0].registers.size(), kRegisterCount);
  EXPECT_EQ(r.threads[0].registers[0].name, "rax");
  EXPECT_EQ(r.threads[0].registers[16].name, "rip");
  EXPECT_EQ(r.threads[0].registers[16].value, kCode + 0x10);
  ASSERT_FALSE(r.threads[0].frames.empty());
  EXPECT_EQ(r.threads[0].frames[0].pc, kCode + 0x10);
  EXPECT_EQ(r.threads[0].frames[0].method, FrameMethod::context);
  EXPECT_TRUE(r.collection_ms);
}

TEST(ReportBuilder, FramePointerChainToItsEnd) {
  Scene s;
  uint64_t f0 = kStack + 0x100, f1 = kStack + 0x200, f2 = kStack + 0x300;
  s.regs->set(Reg::rbp, f0);
  s.frame(f0, f1, kCode + 0x100);
  s.frame(f1, f2, kCode + 0x200);
  s.frame(f2, 0, kCode + 0x300);  // rbp 0: the outermost frame
  Report r = build(s);
  const ThreadReport& t = r.threads[0];
  EXPECT_EQ(pcs(t), (std::vector<uint64_t>{kCode + 0x10, kCode + 0x100, kCode + 0x200, kCode + 0x300}));
  EXPECT_EQ(t.frames[1].method, FrameMethod::frame_pointer);
  EXPECT_FALSE(t.unwind_stopped) << *t.unwind_stopped;
}

TEST(ReportBuilder, FramePointerLoopOnItself) {
  Scene s;
  uint64_t f0 = kStack + 0x100;
  s.regs->set(Reg::rbp, f0);
  s.frame(f0, f0, kCode + 0x100);
  Report r = build(s);
  const ThreadReport& t = r.threads[0];
  EXPECT_GE(t.frames.size(), 1u);
  EXPECT_LE(t.frames.size(), 3u);
  EXPECT_EQ(t.frames[0].pc, kCode + 0x10);
  ASSERT_TRUE(t.unwind_stopped) << "a loop is not the outermost frame";
  EXPECT_EQ(*t.unwind_stopped, "frame pointer 0x7ffc00000100 leads no further up the stack (loop or corruption)");
}

TEST(ReportBuilder, FramePointerLoopOfTwo) {
  Scene s;
  uint64_t f0 = kStack + 0x100, f1 = kStack + 0x200;
  s.regs->set(Reg::rbp, f0);
  s.frame(f0, f1, kCode + 0x100);
  s.frame(f1, f0, kCode + 0x200);
  Report r = build(s);
  const ThreadReport& t = r.threads[0];
  EXPECT_LE(t.frames.size(), 4u);
  ASSERT_TRUE(t.unwind_stopped);
  EXPECT_NE(t.unwind_stopped->find("leads no further up the stack"), std::string::npos) << *t.unwind_stopped;
}

TEST(ReportBuilder, GarbageStack) {
  Scene s;
  uint64_t f0 = kStack + 0x100;
  s.regs->set(Reg::rbp, f0);
  s.frame(f0, 0x4141414141414141, 0x4242424242424242);
  for (uint64_t a = kStack + 0x110; a < kStack + 0x400; a += 8) s.target.write_word(a, 0x4343434343434343);
  Report r = build(s);
  const ThreadReport& t = r.threads[0];
  ASSERT_FALSE(t.frames.empty());
  EXPECT_EQ(t.frames[0].pc, kCode + 0x10);
  EXPECT_LE(t.frames.size(), 3u);
  ASSERT_TRUE(t.unwind_stopped);
  EXPECT_TRUE(*t.unwind_stopped == "unreadable stack at 0x4141414141414149" ||
              *t.unwind_stopped == "pc 0x4242424242424242 is not in any code (corrupt stack?)")
      << *t.unwind_stopped;
}

TEST(ReportBuilder, UnreadableStackPointer) {
  Scene s;
  s.regs->set(Reg::rsp, 0xdead0000);
  s.regs->set(Reg::rbp, 0xdead0100);
  Report r = build(s);
  const ThreadReport& t = r.threads[0];
  ASSERT_EQ(t.frames.size(), 1u);
  EXPECT_EQ(t.frames[0].pc, kCode + 0x10);
  EXPECT_EQ(t.unwind_stopped, "unreadable stack at 0xdead0108");
  bool noted = false;
  for (const auto& p : r.problems) noted = noted || p.find("not in readable memory") != std::string::npos;
  EXPECT_FALSE(noted) << "pc is readable: code around it was decoded";
}

TEST(ReportBuilder, ZeroPcWithTheReturnAddressOnTheStack) {
  Scene s;
  s.regs->set(Reg::rip, 0);
  s.target.write_word(kStack + 0x80, kCode + 0x234);  // what the bad call pushed
  s.regs->set(Reg::rbp, 0);
  s.target.set_signal({SIGSEGV, 0, SEGV_MAPERR, 0, 0, 0});
  Report r = build(s);
  const ThreadReport& t = r.threads[0];
  ASSERT_GE(t.frames.size(), 2u);
  EXPECT_EQ(t.frames[0].pc, 0u);
  EXPECT_EQ(t.frames[1].pc, kCode + 0x234) << "the caller, from the return address at sp";
  ASSERT_TRUE(r.signal->cause);
  EXPECT_EQ(*r.signal->cause, "call through a null function pointer");
}

TEST(ReportBuilder, ZeroPcAndUnreadableStack) {
  Scene s;
  s.regs->set(Reg::rip, 0);
  s.regs->set(Reg::rsp, 0xdead0000);
  s.regs->set(Reg::rbp, 0xdead0000);
  Report r = build(s);
  const ThreadReport& t = r.threads[0];
  ASSERT_GE(t.frames.size(), 1u);
  EXPECT_LE(t.frames.size(), 2u);
  EXPECT_EQ(t.frames[0].pc, 0u);
  ASSERT_TRUE(t.unwind_stopped);
  EXPECT_TRUE(t.unwind_stopped->starts_with("unreadable stack at 0xdead00")) << *t.unwind_stopped;
  bool noted = false;
  for (const auto& p : r.problems)
    noted = noted || p.find("code around rip: 0x0 is not in readable memory") != std::string::npos;
  EXPECT_TRUE(noted);
  EXPECT_TRUE(r.disassembly.empty());
}

TEST(ReportBuilder, MaxFramesCapSetsTruncated) {
  Scene s;
  // A long, valid frame-pointer chain: 200 frames.
  uint64_t rbp = kStack + 0x100;
  s.regs->set(Reg::rbp, rbp);
  for (int i = 0; i < 200; ++i) {
    uint64_t next = rbp + 0x40;
    s.frame(rbp, i == 199 ? 0 : next, kCode + 0x100 + static_cast<uint64_t>(i));
    rbp = next;
  }
  Report r = build(s, options(10));
  const ThreadReport& t = r.threads[0];
  EXPECT_EQ(t.frames.size(), 10u);
  ASSERT_TRUE(t.unwind_stopped);
  EXPECT_EQ(*t.unwind_stopped, "frame limit (10) reached");
  EXPECT_NE(std::find(r.truncated.begin(), r.truncated.end(), "thread 4242: frames cut at 10"), r.truncated.end());

  Report all = build(s, options(1000));
  EXPECT_EQ(all.threads[0].frames.size(), 201u);
  EXPECT_FALSE(all.threads[0].unwind_stopped);
  EXPECT_TRUE(all.truncated.empty());
}

TEST(ReportBuilder, PastDeadlineNothingIsUnwound) {
  Scene s;
  s.target.add_thread(4243).set(Reg::rip, kCode);
  CollectOptions o = options();
  o.deadline = Clock::now() - std::chrono::seconds(1);
  Report r = build(s, o);
  ASSERT_EQ(r.threads.size(), 2u);
  for (const auto& t : r.threads) {
    EXPECT_TRUE(t.frames.empty());
    EXPECT_EQ(t.unwind_stopped, "time budget exhausted before this thread");
  }
  EXPECT_NE(std::find(r.truncated.begin(), r.truncated.end(), "backtraces: time budget exhausted"), r.truncated.end());
}

TEST(ReportBuilder, ThreadCapAndThreadsWithoutRegisters) {
  Scene s;
  for (pid_t tid = 4243; tid < 4250; ++tid) s.target.add_thread(tid).set(Reg::rip, kCode + 0x20);
  s.target.facts_mut().thread_info = {{4242, "main", "R"}, {4243, "w1", "S"}, {4300, "lost", "D"}};
  CollectOptions o = options();
  o.max_threads = 3;
  Report r = build(s, o);
  ASSERT_EQ(r.threads.size(), 3u);
  EXPECT_EQ(r.threads[0].name, "main");
  EXPECT_EQ(r.threads[1].name, "w1");
  EXPECT_EQ(r.threads[1].state, "S");
  EXPECT_NE(std::find(r.truncated.begin(), r.truncated.end(), "threads: 3 of 8 unwound"), r.truncated.end());

  Report everything = build(s);
  ASSERT_EQ(everything.threads.size(), 9u);
  EXPECT_EQ(everything.threads.back().tid, 4300);
  EXPECT_EQ(everything.threads.back().unwind_stopped, "no registers for this thread");
  EXPECT_TRUE(everything.threads.back().registers.empty());
}

TEST(ReportBuilder, MemoryNearRegistersAndCode) {
  Scene s;
  s.target.write_bytes(kCode + 0x10, {0xc7, 0x07, 0x2a, 0x00, 0x00, 0x00});  // movl $0x2a,(%rdi)
  s.regs->set(Reg::rdi, 0x10);
  s.regs->set(Reg::rbx, kStack + 0x80);  // same as rsp: one dump, two labels
  s.target.write_word(kStack + 0x80, 0x1122334455667788);
  Report r = build(s);
  bool found = false;
  for (const auto& d : r.memory_near_registers) {
    if (d.address != kStack + 0x80) continue;
    found = true;
    EXPECT_EQ(d.label, "rbx/rsp");
    EXPECT_EQ(d.start, kStack + 0x60);
    ASSERT_EQ(d.bytes.size(), 0xe0u);
    EXPECT_EQ(d.bytes[0x20], 0x88);
  }
  EXPECT_TRUE(found);
  for (const auto& d : r.memory_near_registers) EXPECT_NE(d.address, 0x10u) << "rdi points nowhere readable";
  ASSERT_FALSE(r.disassembly.empty());
  bool marked = false;
  for (const auto& i : r.disassembly)
    if (i.faulting) {
      marked = true;
      EXPECT_EQ(i.address, kCode + 0x10);
      EXPECT_EQ(i.text, "movl $0x2a, (%rdi)");
    }
  EXPECT_TRUE(marked);
}

TEST(ReportBuilder, SecureProcessLeavesMemoryOut) {
  Scene s;
  s.target.facts_mut().auxv = {{AT_SECURE, 1}};
  Report r = build(s);
  EXPECT_TRUE(r.secure);
  EXPECT_TRUE(r.memory_near_registers.empty());
  EXPECT_TRUE(r.disassembly.empty());
  CollectOptions o = options();
  o.dump_secure_memory = true;
  EXPECT_FALSE(build(s, o).memory_near_registers.empty());
}

TEST(ReportBuilder, IsSecureProcess) {
  ProcessFacts f;
  EXPECT_FALSE(is_secure_process(f));
  f.uid = 1000;
  f.euid = 0;
  EXPECT_TRUE(is_secure_process(f));
  f.euid = 1000;
  f.gid = 5;
  f.egid = 6;
  EXPECT_TRUE(is_secure_process(f));
  f.egid = 5;
  f.dumpable = false;
  EXPECT_TRUE(is_secure_process(f));
  f.dumpable = true;
  EXPECT_FALSE(is_secure_process(f));
}

TEST(ReportBuilder, SignalsAndCauses) {
  Scene s;
  s.target.set_signal({SIGSEGV, 0, SI_KERNEL, 0, 0, 0});
  Report gp = build(s);
  EXPECT_FALSE(gp.signal->fault_address) << "a general protection fault has no address";
  EXPECT_NE(gp.signal->cause, "null-pointer dereference");

  s.target.set_signal({SIGABRT, 0, SI_TKILL, 0, 4242, 0});
  Report abrt = build(s);
  EXPECT_FALSE(abrt.signal->fault_address);
  EXPECT_EQ(abrt.signal->sender_pid, 4242);
  EXPECT_EQ(abrt.signal->cause, "abort() called");

  s.target.set_signal({SIGFPE, 0, 1, kCode + 0x10, 0, 0});
  EXPECT_EQ(build(s).signal->cause, "integer division by zero");

  s.target.set_signal({SIGSEGV, 0, SEGV_ACCERR, kCode + 0x20, 0, 0});
  EXPECT_EQ(build(s).signal->cause, "write to read-only memory (r-xp mapping)");

  s.target.set_signal({SIGSEGV, 0, SEGV_MAPERR, kStack - 0x100, 0, 0});
  EXPECT_EQ(build(s).signal->cause, "stack overflow (fault just below the stack)");

  s.target.set_signal({SIGTERM, 0, SI_USER, 0, 777, 1000});
  EXPECT_EQ(build(s).signal->cause, "sent by pid 777 (uid 1000)");
}

TEST(ReportBuilder, NoThreadsAtAll) {
  FakeTarget t;
  t.facts_mut().pid = 99;
  Report r = build_report(t, options());
  EXPECT_EQ(r.tid, 99);
  EXPECT_TRUE(r.threads.empty());
  EXPECT_FALSE(r.signal);
}

}  // namespace
}  // namespace usercrash::engine
