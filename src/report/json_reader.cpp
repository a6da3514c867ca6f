#include "report/json_reader.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "engine/arch.h"
#include "report/json_parts.h"

namespace usercrash::report {
namespace {

using engine::Report;
using nlohmann::json;

// Lenient getters: the value when it has the expected type, else nothing.
const json* field(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> text(const json& j, const char* key) {
  const json* v = field(j, key);
  return v && v->is_string() ? std::optional(v->get<std::string>()) : std::nullopt;
}

template <typename T>
std::optional<T> number(const json& j, const char* key) {
  const json* v = field(j, key);
  if (!v || !v->is_number_integer()) return std::nullopt;
  if (v->is_number_unsigned()) {
    auto n = v->get<uint64_t>();
    return std::in_range<T>(n) ? std::optional(static_cast<T>(n)) : std::nullopt;
  }
  auto n = v->get<int64_t>();
  return std::in_range<T>(n) ? std::optional(static_cast<T>(n)) : std::nullopt;
}

bool flag(const json& j, const char* key) {
  const json* v = field(j, key);
  return v && v->is_boolean() && v->get<bool>();
}

std::optional<uint64_t> parse_hex(std::string_view s) {
  if (!s.starts_with("0x") || s.size() < 3 || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> hex_field(const json& j, const char* key) {
  auto s = text(j, key);
  return s ? parse_hex(*s) : std::nullopt;
}

std::vector<uint8_t> bytes(const json& j, const char* key) {
  std::vector<uint8_t> out;
  auto s = text(j, key);
  for (size_t i = 0; s && i + 1 < s->size(); i += 2) {
    uint8_t b = 0;
    if (std::from_chars(s->data() + i, s->data() + i + 2, b, 16).ec != std::errc()) break;
    out.push_back(b);
  }
  return out;
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (const json* v = field(j, key); v && v->is_array())
    for (const auto& s : *v)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

// Each element of the array `key` that `one` makes something of.
template <typename T, typename F>
std::vector<T> each(const json& j, const char* key, F one) {
  std::vector<T> out;
  if (const json* v = field(j, key); v && v->is_array())
    for (const auto& e : *v)
      if (auto item = one(e)) out.push_back(std::move(*item));
  return out;
}

std::optional<int64_t> seconds_of(const std::optional<std::string>& iso) {
  tm t{};
  if (!iso) return std::nullopt;
  const char* end = strptime(iso->c_str(), "%Y-%m-%dT%H:%M:%SZ", &t);
  if (!end || *end) return std::nullopt;
  return static_cast<int64_t>(timegm(&t));
}

std::optional<engine::ThreadReport> thread_of(const json& t) {
  auto tid = number<pid_t>(t, "tid");
  if (!tid) return std::nullopt;
  engine::ThreadReport out;
  out.tid = *tid;
  out.name = text(t, "name");
  out.state = text(t, "state");
  out.crashed = flag(t, "crashed");
  out.unwind_stopped = text(t, "unwind_stopped");
  if (const json* regs = field(t, "registers"); regs && regs->is_object())
    for (const auto& [name, value] : regs->items())
      if (auto v = value.is_string() ? parse_hex(value.get<std::string>()) : std::nullopt)
        out.registers.push_back({name, *v});
  out.frames = each<engine::Frame>(t, "frames", [](const json& f) -> std::optional<engine::Frame> {
    auto frame = frame_from_json(f);
    return frame ? std::optional(std::move(*frame)) : std::nullopt;
  });
  return out;
}

void read_process(const json& j, Report& r) {
  r.version = number<int>(j, "version").value_or(r.version);
  r.id = text(j, "id").value_or("?");
  r.pid = number<pid_t>(j, "pid").value_or(0);
  r.tgid = number<pid_t>(j, "tgid");
  r.namespace_pid = number<pid_t>(j, "namespace_pid");
  r.tid = number<pid_t>(j, "tid").value_or(0);
  r.uid = number<uid_t>(j, "uid");
  r.gid = number<gid_t>(j, "gid");
  r.comm = text(j, "comm").value_or("?");
  r.exe = text(j, "exe");
  r.exe_build_id = text(j, "exe_build_id");
  r.signature = text(j, "signature");
  r.cmdline = strings(j, "cmdline");
  if (field(j, "environment")) r.environment = strings(j, "environment");
  r.time = seconds_of(text(j, "time"));
  r.kernel = text(j, "kernel");
  r.hostname = text(j, "hostname");
  r.source = text(j, "source").value_or("?");
  r.secure = flag(j, "secure");
  r.arch = text(j, "arch").value_or(r.arch);
  r.abort_message = text(j, "abort_message");
}

void read_cause(const json& j, Report& r) {
  if (const json* s = field(j, "signal")) {
    engine::SignalReport sig;
    sig.number = number<int>(*s, "number").value_or(0);
    auto code = number<int>(*s, "code");
    sig.code = code.value_or(0);
    sig.code_known = code.has_value();
    sig.fault_address = hex_field(*s, "fault_address");
    sig.sender_pid = number<pid_t>(*s, "sender_pid");
    sig.sender_uid = number<uid_t>(*s, "sender_uid");
    sig.cause = text(*s, "cause");
    r.signal = sig;
  }
  if (const json* e = field(j, "uncaught_exception"))
    r.uncaught_exception = engine::UncaughtException{text(*e, "type").value_or("?"), text(*e, "message"),
                                                     text(*e, "source").value_or("?")};
}

void read_memory(const json& j, Report& r) {
  r.memory_near_registers = each<engine::MemoryDump>(j, "memory_near_registers", [](const json& d) {
    return std::optional(engine::MemoryDump{text(d, "register").value_or("?"), hex_field(d, "address").value_or(0),
                                            hex_field(d, "start").value_or(0), bytes(d, "bytes")});
  });
  r.disassembly = each<engine::Instruction>(j, "disassembly", [](const json& i) {
    return std::optional(engine::Instruction{hex_field(i, "address").value_or(0), bytes(i, "bytes"),
                                             text(i, "instruction").value_or("?"), flag(i, "faulting")});
  });
  r.maps = each<proc::MapEntry>(j, "maps", [](const json& m) {
    return std::optional(proc::MapEntry{hex_field(m, "start").value_or(0), hex_field(m, "end").value_or(0),
                                        text(m, "perms").value_or("----"), hex_field(m, "offset").value_or(0),
                                        text(m, "device").value_or("?"), number<uint64_t>(m, "inode").value_or(0),
                                        text(m, "path").value_or("")});
  });
  r.open_files = each<proc::OpenFile>(j, "open_files", [](const json& f) {
    return std::optional(proc::OpenFile{number<int>(f, "fd").value_or(-1), text(f, "path").value_or("?")});
  });
  r.kernel_stack = strings(j, "kernel_stack");
}

void read_outcome(const json& j, Report& r) {
  r.truncated = strings(j, "truncated");
  r.problems = strings(j, "problems");
  if (const json* ms = field(j, "collection_ms"); ms && ms->is_number()) r.collection_ms = ms->get<double>();
  if (const json* s = field(j, "symbolized")) {
    engine::Symbolization sym;
    sym.time = seconds_of(text(*s, "time")).value_or(0);
    sym.frames_changed = number<size_t>(*s, "frames_changed").value_or(0);
    sym.modules = each<engine::SymbolizedModule>(*s, "modules", [](const json& m) {
      return std::optional(engine::SymbolizedModule{text(m, "build_id").value_or("?"), text(m, "module"),
                                                    text(m, "debug_file"), text(m, "source"), text(m, "problem")});
    });
    r.symbolized = std::move(sym);
  }
}

// The registers in the order a report prints them (a JSON object's keys
// come back sorted by name).
void order_registers(engine::ThreadReport& t, const engine::Arch& arch) {
  auto rank = [&](const engine::RegisterValue& r) {
    for (size_t i = 0; i < arch.display_order.size(); ++i)
      if (arch.registers[arch.display_order[i]] == r.name) return i;
    return arch.display_order.size();
  };
  std::stable_sort(t.registers.begin(), t.registers.end(),
                   [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
}

}  // namespace

util::Result<engine::Frame> frame_from_json(const json& f) {
  auto pc = hex_field(f, "pc");
  if (!pc) return util::fail("a frame without a pc of the form 0x...");
  engine::Frame out;
  out.pc = *pc;
  out.module = text(f, "module");
  out.module_offset = hex_field(f, "module_offset");
  out.build_id = text(f, "build_id");
  out.function = text(f, "function");
  out.function_offset = hex_field(f, "function_offset");
  out.file = text(f, "file");
  out.line = number<int>(f, "line");
  out.resymbolized = flag(f, "resymbolized");
  static constexpr std::pair<const char*, engine::FrameMethod> kMethods[] = {
      {"context", engine::FrameMethod::context},
      {"cfi", engine::FrameMethod::cfi},
      {"frame_pointer", engine::FrameMethod::frame_pointer},
      {"stack", engine::FrameMethod::stack},
      {"inlined", engine::FrameMethod::inlined},
      {"signal", engine::FrameMethod::signal}};
  auto method = text(f, "method");
  if (!method) return util::fail("a frame without a method");
  auto it = std::find_if(std::begin(kMethods), std::end(kMethods), [&](const auto& m) { return *method == m.first; });
  if (it == std::end(kMethods)) return util::fail("a frame of an unknown method");
  out.method = it->second;
  return out;
}

util::Result<engine::Report> report_from_json(const json& doc) {
  if (!doc.is_object() || !number<int>(doc, "version") || !field(doc, "threads"))
    return util::fail("not a usercrash report (no version or threads)");
  Report r;
  read_process(doc, r);
  read_cause(doc, r);
  r.threads = each<engine::ThreadReport>(doc, "threads", thread_of);
  if (const engine::Arch* arch = engine::arch_by_name(r.arch))
    for (auto& t : r.threads) order_registers(t, *arch);
  read_memory(doc, r);
  read_outcome(doc, r);
  return r;
}

}  // namespace usercrash::report
