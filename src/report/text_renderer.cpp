#include <algorithm>

#include <fmt/format.h>

#include "engine/signal_names.h"
#include "report/render.h"
#include "util/escape.h"

namespace usercrash::report {
namespace {

using engine::Frame;
using engine::FrameMethod;
using engine::Report;
using util::escape_text;

constexpr const char* kBanner = "*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***";

std::string hex_address(uint64_t v) { return fmt::format("0x{:016x}", v); }

std::string frame_line(size_t index, const Frame& f) {
  std::string line = fmt::format("#{:02} pc {}", index, hex_address(f.pc));
  if (f.module) {
    line += ' ' + escape_text(*f.module);
    if (f.module_offset) line += fmt::format("+0x{:x}", *f.module_offset);
  } else {
    line += " ??";
  }
  if (f.function) {
    line += " (" + escape_text(*f.function);
    if (f.function_offset) line += fmt::format("+0x{:x}", *f.function_offset);
    line += ')';
  } else {
    line += " (?\?)";
  }
  if (f.file) {
    line += " (" + escape_text(*f.file);
    if (f.line) line += fmt::format(":{}", *f.line);
    line += ')';
  }
  if (f.build_id) line += " (BuildId: " + *f.build_id + ')';
  if (f.method == FrameMethod::inlined) line += " [inlined]";
  if (f.method == FrameMethod::frame_pointer) line += " [frame pointer]";
  if (f.method == FrameMethod::stack) line += " [return address on the stack]";
  if (f.method == FrameMethod::signal) line += " [signal frame]";
  if (f.resymbolized) line += " [symbolized]";
  return line;
}

void append_frames(std::string& out, const engine::ThreadReport& t) {
  for (size_t i = 0; i < t.frames.size(); ++i) out += "    " + frame_line(i, t.frames[i]) + '\n';
  if (t.frames.empty() && !t.unwind_stopped) out += "    (no frames)\n";
  if (t.unwind_stopped) out += "    (backtrace stopped: " + escape_text(*t.unwind_stopped) + ")\n";
}

std::string thread_title(const engine::ThreadReport& t) {
  std::string s = fmt::format("tid {}", t.tid);
  if (t.name) s += fmt::format(", name: {}", escape_text(*t.name));
  if (t.state) s += fmt::format(", state: {}", thread_state_name(*t.state));
  if (t.crashed) s += " (crashed)";
  return s;
}

// The report's architecture; reports from before it was recorded are x86_64.
const engine::Arch& arch_of(const Report& r) {
  const engine::Arch* a = engine::arch_by_name(r.arch);
  return a ? *a : engine::arch(engine::ArchId::x86_64);
}

void append_registers(std::string& out, const engine::ThreadReport& t, const engine::Arch& arch) {
  size_t column = 0;
  const size_t digits = arch.register_size * 2;
  for (const auto& r : t.registers) {
    out += fmt::format("{}{:>8} 0x{:0{}x}", column == 0 ? "   " : "", r.name, r.value, digits);
    if (++column == 3) {
      out += '\n';
      column = 0;
    }
  }
  if (column) out += '\n';
}

void append_memory(std::string& out, const engine::MemoryDump& d) {
  out += fmt::format("\nMemory near {} ({}):\n", d.label, hex_address(d.address));
  for (size_t off = 0; off < d.bytes.size(); off += 16) {
    std::string hex, ascii;
    for (size_t i = 0; i < 16; ++i) {
      if (off + i < d.bytes.size()) {
        uint8_t b = d.bytes[off + i];
        hex += fmt::format("{:02x} ", b);
        ascii += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
      } else {
        hex += "   ";
      }
      if (i == 7) hex += ' ';
    }
    out += fmt::format("    {:016x}  {} |{}|\n", d.start + off, hex, ascii);
  }
}

void append_maps(std::string& out, const Report& r) {
  std::optional<uint64_t> fault;
  if (r.signal && r.signal->fault_address) fault = r.signal->fault_address;
  bool marked = false;
  for (size_t i = 0; i < r.maps.size(); ++i) {
    const auto& m = r.maps[i];
    if (fault && !marked && *fault < m.start) {
      out += fmt::format("--->Fault address falls at {} {}\n", hex_address(*fault),
                         i == 0 ? "before the first mapping" : "between mappings");
      marked = true;
    }
    bool here = fault && !marked && m.contains(*fault);
    if (here) marked = true;
    out += fmt::format("{}{:016x}-{:016x} {} {:08x} {} {}", here ? "--->" : "    ", m.start, m.end, m.perms, m.offset,
                       m.device, m.inode);
    if (!m.path.empty()) out += "  " + escape_text(m.path);
    out += '\n';
  }
  if (fault && !marked)
    out += fmt::format("--->Fault address falls at {} after the last mapping\n", hex_address(*fault));
}

// What became of the core (save_core), in one line.
std::string core_line(const engine::CoreOutcome& core) {
  if (!core.saved) return "\nCore: not saved: " + escape_text(core.error) + "\n";
  return fmt::format("\nCore: saved beside this report (.core.zst): {} bytes of core, {} compressed{}\n", core.bytes,
                     core.compressed_bytes, core.truncated ? ", cut at max_core_size" : "");
}

// How the engine was confined, in one line.
std::string sandbox_line(const engine::Confinement& c) {
  std::string how;
  for (auto [on, name] : {std::pair{c.no_new_privs, "no_new_privs"}, {c.seccomp, "seccomp"}, {c.landlock, "landlock"}})
    if (on) how += std::string(how.empty() ? ", " : " ") + name;
  return fmt::format("(backtraces built as uid {} ({}), gid {}{})\n", c.uid, escape_text(c.user), c.gid, how);
}

// One block per thread: its title and its frames, nothing else.
std::string brief_text(const Report& r) {
  std::string out;
  for (const auto& t : r.threads) {
    out += "TID " + std::to_string(t.tid);
    if (t.name) out += " (" + escape_text(*t.name) + ")";
    out += ":\n";
    for (size_t i = 0; i < t.frames.size(); ++i) out += frame_line(i, t.frames[i]) + '\n';
    if (t.unwind_stopped) out += "(backtrace stopped: " + escape_text(*t.unwind_stopped) + ")\n";
  }
  return out;
}

// What usercrashctl symbolize did: each module's debug file, or why none.
void append_symbolized(std::string& out, const engine::Symbolization& s) {
  out +=
      fmt::format("symbolized: {}, {} frames changed (marked [symbolized])\n", iso8601_utc(s.time), s.frames_changed);
  for (const auto& m : s.modules) {
    out += fmt::format("    {} {}: ", escape_text(m.build_id), m.module ? escape_text(*m.module) : "?");
    if (m.debug_file) out += fmt::format("{} ({})", escape_text(*m.debug_file), m.source.value_or("?"));
    else out += "no debug file";
    if (m.problem) out += " - " + escape_text(*m.problem);
    out += '\n';
  }
}

// Who crashed: the banner, the process, its thread, owner, program and host.
void append_identity(std::string& out, const Report& r, const engine::ThreadReport* crashed) {
  out += kBanner;
  out += '\n';
  out +=
      fmt::format("pid: {}, tgid: {}, comm: {}\n", r.pid, r.tgid ? std::to_string(*r.tgid) : "?", escape_text(r.comm));
  if (r.namespace_pid) out += fmt::format("pid in its namespace: {}\n", *r.namespace_pid);
  if (crashed) {
    out += fmt::format("thread: {}, tid: {}\n", crashed->name ? escape_text(*crashed->name) : "?", crashed->tid);
  }
  out += fmt::format("uid: {}, gid: {}\n", r.uid ? std::to_string(*r.uid) : "?", r.gid ? std::to_string(*r.gid) : "?");
  if (r.exe) out += "exe: " + escape_text(*r.exe) + '\n';
  if (r.exe_build_id) out += "build id: " + escape_text(*r.exe_build_id) + '\n';
  if (!r.cmdline.empty()) {
    std::string cmd;
    for (const auto& a : r.cmdline) cmd += (cmd.empty() ? "" : " ") + escape_text(a);
    out += "cmdline: " + cmd + '\n';
  }
  out += "time: " + (r.time ? iso8601_utc(*r.time) : std::string("unknown (the core does not say)")) + '\n';
  out += "id: " + escape_text(r.id) + '\n';
  if (r.kernel || r.hostname)
    out += fmt::format("kernel: {}, host: {}\n", r.kernel ? escape_text(*r.kernel) : "?",
                       r.hostname ? escape_text(*r.hostname) : "?");
  out += "source: " + r.source + '\n';
  if (r.symbolized) append_symbolized(out, *r.symbolized);
}

// Why it crashed: the signal, the abort message, the uncaught exception.
void append_cause(std::string& out, const Report& r) {
  if (r.signal) {
    const auto& s = *r.signal;
    if (s.code_known)
      out += fmt::format("signal: {} ({}), code: {} ({})", s.number, engine::signal_name(s.number), s.code,
                         engine::signal_code_name(s.number, s.code, arch_of(r).id));
    else
      out += fmt::format("signal: {} ({}), code: unknown (the core carries no siginfo)", s.number,
                         engine::signal_name(s.number));
    if (s.fault_address) out += ", fault addr: " + hex_address(*s.fault_address);
    out += '\n';
    if (s.sender_pid) out += fmt::format("sent by: pid {}, uid {}\n", *s.sender_pid, s.sender_uid.value_or(0));
    if (s.cause) out += "cause: " + escape_text(*s.cause) + '\n';
  } else {
    out += "signal: none (live process)\n";
  }
  if (r.abort_message) out += "abort message: '" + escape_text(*r.abort_message) + "'\n";
  if (r.uncaught_exception) {
    const auto& e = *r.uncaught_exception;
    out += "uncaught exception: " + escape_text(e.type);
    if (e.message) out += ", what(): '" + escape_text(*e.message) + "'";
    out += "\n    (" + escape_text(e.source) + ")\n";
  }
  if (r.signature) out += "signature: " + escape_text(*r.signature) + '\n';
  if (r.secure) out += "note: setuid/setgid or non-dumpable process; report is root-only\n";
}

// Where it crashed: the crashing thread's registers and backtrace, the memory
// the registers point at and the code around the pc.
void append_crash_site(std::string& out, const Report& r, const engine::ThreadReport* crashed) {
  if (crashed && !crashed->registers.empty()) {
    out += "\nRegisters:\n";
    append_registers(out, *crashed, arch_of(r));
  }
  out += "\nBackTrace:\n";
  if (crashed) append_frames(out, *crashed);
  else out += "    (no thread registers)\n";

  for (const auto& d : r.memory_near_registers) append_memory(out, d);
  if (!r.disassembly.empty()) {
    out += fmt::format("\nCode around {}:\n", arch_of(r).pc_name());
    for (const auto& i : r.disassembly) {
      std::string bytes;
      for (uint8_t b : i.bytes) bytes += fmt::format("{:02x} ", b);
      out += fmt::format("{}{:016x}:  {:<24} {}\n", i.faulting ? "--->" : "    ", i.address, bytes, i.text);
    }
  }
}

// The list of threads, then every other thread's backtrace.
void append_threads(std::string& out, const Report& r) {
  out += fmt::format("\nThreads ({}):\n", r.threads.size());
  for (const auto& t : r.threads) out += "    " + thread_title(t) + '\n';
  out += "\nThreads backtrace:\n";
  for (size_t i = 1; i < r.threads.size(); ++i) {
    out += "\n--- " + thread_title(r.threads[i]) + " ---\n";
    append_frames(out, r.threads[i]);
  }
}

// A titled section of escaped lines, left out when `only_if_any` and empty.
void append_lines(std::string& out, const char* title, const std::vector<std::string>& lines, bool only_if_any) {
  if (only_if_any && lines.empty()) return;
  out += fmt::format("\n{}:\n", title);
  for (const auto& l : lines) out += "    " + escape_text(l) + '\n';
}

// The process's state: kernel stack, maps, open files, environment; then what
// the collection left out or failed at, the core, and how it ran.
void append_process_state(std::string& out, const Report& r) {
  append_lines(out, "Stack", r.kernel_stack, false);
  out += "\nMaps:\n";
  append_maps(out, r);
  out += "\nOpen files:\n";
  for (const auto& f : r.open_files) out += fmt::format("    {} -> {}\n", f.fd, escape_text(f.path));
  if (r.environment) append_lines(out, "Environment", *r.environment, false);
  append_lines(out, "Truncated", r.truncated, true);
  append_lines(out, "Problems", r.problems, true);
  if (r.core) out += core_line(*r.core);
  if (r.collection_ms) out += fmt::format("\n(collected in {:.1f} ms)\n", *r.collection_ms);
  if (r.sandbox) out += sandbox_line(*r.sandbox);
}

// Cuts `out` to `max_bytes` (on a UTF-8 boundary), a note saying so at its end.
void cut_to(std::string& out, size_t max_bytes) {
  if (out.size() <= max_bytes) return;
  std::string note = fmt::format("\n*** report cut at {} bytes (max_report_size) ***\n", max_bytes);
  size_t keep = max_bytes > note.size() ? max_bytes - note.size() : 0;
  out.resize(util::utf8_prefix(out, keep).size());  // names may be UTF-8
  out += note;
}

}  // namespace

std::string thread_state_name(const std::string& letter) {
  if (letter.size() != 1) return escape_text(letter);
  switch (letter[0]) {
    case 'R': return "R (running)";
    case 'S': return "S (sleeping)";
    case 'D': return "D (disk sleep)";
    case 'T': return "T (stopped)";
    case 't': return "t (tracing stop)";
    case 'Z': return "Z (zombie)";
    case 'X': return "X (dead)";
    case 'I': return "I (idle)";
    case 'P': return "P (parked)";
    default: return escape_text(letter);
  }
}

std::string render_text(const Report& r, const RenderOptions& options) {
  if (options.brief) return brief_text(r);
  std::string out;
  out.reserve(64 * 1024);
  const engine::ThreadReport* crashed = r.threads.empty() ? nullptr : &r.threads.front();
  append_identity(out, r, crashed);
  append_cause(out, r);
  append_crash_site(out, r, crashed);
  append_threads(out, r);
  append_process_state(out, r);
  cut_to(out, options.max_bytes);
  return out;
}

}  // namespace usercrash::report
