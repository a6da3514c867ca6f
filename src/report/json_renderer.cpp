#include <algorithm>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/signal_names.h"
#include "report/json_parts.h"
#include "report/render.h"
#include "util/escape.h"

namespace usercrash::report {
namespace {

using engine::Report;
using nlohmann::json;
using util::to_valid_utf8;

std::string hex(uint64_t v) { return fmt::format("0x{:x}", v); }

template <typename T, typename F>
json optional_json(const std::optional<T>& v, F&& f) {
  return v ? json(f(*v)) : json(nullptr);
}

json string_or_null(const std::optional<std::string>& s) {
  return optional_json(s, [](const std::string& v) { return to_valid_utf8(v); });
}

const char* method_name(engine::FrameMethod m) {
  switch (m) {
    case engine::FrameMethod::context: return "context";
    case engine::FrameMethod::cfi: return "cfi";
    case engine::FrameMethod::frame_pointer: return "frame_pointer";
    case engine::FrameMethod::inlined: return "inlined";
    case engine::FrameMethod::stack: return "stack";
    case engine::FrameMethod::signal: return "signal";
  }
  return "?";
}

}  // namespace

json frame_json(const engine::Frame& f) {
  return json{
      {"pc", hex(f.pc)},
      {"module", string_or_null(f.module)},
      {"module_offset", optional_json(f.module_offset, hex)},
      {"build_id", string_or_null(f.build_id)},
      {"function", string_or_null(f.function)},
      {"function_offset", optional_json(f.function_offset, hex)},
      {"file", string_or_null(f.file)},
      {"line", optional_json(f.line, [](int l) { return l; })},
      {"method", method_name(f.method)},
      {"inlined", f.method == engine::FrameMethod::inlined},
      {"resymbolized", f.resymbolized},
  };
}

json symbolization_json(const engine::Symbolization& s) {
  json modules = json::array();
  for (const auto& m : s.modules)
    modules.push_back({{"build_id", m.build_id},
                       {"module", string_or_null(m.module)},
                       {"debug_file", string_or_null(m.debug_file)},
                       {"source", string_or_null(m.source)},
                       {"problem", string_or_null(m.problem)}});
  return {{"time", iso8601_utc(s.time)}, {"frames_changed", s.frames_changed}, {"modules", modules}};
}

namespace {

json thread_json(const engine::ThreadReport& t, bool with_frames) {
  json regs = json::object();
  for (const auto& r : t.registers) regs[r.name] = hex(r.value);
  json frames = json::array();
  if (with_frames)
    for (const auto& f : t.frames) frames.push_back(frame_json(f));
  return json{
      {"tid", t.tid},
      {"name", string_or_null(t.name)},
      {"state", string_or_null(t.state)},
      {"crashed", t.crashed},
      {"registers", t.registers.empty() ? json(nullptr) : regs},
      {"frames", frames},
      {"unwind_stopped", string_or_null(t.unwind_stopped)},
  };
}

std::string bytes_hex(const std::vector<uint8_t>& bytes) {
  std::string s;
  s.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) s += fmt::format("{:02x}", b);
  return s;
}

// Levels of detail, from everything down to the crashing thread alone, tried
// in order until the JSON fits max_bytes.
enum class Detail { full, no_memory, crashed_thread_only };

// Where build() leaves the long lists for dump() to fill in. A string of the
// report cannot end up matching `"maps": "<slot>"`: its quotes are escaped.
constexpr const char* kMapsSlot = "@usercrash:maps@";
constexpr const char* kFilesSlot = "@usercrash:open_files@";

json map_json(const proc::MapEntry& m) {
  return {{"start", hex(m.start)},        {"end", hex(m.end)},  {"perms", m.perms},
          {"offset", hex(m.offset)},      {"device", m.device}, {"inode", m.inode},
          {"path", to_valid_utf8(m.path)}};
}

json file_json(const proc::OpenFile& f) { return {{"fd", f.fd}, {"path", to_valid_utf8(f.path)}}; }

// `items` as a JSON array at depth 1 of the document, formatted as
// nlohmann's dump(indent) formats one, each entry built and dropped in turn.
template <typename T>
std::string dump_array(const std::vector<T>& items, json (*one)(const T&), int indent) {
  if (items.empty()) return "[]";
  const bool pretty = indent >= 0;
  const std::string inner(pretty ? 2 * static_cast<size_t>(indent) : 0, ' ');
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    if (pretty) out += '\n' + inner;
    // A serialized string never holds a raw newline: every line break is the
    // entry's own formatting, to be indented one level further.
    for (char c : one(items[i]).dump(indent, ' ', false, json::error_handler_t::replace)) {
      out += c;
      if (c == '\n') out += inner;
    }
  }
  if (pretty) out += '\n' + std::string(static_cast<size_t>(indent), ' ');
  return out + "]";
}

// The document as text, with the lists build() left slots for, each list
// serialized once and copied once.
std::string dump(const json& j, const Report& r, int indent) {
  std::string doc = j.dump(indent, ' ', false, json::error_handler_t::replace);
  const std::string colon = indent >= 0 ? ": " : ":";
  struct Fill {
    size_t at, size;
    std::string array;
  };
  std::vector<Fill> fills;
  auto find = [&](const char* key, const char* slot, auto make) {
    std::string value = fmt::format("\"{}\"", slot);
    size_t at = doc.find(fmt::format("\"{}\"{}{}", key, colon, value));
    if (at != std::string::npos) fills.push_back({at + std::strlen(key) + 2 + colon.size(), value.size(), make()});
  };
  find("maps", kMapsSlot, [&] { return dump_array(r.maps, map_json, indent); });
  find("open_files", kFilesSlot, [&] { return dump_array(r.open_files, file_json, indent); });
  if (fills.empty()) return doc;
  std::sort(fills.begin(), fills.end(), [](const Fill& a, const Fill& b) { return a.at < b.at; });
  size_t size = doc.size();
  for (const auto& f : fills) size += f.array.size() - f.size;
  std::string out;
  out.reserve(size);
  size_t from = 0;
  for (auto& f : fills) {
    out.append(doc, from, f.at - from);
    out += f.array;
    std::string().swap(f.array);
    from = f.at + f.size;
  }
  out.append(doc, from);
  return out;
}

// What became of the core (save_core): saved with its sizes, or why not.
json core_json(const engine::CoreOutcome& core) {
  if (!core.saved) return {{"saved", false}, {"error", to_valid_utf8(core.error)}};
  return {{"saved", true},
          {"bytes", core.bytes},
          {"compressed_bytes", core.compressed_bytes},
          {"truncated", core.truncated}};
}

// Strings from the process as a JSON array, each made valid UTF-8.
json string_array(const std::vector<std::string>& strings) {
  json a = json::array();
  for (const auto& s : strings) a.push_back(to_valid_utf8(s));
  return a;
}

// The signal that killed the process, or null (a live process).
json signal_json(const Report& r) {
  if (!r.signal) return nullptr;
  const auto& s = *r.signal;
  const engine::Arch* arch = engine::arch_by_name(r.arch);
  engine::ArchId arch_id = arch ? arch->id : engine::ArchId::x86_64;
  return json{
      {"number", s.number},
      {"name", engine::signal_name(s.number)},
      {"code", s.code_known ? json(s.code) : json(nullptr)},
      {"code_name", s.code_known ? json(engine::signal_code_name(s.number, s.code, arch_id)) : json(nullptr)},
      {"fault_address", optional_json(s.fault_address, hex)},
      {"sender_pid", optional_json(s.sender_pid, [](pid_t v) { return v; })},
      {"sender_uid", optional_json(s.sender_uid, [](uid_t v) { return v; })},
      {"cause", string_or_null(s.cause)},
  };
}

json uncaught_exception_json(const Report& r) {
  if (!r.uncaught_exception) return nullptr;
  const auto& e = *r.uncaught_exception;
  return json{{"type", to_valid_utf8(e.type)}, {"message", string_or_null(e.message)}, {"source", e.source}};
}

json sandbox_json(const engine::Confinement& c) {
  return json{{"user", to_valid_utf8(c.user)},  {"uid", c.uid},         {"gid", c.gid},
              {"no_new_privs", c.no_new_privs}, {"seccomp", c.seccomp}, {"landlock", c.landlock}};
}

// Who crashed and where: ids, owner, program, time, host, architecture.
void add_process(json& j, const Report& r) {
  j["version"] = r.version;
  j["id"] = r.id;
  j["pid"] = r.pid;
  j["tgid"] = optional_json(r.tgid, [](pid_t v) { return v; });
  j["namespace_pid"] = optional_json(r.namespace_pid, [](pid_t v) { return v; });
  j["tid"] = r.tid;
  j["uid"] = optional_json(r.uid, [](uid_t v) { return v; });
  j["gid"] = optional_json(r.gid, [](gid_t v) { return v; });
  j["comm"] = to_valid_utf8(r.comm);
  j["exe"] = string_or_null(r.exe);
  j["exe_build_id"] = string_or_null(r.exe_build_id);
  j["signature"] = string_or_null(r.signature);
  j["cmdline"] = string_array(r.cmdline);
  if (r.environment) j["environment"] = string_array(*r.environment);
  j["time"] = r.time ? json(iso8601_utc(*r.time)) : json(nullptr);
  j["kernel"] = string_or_null(r.kernel);
  j["hostname"] = string_or_null(r.hostname);
  j["source"] = r.source;
  j["secure"] = r.secure;
  j["arch"] = r.arch;
}

// The threads, the memory near the registers and the code around the pc, as
// much of them as `detail` keeps.
void add_threads_and_memory(json& j, const Report& r, Detail detail) {
  json threads = json::array();
  for (size_t i = 0; i < r.threads.size(); ++i) {
    if (detail == Detail::crashed_thread_only && i > 0) break;
    threads.push_back(thread_json(r.threads[i], true));
  }
  j["threads"] = threads;

  json memory = json::array();
  json code = json::array();
  if (detail == Detail::full) {
    for (const auto& d : r.memory_near_registers)
      memory.push_back(
          {{"register", d.label}, {"address", hex(d.address)}, {"start", hex(d.start)}, {"bytes", bytes_hex(d.bytes)}});
    for (const auto& i : r.disassembly)
      code.push_back({{"address", hex(i.address)},
                      {"bytes", bytes_hex(i.bytes)},
                      {"instruction", i.text},
                      {"faulting", i.faulting}});
  }
  j["memory_near_registers"] = memory;
  j["disassembly"] = code;
}

json build(const Report& r, Detail detail, std::vector<std::string> extra_truncated) {
  json j;
  add_process(j, r);
  j["signal"] = signal_json(r);
  j["abort_message"] = string_or_null(r.abort_message);
  j["uncaught_exception"] = uncaught_exception_json(r);
  add_threads_and_memory(j, r, detail);

  // Maps and open files can hold tens of thousands of entries: they are
  // serialized one entry at a time and spliced in by dump() (as one DOM,
  // 30,000 maps took 75 MB); left out, they are empty arrays.
  bool lists = detail != Detail::crashed_thread_only;
  j["maps"] = lists ? json(kMapsSlot) : json::array();
  j["open_files"] = lists ? json(kFilesSlot) : json::array();
  j["kernel_stack"] = string_array(r.kernel_stack);
  j["core"] = r.core ? core_json(*r.core) : json(nullptr);

  json truncated = string_array(r.truncated);
  for (const auto& t : extra_truncated) truncated.push_back(t);
  j["truncated"] = truncated;
  j["problems"] = string_array(r.problems);
  j["collection_ms"] = optional_json(r.collection_ms, [](double v) { return v; });
  j["sandbox"] = optional_json(r.sandbox, sandbox_json);
  j["symbolized"] = optional_json(r.symbolized, symbolization_json);
  return j;
}

}  // namespace

std::string iso8601_utc(int64_t seconds) {
  time_t t = static_cast<time_t>(seconds);
  tm utc{};
  if (!gmtime_r(&t, &utc)) return "?";
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

// The last resort when even the crashing thread alone does not fit: every
// string cut to `max_string` bytes, the crashing thread's frames to
// `max_frames` (none: registers go too), the environment, kernel stack and
// all but the program name of the command line left out.
void shrink(json& j, size_t max_string, size_t max_frames) {
  auto cut_strings = [max_string](auto& self, json& v) -> void {
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (s.size() > max_string) v = std::string(util::utf8_prefix(s, max_string)) + "...";
    } else if (v.is_structured()) {
      for (auto& child : v) self(self, child);
    }
  };
  j.erase("environment");
  j["kernel_stack"] = json::array();
  if (j["cmdline"].size() > 1) j["cmdline"] = json::array({j["cmdline"][0]});
  if (j["problems"].size() > 4) j["problems"].erase(j["problems"].begin() + 4, j["problems"].end());
  for (auto& t : j["threads"]) {
    if (t["frames"].size() > max_frames)
      t["frames"].erase(t["frames"].begin() + static_cast<std::ptrdiff_t>(max_frames), t["frames"].end());
    if (max_frames == 0) t["registers"] = nullptr;
  }
  cut_strings(cut_strings, j);
}

std::string render_json(const Report& r, const RenderOptions& options) {
  int indent = options.pretty_json ? 1 : -1;
  std::string out = dump(build(r, Detail::full, {}), r, indent);
  if (out.size() <= options.max_bytes) return out + '\n';
  out = dump(build(r, Detail::no_memory, {"json: memory dumps and code left out to fit max_report_size"}), r, indent);
  if (out.size() <= options.max_bytes) return out + '\n';
  json least = build(r, Detail::crashed_thread_only,
                     {"json: only the crashing thread kept, maps and files left out, to fit max_report_size"});
  out = least.dump(-1, ' ', false, json::error_handler_t::replace);
  if (out.size() <= options.max_bytes) return out + '\n';
  // JSON cannot be cut like text: smaller and smaller, down to who crashed
  // and how, which fits the smallest max_report_size.
  for (auto [max_string, max_frames] : {std::pair<size_t, size_t>{200, 8}, {64, 0}}) {
    json small = least;
    shrink(small, max_string, max_frames);
    small["truncated"].push_back(fmt::format(
        "json: strings cut to {} bytes, {} frames of the crashing thread kept, environment, kernel stack and "
        "arguments left out, to fit max_report_size",
        max_string, max_frames));
    out = small.dump(-1, ' ', false, json::error_handler_t::replace);
    if (out.size() <= options.max_bytes) break;
  }
  return out + '\n';
}

}  // namespace usercrash::report
