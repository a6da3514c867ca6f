// A hand-built engine::Report for the renderer tests: every section filled,
// with hostile strings where the crashing process controls them.
#pragma once

#include <csignal>

#include "engine/registers.h"
#include "engine/report.h"

namespace usercrash::test {

// Bytes a hostile process may put in its name, arguments or paths.
inline const std::string kHostile = "evil\n\x1b[31mred\x1b[0m $(rm -rf /) \xff\xfe \xC2\x9b tail";

inline engine::Report sample_report() {
  using namespace engine;
  Report r;
  r.pid = 4242;
  r.tgid = 4242;
  r.tid = 4243;
  r.uid = 1000;
  r.gid = 1001;
  r.comm = kHostile;
  r.exe = "/opt/demo/bin/demo";
  r.exe_build_id = "0123456789abcdef0123456789abcdef01234567";
  r.signature = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  r.cmdline = {"/opt/demo/bin/demo", "--arg=" + kHostile, "two words"};
  r.time = 1795000000;
  r.kernel = "6.18.0";
  r.hostname = "builder";
  r.source = "core_pattern";

  SignalReport s;
  s.number = SIGSEGV;
  s.code = SEGV_MAPERR;
  s.fault_address = 0x7f0000001010;
  s.cause = "access to unmapped address 0x7f0000001010";
  r.signal = s;

  ThreadReport crashed;
  crashed.tid = 4243;
  crashed.name = "worker\x1b]0;title\x07";
  crashed.state = "R";
  crashed.crashed = true;
  const Arch& x86_64 = arch(ArchId::x86_64);
  for (uint8_t i : x86_64.display_order) {
    Reg reg = static_cast<Reg>(i);
    uint64_t v = 0x1000 + static_cast<uint64_t>(reg);
    if (reg == Reg::rip) v = 0x55550000123a;
    if (reg == Reg::rsp) v = 0x7ffc00001230;
    crashed.registers.push_back({std::string(register_name(reg)), v});
  }
  Frame f0;
  f0.pc = 0x55550000123a;
  f0.module = "/opt/demo/bin/demo";
  f0.module_offset = 0x123a;
  f0.build_id = "0123456789abcdef0123456789abcdef01234567";
  f0.function = "write_through";
  f0.function_offset = 0x1a;
  f0.file = "/src/demo/crash\nfile.c";
  f0.line = 42;
  f0.method = FrameMethod::context;
  Frame f1;  // inlined into the next
  f1.pc = 0x555500001300;
  f1.module = f0.module;
  f1.function = "inlined_helper";
  f1.method = FrameMethod::inlined;
  Frame f2;  // nothing known
  f2.pc = 0x4141414141414141;
  f2.method = FrameMethod::frame_pointer;
  crashed.frames = {f0, f1, f2};
  crashed.unwind_stopped = "no pc: unreadable stack at 0x4141414141414141";
  r.threads.push_back(crashed);

  ThreadReport parked;
  parked.tid = 4242;
  parked.name = "demo";
  parked.state = "S";
  for (uint8_t i : x86_64.display_order) parked.registers.push_back({std::string(x86_64.registers[i]), 7});
  Frame p0;
  p0.pc = 0x7f0000002000;
  p0.module = "/usr/lib/x86_64-linux-gnu/libc.so.6";
  p0.module_offset = 0x2000;
  p0.function = "pause";
  p0.function_offset = 0x10;
  parked.frames = {p0};
  r.threads.push_back(parked);

  ThreadReport no_regs;  // listed by /proc, no registers
  no_regs.tid = 4244;
  no_regs.unwind_stopped = "no registers for this thread";
  r.threads.push_back(no_regs);

  MemoryDump d;
  d.label = "rsp";
  d.address = 0x7ffc00001230;
  d.start = 0x7ffc00001210;
  for (int i = 0; i < 40; ++i) d.bytes.push_back(static_cast<uint8_t>(i == 5 ? 0x1b : 'A' + i % 26));
  r.memory_near_registers.push_back(d);

  Instruction i0;
  i0.address = 0x555500001236;
  i0.bytes = {0x48, 0x89, 0xe5, 0x90};
  i0.text = "movq %rsp, %rbp";
  Instruction i1;
  i1.address = 0x55550000123a;
  i1.bytes = {0xc7, 0x07, 0x2a, 0x00, 0x00, 0x00};
  i1.text = "movl $0x2a, (%rdi)";
  i1.faulting = true;
  r.disassembly = {i0, i1};

  proc::MapEntry m0{0x555500000000, 0x555500002000, "r-xp", 0, "fe:00", 123, "/opt/demo/bin/demo"};
  proc::MapEntry m1{0x7f0000000000, 0x7f0000001000, "rw-p", 0, "00:00", 0, ""};
  proc::MapEntry m2{0x7f0000002000, 0x7f0000003000, "r-xp", 0x26000, "fe:00", 456, "/lib/" + kHostile};
  proc::MapEntry m3{0x7ffc00000000, 0x7ffc00002000, "rw-p", 0, "00:00", 0, "[stack]"};
  r.maps = {m0, m1, m2, m3};
  r.open_files = {{0, "/dev/null"}, {1, "pipe:[123]"}, {7, "/tmp/" + kHostile}};
  r.kernel_stack = {"pipe_write+0x4a6/0x6a0", "elf_core_dump+0x9c4/0xd10"};
  r.truncated = {"maps: kept the first 4", "thread 4243: frames cut at 3"};
  r.problems = {"module /lib/x: not an ELF file"};
  r.collection_ms = 12.5;
  return r;
}

}  // namespace usercrash::test
