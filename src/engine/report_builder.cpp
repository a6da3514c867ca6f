#include "engine/report_builder.h"

#include <elf.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "engine/cxx_exception.h"
#include "engine/disassembler.h"
#include "engine/memory_cache.h"
#include "engine/signal_frame.h"
#include "engine/signal_names.h"
#include "engine/signature.h"
#include "engine/unwinder.h"
#include "util/path_names.h"
#include "util/phase_trace.h"

namespace usercrash::engine {
namespace {

using Clock = std::chrono::steady_clock;

// Memory shown around a register: the seed's window.
constexpr uint64_t kMemoryBefore = 0x20;
constexpr uint64_t kMemoryAfter = 0xc0;
// Code read around pc for disassembly.
constexpr uint64_t kCodeBefore = 64;
constexpr uint64_t kCodeAfter = 64;
// glibc's abort message is a page or two; more is a forgery.
constexpr size_t kMaxAbortMessage = 4096;
// Addresses this low are a NULL pointer plus a field offset.
constexpr uint64_t kNullPageLimit = 0x10000;
// Linux keeps this gap below a growing stack (stack_guard_gap, 256 pages).
constexpr uint64_t kStackGuardGap = 256 * 4096;

const proc::MapEntry* find_mapping(const std::vector<proc::MapEntry>& maps, uint64_t address) {
  auto it = std::upper_bound(maps.begin(), maps.end(), address,
                             [](uint64_t a, const proc::MapEntry& m) { return a < m.start; });
  if (it == maps.begin()) return nullptr;
  --it;
  return it->contains(address) ? &*it : nullptr;
}

std::optional<std::string> read_abort_message(Unwinder& unwinder, MemoryCache& memory, const Arch& arch) {
  auto symbol = unwinder.find_symbol("__abort_msg", "libc.so");
  if (!symbol) return std::nullopt;
  uint64_t pointer = 0;
  if (!memory.read_word(*symbol, pointer, arch.word_size) || pointer == 0) return std::nullopt;
  // struct abort_msg_s { unsigned int size; char msg[]; }
  uint32_t size = 0;
  std::byte header[4];
  if (memory.read(pointer, header) != sizeof header) return std::nullopt;
  std::memcpy(&size, header, sizeof size);
  size_t want = std::min<size_t>(size > 4 ? size - 4 : kMaxAbortMessage, kMaxAbortMessage);
  std::vector<std::byte> text(want);
  size_t got = memory.read(pointer + 4, text);
  std::string msg(reinterpret_cast<const char*>(text.data()), got);
  msg.resize(strnlen(msg.data(), msg.size()));
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (msg.empty()) return std::nullopt;
  return msg;
}

// A likely cause in one line, from the signal, the registers and the maps.
std::optional<std::string> likely_cause(const SignalReport& sig, const Registers* regs,
                                        const std::vector<proc::MapEntry>& maps, MemoryCache& memory,
                                        const std::optional<std::string>& abort_message, pid_t pid) {
  uint64_t addr = sig.fault_address.value_or(0);
  uint64_t pc = regs ? regs->pc() : 0;
  uint64_t sp = regs ? regs->sp() : 0;
  switch (sig.number) {
    case SIGSEGV: {
      if (!sig.fault_address) break;
      const proc::MapEntry* at = find_mapping(maps, addr);
      if (regs && addr == pc) {
        if (pc == 0) return "call through a null function pointer";
        if (!at)
          return fmt::format("jump to unmapped address 0x{:x} (corrupt function pointer or return address?)", pc);
        if (!at->executable()) return fmt::format("execution of non-executable memory ({} mapping)", at->perms);
      }
      if (regs) {
        const proc::MapEntry* sp_map = find_mapping(maps, sp);
        bool sp_ok = sp_map && sp_map->writable();
        // The fault lies in a guard area just below a stack, or sp itself left every writable mapping.
        for (const auto& m : maps) {
          if (!m.writable() || !(m.path == "[stack]" || m.contains(sp))) continue;
          if (addr < m.start && m.start - addr <= kStackGuardGap && (!at || !at->readable()))
            return "stack overflow (fault just below the stack)";
        }
        if (!sp_ok && sp != 0 && (addr >= sp - 0x10000 && addr <= sp + 0x10000))
          return "stack overflow (stack pointer outside any writable mapping)";
      }
      if (addr < kNullPageLimit)
        return addr == 0 ? "null-pointer dereference" : fmt::format("null-pointer dereference (offset 0x{:x})", addr);
      if (!at) return fmt::format("access to unmapped address 0x{:x}", addr);
      if (sig.code == 2 /* SEGV_ACCERR */) {
        if (!at->writable() && at->readable()) return fmt::format("write to read-only memory ({} mapping)", at->perms);
        return fmt::format("access not permitted by the mapping ({})", at->perms);
      }
      break;
    }
    case SIGBUS: {
      const proc::MapEntry* at = sig.fault_address ? find_mapping(maps, addr) : nullptr;
      if (sig.code == 2 /* BUS_ADRERR */ && at && at->file_backed())
        return "access beyond the end of a mapped file (was the file truncated?)";
      if (sig.code == 1 /* BUS_ADRALN */) return "misaligned access";
      break;
    }
    case SIGFPE:
      if (sig.code == 1 /* FPE_INTDIV */) return "integer division by zero";
      if (sig.code == 2 /* FPE_INTOVF */) return "integer overflow (INT_MIN / -1?)";
      break;
    case SIGILL: {
      if (!regs) return "illegal instruction";
      const TrapInstruction& trap = regs->arch().trap;
      std::byte insn[4];
      bool is_trap = memory.read(pc, std::span(insn, trap.size)) == trap.size;
      for (size_t i = 0; is_trap && i < trap.size; ++i)
        is_trap = (static_cast<uint8_t>(insn[i]) & trap.mask[i]) == trap.value[i];
      if (is_trap) return std::string(trap.cause);
      return "illegal instruction";
    }
    case SIGABRT:
      if (abort_message) {
        if (abort_message->find("Assertion") != std::string::npos) return "assertion failed";
        return "abort() with a message";
      }
      if (sig.sender_pid && *sig.sender_pid == pid) return "abort() called";
      break;
    default: break;
  }
  if (sig.sender_pid && signal_sent_by_process(sig.code)) {
    if (*sig.sender_pid == pid) return "raised by the process itself";
    return fmt::format("sent by pid {} (uid {})", *sig.sender_pid, sig.sender_uid.value_or(0));
  }
  return std::nullopt;
}

void dump_memory_near_registers(const Registers& regs, const std::vector<proc::MapEntry>& maps, MemoryCache& memory,
                                Report& report) {
  const Arch& arch = regs.arch();
  for (uint8_t r : arch.general_purpose) {
    uint64_t value = arch.pointer(regs.values[r]);
    std::string_view name = arch.registers[r];
    // Registers holding the same address share one dump ("rbp/rsp").
    auto same = std::find_if(report.memory_near_registers.begin(), report.memory_near_registers.end(),
                             [&](const MemoryDump& d) { return d.address == value; });
    if (same != report.memory_near_registers.end()) {
      same->label += "/" + std::string(name);
      continue;
    }
    const proc::MapEntry* m = find_mapping(maps, value);
    if (!m || !m->readable()) continue;
    uint64_t start = value >= m->start + kMemoryBefore ? value - kMemoryBefore : m->start;
    start &= ~uint64_t{0xf};
    if (start < m->start) start = m->start;
    uint64_t end = std::min(m->end, value + kMemoryAfter);
    if (end <= start) continue;
    MemoryDump d;
    d.label = std::string(name);
    d.address = value;
    d.start = start;
    d.bytes.resize(end - start);
    size_t got = memory.read(start, std::as_writable_bytes(std::span(d.bytes)));
    d.bytes.resize(got);
    if (!d.bytes.empty()) report.memory_near_registers.push_back(std::move(d));
  }
}

void disassemble_pc(const Registers& regs, const std::vector<proc::MapEntry>& maps, MemoryCache& memory,
                    std::optional<uint64_t> function_start, Report& report) {
  util::trace::Span span(util::trace::Cost::disassembly);
  uint64_t pc = regs.pc();
  const Arch& arch = regs.arch();
  const proc::MapEntry* m = find_mapping(maps, pc);
  if (!m || !m->readable()) {
    report.problems.push_back(fmt::format("code around {}: 0x{:x} is not in readable memory", arch.pc_name(), pc));
    return;
  }
  uint64_t start = std::max(m->start, pc >= kCodeBefore ? pc - kCodeBefore : 0);
  if (function_start && *function_start >= m->start && *function_start < start && pc - *function_start <= 4096)
    start = *function_start;
  uint64_t end = std::min(m->end, pc + kCodeAfter);
  std::vector<uint8_t> code(end - start);
  code.resize(memory.read(start, std::as_writable_bytes(std::span(code))));
  if (code.empty()) {
    report.problems.push_back(fmt::format("code around {}: 0x{:x} could not be read", arch.pc_name(), pc));
    return;
  }
  if (auto why = load_disassembler()) {
    report.problems.push_back(fmt::format("code around {}: no disassembler: {}", arch.pc_name(), *why));
    return;
  }
  report.disassembly = disassemble_around(arch.id, code, start, pc, function_start);
  if (report.disassembly.empty())
    report.problems.push_back(fmt::format("code around {}: could not be decoded", arch.pc_name()));
}

// The executable's build-id: from a frame in it when there is one (no
// lookup), else from its module.
std::optional<std::string> exe_build_id(const Report& r, Unwinder* unwinder) {
  if (!r.exe) return std::nullopt;
  std::string exe = util::without_deleted_mark(*r.exe);
  for (const auto& t : r.threads)
    for (const auto& f : t.frames)
      if (f.module == exe && f.build_id) return f.build_id;
  return unwinder ? unwinder->module_build_id(exe) : std::nullopt;
}

// After std::terminate: which exception, in the cause line and the report.
void name_uncaught_exception(Unwinder& unwinder, MemoryCache& memory, const ThreadRegisters& crashed, Report& r) {
  if (!called_terminate(r.threads.front().frames)) return;
  auto read = read_uncaught_exception(unwinder, memory, crashed.regs.get(Reg::fs_base), crashed.tid);
  if (!read) {
    r.problems.push_back("uncaught exception: " + read.error().message);
    return;
  }
  if (!*read) {
    r.signal->cause = "std::terminate called without an active exception";
    return;
  }
  const UncaughtException& e = (*read)->exception;
  r.signal->cause = "uncaught exception: " + e.type + (e.message ? ": " + *e.message : "");
  if ((*read)->cut) r.truncated.push_back(*(*read)->cut);
  r.uncaught_exception = e;
}

}  // namespace

std::optional<std::string> secure_reason(const ProcessFacts& f) {
  for (const auto& a : f.auxv)
    if (a.type == AT_SECURE && a.value != 0)
      return "AT_SECURE is set in its aux vector (setuid, setgid or file capabilities)";
  if (f.uid && f.euid && *f.uid != *f.euid) return fmt::format("its uid {} differs from its euid {}", *f.uid, *f.euid);
  if (f.gid && f.egid && *f.gid != *f.egid) return fmt::format("its gid {} differs from its egid {}", *f.gid, *f.egid);
  if (f.dumpable && !*f.dumpable) return "the kernel marked it not dumpable";
  return std::nullopt;
}

bool is_secure_process(const ProcessFacts& f) { return secure_reason(f).has_value(); }

namespace {

// What the target knows of the process, copied into the report; the time of
// the crash, for a process at hand now. A core read later has none of its
// own: the report says so rather than give today's.
void copy_facts(const Target& target, const ProcessFacts& f, const CollectOptions& options, Report& r) {
  r.source = target.kind();
  r.arch = std::string(arch(target.arch()).name);
  r.pid = f.pid;
  r.tgid = f.tgid;
  r.namespace_pid = f.namespace_pid;
  r.uid = f.uid;
  r.gid = f.gid;
  r.comm = f.comm;
  r.exe = f.exe;
  r.cmdline = f.cmdline;
  r.environment = f.environment;
  if (options.time) r.time = options.time;
  else if (f.crash_time) r.time = f.crash_time;
  else if (target.kind() != "core_file") r.time = static_cast<int64_t>(std::time(nullptr));
  r.kernel = f.kernel;
  r.hostname = f.hostname;
  r.maps = target.mappings();
  r.open_files = f.open_files;
  r.kernel_stack = f.kernel_stack;
  r.truncated = f.truncated;
  r.problems = f.problems;
}

UnwindOptions unwind_options(const CollectOptions& options) {
  UnwindOptions uo;
  uo.max_frames = options.max_frames;
  uo.source_lines = options.source_lines;
  uo.debuginfo_path = options.debuginfo_path;
  uo.warm = options.warm;
  uo.deadline = options.deadline;
  return uo;
}

// The signal the target reports, with the fields its code makes meaningful
// and a likely cause; none for a process that did not crash.
std::optional<SignalReport> signal_report(Target& target, const ProcessFacts& f, MemoryCache& memory, const Report& r) {
  auto s = target.signal();
  if (!s) return std::nullopt;
  const auto& threads = target.threads();
  SignalReport sig;
  sig.number = s->signo;
  sig.code = s->code;
  sig.code_known = s->code_known;
  if (s->code_known && signal_has_fault_address(s->signo, s->code)) sig.fault_address = s->address;
  if (s->code_known && signal_sent_by_process(s->code)) {
    sig.sender_pid = s->sender_pid;
    sig.sender_uid = s->sender_uid;
  }
  sig.cause = likely_cause(sig, threads.empty() ? nullptr : &threads.front().regs, r.maps, memory, r.abort_message,
                           f.namespace_pid.value_or(f.pid));
  return sig;
}

const proc::ThreadInfo* info_for(const ProcessFacts& f, pid_t tid) {
  for (const auto& t : f.thread_info)
    if (t.tid == tid) return &t;
  return nullptr;
}

// Every thread with registers, up to max_threads: its name, state, registers
// and (unless the time budget is spent) backtrace.
void add_threads(const std::vector<ThreadRegisters>& threads, const ProcessFacts& f, const CollectOptions& options,
                 Unwinder* unwinder, Report& r) {
  size_t count = std::min(threads.size(), options.max_threads);
  if (threads.size() > count) r.truncated.push_back(fmt::format("threads: {} of {} unwound", count, threads.size()));
  bool budget_noted = false;
  for (size_t i = 0; i < count; ++i) {
    const ThreadRegisters& t = threads[i];
    ThreadReport tr;
    tr.tid = t.tid;
    tr.crashed = (i == 0) && r.signal.has_value();
    if (const auto* info = info_for(f, t.tid)) {
      tr.name = info->name;
      tr.state = info->state;
    }
    const Arch& regs_arch = t.regs.arch();
    for (uint8_t reg : regs_arch.display_order)
      tr.registers.push_back({std::string(regs_arch.registers[reg]), t.regs.values[reg]});
    if (options.unwind && unwinder) {
      if (Clock::now() > options.deadline) {
        tr.unwind_stopped = "time budget exhausted before this thread";
        if (!budget_noted) r.truncated.push_back("backtraces: time budget exhausted");
        budget_noted = true;
      } else {
        Backtrace bt = unwinder->backtrace(t);
        tr.frames = std::move(bt.frames);
        tr.unwind_stopped = bt.stopped;
        if (bt.truncated) r.truncated.push_back(fmt::format("thread {}: frames cut at {}", t.tid, options.max_frames));
      }
    }
    r.threads.push_back(std::move(tr));
  }
}

// Threads /proc lists but the registers source did not (a live process
// where a thread could not be stopped): named, without a backtrace.
void add_threads_without_registers(const std::vector<ThreadRegisters>& threads, const ProcessFacts& f,
                                   size_t max_threads, Report& r) {
  for (const auto& info : f.thread_info) {
    bool seen =
        std::any_of(threads.begin(), threads.end(), [&](const ThreadRegisters& t) { return t.tid == info.tid; });
    if (seen || r.threads.size() >= max_threads) continue;
    ThreadReport tr;
    tr.tid = info.tid;
    tr.name = info.name;
    tr.state = info.state;
    tr.unwind_stopped = "no registers for this thread";
    r.threads.push_back(std::move(tr));
  }
}

// The Go runtime dumps core (GOTRACEBACK=crash) with SIGABRT while it
// panics on a fault: the fault is where its faked runtime.sigpanic call
// sits in the crashed thread's backtrace.
void name_go_fault(Report& r) {
  if (r.signal && r.signal->number == SIGABRT && !r.threads.empty())
    if (auto fault = faked_fault(r.threads.front().frames))
      r.signal->cause = "SIGABRT from the Go runtime, crashing on the panic it made of " + *fault +
                        " (runtime.sigpanic in the backtrace)";
}

// Where the crashed thread's function starts, from its physical frame #0:
// the last one at the first pc (inlined ones come first).
std::optional<uint64_t> crashed_function_start(const Report& r, const Registers& regs) {
  std::optional<uint64_t> function_start;
  if (r.threads.empty()) return function_start;
  for (const auto& fr : r.threads.front().frames) {
    if (fr.pc != regs.pc()) break;
    if (fr.method != FrameMethod::inlined && fr.function_offset && *fr.function_offset <= fr.pc)
      function_start = fr.pc - *fr.function_offset;
  }
  return function_start;
}

}  // namespace

Report build_report(Target& target, const CollectOptions& options) {
  auto started = Clock::now();
  const ProcessFacts& f = target.facts();
  Report r;
  copy_facts(target, f, options, r);
  // A source may learn of more while the report is built (a module file it
  // looked for when a frame needed it): those are added at the end.
  const size_t problems_known = f.problems.size();
  std::optional<std::string> secure = secure_reason(f);
  r.secure = secure.has_value();
  bool with_memory = options.include_memory && (!r.secure || options.dump_secure_memory);
  if (options.include_memory && !with_memory) r.problems.push_back("memory dumps left out: " + *secure);

  const auto& threads = target.threads();
  r.tid = threads.empty() ? f.pid : threads.front().tid;

  MemoryCache memory(target);
  std::optional<Unwinder> unwinder;
  util::trace::mark("engine_start");
  if (options.unwind || with_memory) unwinder.emplace(target, memory, unwind_options(options));
  util::trace::mark("modules_reported");

  if (with_memory && unwinder) r.abort_message = read_abort_message(*unwinder, memory, arch(target.arch()));
  r.signal = signal_report(target, f, memory, r);

  util::trace::mark("unwind");
  add_threads(threads, f, options, unwinder ? &*unwinder : nullptr, r);
  util::trace::mark("threads_unwound");
  add_threads_without_registers(threads, f, options.max_threads, r);

  if (with_memory && unwinder && r.signal && !r.threads.empty())
    name_uncaught_exception(*unwinder, memory, threads.front(), r);
  name_go_fault(r);

  if (!threads.empty() && with_memory) {
    const Registers& regs = threads.front().regs;
    dump_memory_near_registers(regs, r.maps, memory, r);
    disassemble_pc(regs, r.maps, memory, crashed_function_start(r, regs), r);
  }
  util::trace::mark("memory_and_code");
  for (size_t i = problems_known; i < target.facts().problems.size(); ++i)
    r.problems.push_back(target.facts().problems[i]);
  r.exe_build_id = exe_build_id(r, unwinder ? &*unwinder : nullptr);
  r.signature = crash_signature(r);
  if (unwinder)
    for (const auto& p : unwinder->problems()) r.problems.push_back(p);
  r.collection_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  util::trace::mark("report_built");
  return r;
}

}  // namespace usercrash::engine
