#include "engine/symbolizer.h"

#include <elfutils/libdwfl.h>
#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "engine/frame_symbols.h"
#include "util/limits.h"

namespace usercrash::engine {

struct Symbolizer::Module {
  SymbolizedModule outcome;
  util::UniqueFd fd;  // the debug file; libdwfl gets a duplicate of its own
  Dwfl* dwfl = nullptr;
  Dwfl_Module* mod = nullptr;
  UnitRanges units;
  // Frames by (pc, whether it is exact): the threads of one program share
  // most of their pcs, and the symbol lookup scans the whole symbol table.
  std::map<std::pair<uint64_t, bool>, std::vector<Frame>> done;
  FrameSymbols symbols;  // per module: its caches are keyed by offsets into one file's DWARF
  Dwfl_Callbacks callbacks{};

  ~Module() {
    if (dwfl) dwfl_end(dwfl);
  }

  // The debug file is the module's whole ELF: nothing else is looked for.
  static int no_debuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*, GElf_Word, char**) {
    return -1;
  }

  // Reports the debug file as the module, loaded at `base` as it was on the
  // device (for a PIE or library the address of its file offset 0; an
  // executable at a fixed address has its own addresses).
  bool load(uint64_t base) {
    callbacks.find_debuginfo = &no_debuginfo;
    callbacks.section_address = dwfl_offline_section_address;
    dwfl = dwfl_begin(&callbacks);
    if (!dwfl) return fail(std::string("libdwfl: ") + dwfl_errmsg(-1));
    // By fd, not by a path: a sandboxed collector (collect/late_symbols.h)
    // may open no file, /proc/self/fd/N included. libdwfl keeps (and
    // closes) the duplicate of a module it made; on failure it is ours.
    util::UniqueFd copy(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
    if (!copy) return fail(fmt::format("{}: {}", outcome.debug_file.value_or("?"), std::strerror(errno)));
    std::string name = outcome.debug_file.value_or("debug file");
    dwfl_report_begin(dwfl);
    mod = dwfl_report_elf(dwfl, outcome.module.value_or("?").c_str(), name.c_str(), copy.get(), base, false);
    if (mod) (void)copy.release();
    dwfl_report_end(dwfl, nullptr, nullptr);
    if (!mod) return fail(fmt::format("{}: {}", outcome.debug_file.value_or("?"), dwfl_errmsg(-1)));
    return true;
  }

  bool fail(std::string why) {
    outcome.problem = std::move(why);
    mod = nullptr;
    return false;
  }
};

namespace {

// A cached answer for a frame whose method differs (cfi or frame pointer):
// the physical frame keeps its own.
std::vector<Frame> with_method(std::vector<Frame> frames, FrameMethod method) {
  if (!frames.empty()) frames.back().method = method;
  return frames;
}

}  // namespace

Symbolizer::Symbolizer(DebugSearch search) : search_(std::move(search)) {}
Symbolizer::~Symbolizer() = default;

Symbolizer::Module* Symbolizer::module_for(const Frame& f) {
  if (!f.build_id || !f.module_offset || *f.module_offset > f.pc || !is_build_id(*f.build_id)) return nullptr;
  uint64_t base = f.pc - *f.module_offset;
  auto key = std::make_pair(*f.build_id, base);
  if (auto it = modules_.find(key); it != modules_.end()) return it->second.get();
  // A report could name a new build-id on every frame; each costs lookups
  // (and a debuginfod query).
  if (order_.size() >= limits::kMaxModules) {
    ++modules_left_out_;
    return nullptr;
  }
  auto m = std::make_unique<Module>();
  m->outcome.build_id = *f.build_id;
  m->outcome.module = f.module;
  auto found = find_debug_file(search_, *f.build_id, f.module);
  if (!found) {
    m->outcome.problem = found.error().message;
  } else {
    m->fd = std::move(found->fd);
    m->outcome.debug_file = found->where;
    m->outcome.source = debug_source_name(found->source);
    m->load(base);
  }
  order_.push_back(m.get());
  return modules_.emplace(key, std::move(m)).first->second.get();
}

std::optional<std::vector<Frame>> Symbolizer::symbolize(const Frame& physical) {
  Module* m = module_for(physical);
  if (!m || !m->mod) return std::nullopt;
  // The registers' own pc is the instruction; any other frame's is a
  // return address, whose call is the instruction before.
  bool exact = physical.method == FrameMethod::context || physical.method == FrameMethod::signal;
  uint64_t lookup = exact || physical.pc == 0 ? physical.pc : physical.pc - 1;
  auto key = std::make_pair(physical.pc, exact);
  if (auto it = m->done.find(key); it != m->done.end()) return with_method(it->second, physical.method);
  Frame f;
  f.pc = physical.pc;
  f.method = physical.method;
  f.module = physical.module;
  f.module_offset = physical.module_offset;
  f.build_id = physical.build_id;
  FrameSymbols::add_symbol(m->mod, lookup, f);
  std::vector<Frame> out;
  m->symbols.add_source(m->mod, m->units, lookup, std::move(f), out);
  m->done.emplace(key, out);
  return out;
}

namespace {

bool same_symbols(const Frame& a, const Frame& b) {
  return a.function == b.function && a.function_offset == b.function_offset && a.file == b.file && a.line == b.line &&
         a.method == b.method;
}

}  // namespace

std::vector<Frame> Symbolizer::frames(const std::vector<Frame>& frames) {
  std::vector<Frame> out;
  size_t group = 0;  // first frame of the physical frame's group (its inlined calls)
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].method == FrameMethod::inlined) continue;
    auto fresh = symbolize(frames[i]);
    if (!fresh) {
      out.insert(out.end(), frames.begin() + static_cast<long>(group), frames.begin() + static_cast<long>(i) + 1);
    } else {
      size_t old_size = i + 1 - group;
      for (size_t k = 0; k < fresh->size(); ++k) {
        Frame& f = (*fresh)[k];
        f.resymbolized = fresh->size() != old_size || !same_symbols(f, frames[group + k]);
        out.push_back(std::move(f));
      }
    }
    group = i + 1;
  }
  // Inlined frames whose physical frame was cut off stay as they are.
  out.insert(out.end(), frames.begin() + static_cast<long>(group), frames.end());
  return out;
}

std::vector<SymbolizedModule> Symbolizer::modules() const {
  std::vector<SymbolizedModule> out;
  for (const Module* m : order_) out.push_back(m->outcome);
  return out;
}

}  // namespace usercrash::engine
