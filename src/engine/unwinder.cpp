#include "engine/unwinder.h"

#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "engine/frame_symbols.h"
#include "engine/signal_frame.h"
#include "util/path_names.h"
#include "util/phase_trace.h"

namespace usercrash::engine {
namespace {

using util::UniqueFd;
using Clock = std::chrono::steady_clock;

std::string hex(const unsigned char* bits, int len) {
  std::string out;
  out.reserve(static_cast<size_t>(len) * 2);
  for (int i = 0; i < len; ++i) out += fmt::format("{:02x}", bits[i]);
  return out;
}

}  // namespace

// A minimal ELF header of the target's class and machine, so libdwfl picks
// the backend (register numbering, CFI defaults, frame-pointer unwinder) of
// the target's architecture even when none of its modules can be opened.
// (Not in the anonymous namespace: Unwinder::Impl holds one.)
struct MachineElf {
  union {
    Elf64_Ehdr wide;
    Elf32_Ehdr narrow;
  } header{};
  Elf* elf = nullptr;
  explicit MachineElf(const Arch& arch) {
    auto fill = [&](auto& h) {
      std::memcpy(h.e_ident, ELFMAG, SELFMAG);
      h.e_ident[EI_CLASS] = arch.elf_class;
      h.e_ident[EI_DATA] = ELFDATA2LSB;
      h.e_ident[EI_VERSION] = EV_CURRENT;
      h.e_type = ET_CORE;
      h.e_machine = arch.elf_machine;
      h.e_version = EV_CURRENT;
      h.e_ehsize = sizeof h;
      elf = elf_memory(reinterpret_cast<char*>(&h), sizeof h);
    };
    if (arch.elf_class == ELFCLASS64) fill(header.wide);
    else fill(header.narrow);
  }
  ~MachineElf() {
    if (elf) elf_end(elf);
  }
  MachineElf(const MachineElf&) = delete;
  MachineElf& operator=(const MachineElf&) = delete;
};

struct Unwinder::Impl {
  struct Module {
    Impl* owner = nullptr;
    proc::MapEntry first;  // mapping at the lowest address
    std::string path;      // as the process names it, " (deleted)" removed
    uint64_t low = 0, high = 0;
    bool vdso = false;
    std::vector<char> image;        // the vdso's bytes, read from the target
    std::optional<bool> own_dwarf;  // .debug_info in the module itself
    UnitRanges units;
    // The warm module of the same build-id (null: none), looked up once,
    // and this module's load bias, to translate addresses into it.
    std::optional<const WarmModule*> warm;
    uint64_t bias = 0;
    UnitRanges warm_units;
    FrameSymbols warm_symbols;  // its caches are keyed by offsets into the warm module's DWARF
  };

  Target& target;
  const Arch& arch;
  UnwindOptions options;
  MemoryCache& memory;
  std::vector<std::unique_ptr<Module>> modules;
  std::vector<std::string> problems;
  Dwfl* dwfl = nullptr;
  MachineElf machine;
  bool attached = false;
  const Registers* unwinding = nullptr;  // registers of the thread being unwound
  // Symbolized frames by (pc, call site, method): threads of one program
  // share most of their pcs, and libdwfl's symbol lookup scans the whole
  // symbol table on every call.
  std::map<std::tuple<uint64_t, bool, FrameMethod>, std::vector<Frame>> symbolized;
  std::optional<uint64_t> failed_read;  // last unreadable address since the latest frame
  FrameSymbols symbols;                 // names, lines and inlined calls

  Dwfl_Callbacks callbacks{};
  Dwfl_Thread_Callbacks thread_callbacks{};
  Impl(Target& t, MemoryCache& m, UnwindOptions o)
      : target(t), arch(engine::arch(t.arch())), options(std::move(o)), memory(m), machine(arch) {
    options.source_lines = limits::effective_source_lines(options.source_lines, options.warm != nullptr);
  }
  ~Impl() {
    if (dwfl) dwfl_end(dwfl);
  }

  bool past_deadline() const { return Clock::now() > options.deadline; }

  // --- libdwfl callbacks ---------------------------------------------------

  static int find_elf(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, char** file_name, Elf** elfp);

  static int find_debuginfo(Dwfl_Module* mod, void** userdata, const char*, Dwarf_Addr, const char*, const char*,
                            GElf_Word, char** debuginfo_file_name);

  static pid_t next_thread(Dwfl*, void* arg, void** thread_argp) {
    // Only dwfl_getthread_frames is used; iteration yields the one thread.
    auto* self = static_cast<Impl*>(arg);
    if (*thread_argp != nullptr || !self->unwinding) return 0;
    *thread_argp = const_cast<Registers*>(self->unwinding);
    return self->target.facts().pid;
  }

  static bool get_thread(Dwfl*, pid_t, void* arg, void** thread_argp) {
    auto* self = static_cast<Impl*>(arg);
    if (!self->unwinding) return false;
    *thread_argp = const_cast<Registers*>(self->unwinding);
    return true;
  }

  static bool memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    if (self->past_deadline()) return false;
    uint64_t value;
    // A word of the target's size: libdwfl takes 4 bytes for a 32-bit one.
    if (!self->memory.read_word(addr, value, self->arch.word_size)) {
      self->failed_read = addr;
      return false;
    }
    *result = value;
    return true;
  }

  static bool set_initial_registers(Dwfl_Thread* thread, void* thread_arg) {
    auto* regs = static_cast<const Registers*>(thread_arg);
    const Arch& arch = regs->arch();
    std::array<Dwarf_Word, kMaxRegisters> dwarf{};
    for (size_t i = 0; i < arch.dwarf.size(); ++i) dwarf[i] = arch.pointer(regs->values[arch.dwarf[i]]);
    if (!dwfl_thread_state_registers(thread, 0, arch.dwarf.size(), dwarf.data())) return false;
    // Not every architecture has a DWARF number for the pc (aarch64 has none).
    dwfl_thread_state_register_pc(thread, arch.pointer(regs->pc()));
    return true;
  }

  // --- setup ---------------------------------------------------------------

  void report_modules();
  void attach();

  // --- lookups -------------------------------------------------------------

  bool dwarf_allowed(Dwfl_Module* mod, Module* m);
  const WarmModule* warm_for(Dwfl_Module* mod, Module* m);
  void symbolize_into(uint64_t pc, bool call_site, FrameMethod method, std::vector<Frame>& out);
  void symbolize_uncached(uint64_t pc, bool call_site, FrameMethod method, std::vector<Frame>& out);
  FrameMethod method_for_caller(uint64_t callee_pc, bool callee_call_site);
  bool in_faked_fault_call(uint64_t pc, bool activation);
  bool at_signal_restorer(uint64_t pc);
  bool in_code(uint64_t address) const;
  Dwfl_Module* module_at(uint64_t address);
};

int Unwinder::Impl::find_elf(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, char** file_name, Elf** elfp) {
  util::trace::Span span(util::trace::Cost::module_elf);
  auto* m = static_cast<Module*>(*userdata);
  if (!m) return -1;
  if (m->vdso) {
    if (!m->image.empty()) *elfp = elf_memory(m->image.data(), m->image.size());
    return -1;
  }
  Impl* self = m->owner;
  auto fd = self->target.open_mapped_file(m->first);
  if (!fd) {
    self->problems.push_back(fmt::format("module {}: {}", m->path, fd.error().message));
    return -1;
  }
  // ELF_C_READ, not mmap: a module file truncated under us while mapped
  // would raise SIGBUS here; reads just fail.
  Elf* elf = elf_begin(fd->get(), ELF_C_READ, nullptr);
  if (!elf || elf_kind(elf) != ELF_K_ELF) {
    if (elf) elf_end(elf);
    self->problems.push_back(fmt::format("module {}: not an ELF file", m->path));
    return -1;
  }
  *elfp = elf;
  *file_name = strdup(m->path.c_str());
  return fd->release();
}

// Separate debug info, looked up by build-id under the configured root-owned
// tree only. (libdwfl's standard lookup would also search next to the module,
// and in elfutils 0.188 loads the network-capable debuginfod client — 7 ms
// and a library a root crash handler has no use for.)
int Unwinder::Impl::find_debuginfo(Dwfl_Module* mod, void** userdata, const char*, Dwarf_Addr, const char*, const char*,
                                   GElf_Word, char** debuginfo_file_name) {
  util::trace::Span span(util::trace::Cost::module_elf);
  auto* m = static_cast<Module*>(*userdata);
  if (!m || m->owner->options.debuginfo_path.empty()) return -1;
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr;
  int len = dwfl_module_build_id(mod, &bits, &vaddr);
  if (len < 2) return -1;
  std::string path =
      fmt::format("{}/.build-id/{}/{}.debug", m->owner->options.debuginfo_path, hex(bits, 1), hex(bits + 1, len - 1));
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  // Only the file whose build-id matches.
  Elf* elf = elf_begin(fd.get(), ELF_C_READ, nullptr);
  const void* id = nullptr;
  ssize_t id_len = elf ? dwelf_elf_gnu_build_id(elf, &id) : -1;
  bool same = id_len == len && std::memcmp(id, bits, static_cast<size_t>(len)) == 0;
  if (elf) elf_end(elf);
  if (!same) return -1;
  *debuginfo_file_name = strdup(path.c_str());
  return fd.release();
}

void Unwinder::Impl::report_modules() {
  callbacks.find_elf = &Impl::find_elf;
  callbacks.find_debuginfo = &Impl::find_debuginfo;
  callbacks.section_address = dwfl_offline_section_address;
  dwfl = dwfl_begin(&callbacks);
  if (!dwfl) {
    problems.push_back(std::string("libdwfl: ") + dwfl_errmsg(-1));
    return;
  }

  // Group consecutive mappings of one file into a module; report the ones
  // with code (an executable mapping), plus the vdso.
  const auto& maps = target.mappings();
  for (size_t i = 0; i < maps.size();) {
    const auto& first = maps[i];
    size_t j = i + 1;
    bool exec = first.executable();
    if (first.file_backed()) {
      while (j < maps.size() && maps[j].path == first.path && maps[j].inode == first.inode &&
             maps[j].device == first.device && maps[j].offset > maps[j - 1].offset) {
        exec = exec || maps[j].executable();
        ++j;
      }
    }
    auto m = std::make_unique<Module>();
    m->owner = this;
    m->first = first;
    m->high = maps[j - 1].end;
    if (first.path == "[vdso]") {
      m->vdso = true;
      m->path = "[vdso]";
      m->low = first.start;
      size_t size = first.end - first.start;
      constexpr size_t kMaxVdso = 1 << 20;
      if (size <= kMaxVdso) {
        m->image.resize(size);
        size_t got = target.read_memory(first.start, std::as_writable_bytes(std::span(m->image)));
        if (got != size) m->image.clear();
      }
    } else if (first.file_backed() && exec) {
      m->path = util::without_deleted_mark(first.path);
      // The file's offset 0 sits this far below the first mapping.
      m->low = first.start >= first.offset ? first.start - first.offset : first.start;
    } else {
      i = j;
      continue;
    }
    Dwfl_Module* mod = dwfl_report_module(dwfl, m->path.c_str(), m->low, m->high);
    if (mod) {
      void** userdata = nullptr;
      dwfl_module_info(mod, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
      if (userdata) *userdata = m.get();
      modules.push_back(std::move(m));
    }
    i = j;
  }
  dwfl_report_end(dwfl, nullptr, nullptr);
}

void Unwinder::Impl::attach() {
  if (!dwfl) return;
  thread_callbacks.next_thread = &Impl::next_thread;
  thread_callbacks.get_thread = &Impl::get_thread;
  thread_callbacks.memory_read = &Impl::memory_read;
  thread_callbacks.set_initial_registers = &Impl::set_initial_registers;
  pid_t pid = target.facts().pid > 0 ? target.facts().pid : 1;
  attached = dwfl_attach_state(dwfl, machine.elf, pid, &thread_callbacks, this);
  if (!attached) problems.push_back(std::string("libdwfl attach: ") + dwfl_errmsg(-1));
}

bool Unwinder::Impl::dwarf_allowed(Dwfl_Module* mod, Module* m) {
  switch (options.source_lines) {
    case limits::SourceLines::none: return false;
    case limits::SourceLines::all: return true;
    case limits::SourceLines::own:
    case limits::SourceLines::automatic: break;  // resolved in the constructor
  }
  if (!m || m->vdso) return false;
  if (!m->own_dwarf) {
    m->own_dwarf = false;
    GElf_Addr bias;
    Elf* elf = dwfl_module_getelf(mod, &bias);
    size_t shstrndx;
    if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0) {
      for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS) continue;
        const char* name = elf_strptr(elf, shstrndx, shdr.sh_name);
        if (name && (std::strcmp(name, ".debug_info") == 0 || std::strcmp(name, ".zdebug_info") == 0)) {
          m->own_dwarf = true;
          break;
        }
      }
    }
  }
  return *m->own_dwarf;
}

void Unwinder::Impl::symbolize_into(uint64_t pc, bool call_site_pc, FrameMethod method, std::vector<Frame>& out) {
  auto key = std::make_tuple(pc, call_site_pc, method);
  if (auto it = symbolized.find(key); it != symbolized.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  size_t first = out.size();
  symbolize_uncached(pc, call_site_pc, method, out);
  symbolized.emplace(key, std::vector<Frame>(out.begin() + static_cast<long>(first), out.end()));
}

void Unwinder::Impl::symbolize_uncached(uint64_t pc, bool call_site_pc, FrameMethod method, std::vector<Frame>& out) {
  uint64_t lookup = call_site_pc && pc > 0 ? pc - 1 : pc;
  Frame f;
  f.pc = pc;
  f.method = method;
  Dwfl_Module* mod = module_at(lookup);
  if (!mod) {
    out.push_back(std::move(f));
    return;
  }
  void** userdata = nullptr;
  Dwarf_Addr start = 0;
  dwfl_module_info(mod, &userdata, &start, nullptr, nullptr, nullptr, nullptr, nullptr);
  auto* m = userdata ? static_cast<Module*>(*userdata) : nullptr;
  f.module = m ? m->path : std::string("?");
  f.module_offset = pc - start;
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr;
  int len = dwfl_module_build_id(mod, &bits, &vaddr);
  if (len > 0) f.build_id = hex(bits, len);

  const WarmModule* warm = warm_for(mod, m);
  uint64_t warm_lookup = warm ? warm->address_for(lookup, m->bias) : 0;
  if (warm) FrameSymbols::add_symbol(warm->symbols(), warm_lookup, lookup, f);
  else FrameSymbols::add_symbol(mod, lookup, f);
  if (!m || !dwarf_allowed(mod, m) || past_deadline()) {
    out.push_back(std::move(f));
    return;
  }
  if (warm && warm->has_dwarf())
    m->warm_symbols.add_source(warm->module(), m->warm_units, warm_lookup, std::move(f), out, warm->subprograms());
  else symbols.add_source(mod, m->units, lookup, std::move(f), out);
}

// The warm module with this module's build-id, if the parent holds one.
// Only the build-id ties them: the same check that picks a debug file.
const WarmModule* Unwinder::Impl::warm_for(Dwfl_Module* mod, Module* m) {
  if (!options.warm || !m || m->vdso) return nullptr;
  if (!m->warm) {
    m->warm = nullptr;
    GElf_Addr bias = 0;
    const unsigned char* bits = nullptr;
    GElf_Addr vaddr;
    int len = dwfl_module_getelf(mod, &bias) ? dwfl_module_build_id(mod, &bits, &vaddr) : 0;
    if (len > 0) {
      m->warm = options.warm->find(hex(bits, len));
      m->bias = bias;
    }
  }
  return *m->warm;
}

Dwfl_Module* Unwinder::Impl::module_at(uint64_t address) {
  Dwfl_Module* mod = dwfl ? dwfl_addrmodule(dwfl, address) : nullptr;
  if (!mod) return nullptr;
  // libdwfl answers the highest module for addresses above it too (a pc on
  // the stack came back as ld.so): check the range ourselves.
  Dwarf_Addr start = 0, end = 0;
  dwfl_module_info(mod, nullptr, &start, &end, nullptr, nullptr, nullptr, nullptr);
  return address >= start && address < end ? mod : nullptr;
}

// Whether the frame at `pc` is a call a runtime's signal handler faked
// (Go's runtime.sigpanic), by the symbol table's name.
bool Unwinder::Impl::in_faked_fault_call(uint64_t pc, bool activation) {
  uint64_t lookup = activation || pc == 0 ? pc : pc - 1;
  Dwfl_Module* mod = module_at(lookup);
  GElf_Off offset = 0;
  GElf_Sym sym;
  const char* name = mod ? dwfl_module_addrinfo(mod, lookup, &offset, &sym, nullptr, nullptr, nullptr) : nullptr;
  return name && is_faked_fault_call(name);
}

// Whether `pc` (a return address) is where a signal handler returns to a
// restorer whose signal frame only we can step through: the first byte of
// the Go runtime's runtime.sigreturn, holding the rt_sigreturn code. The
// code is checked first: it is cheap and fails for every ordinary frame.
bool Unwinder::Impl::at_signal_restorer(uint64_t pc) {
  if (!is_sigreturn_code(memory, pc)) return false;
  Dwfl_Module* mod = module_at(pc);
  GElf_Off offset = 0;
  GElf_Sym sym;
  const char* name = mod ? dwfl_module_addrinfo(mod, pc, &offset, &sym, nullptr, nullptr, nullptr) : nullptr;
  return name && offset == 0 && is_go_restorer(name);
}

bool Unwinder::Impl::in_code(uint64_t address) const {
  for (const auto& m : target.mappings())
    if (m.contains(address) && m.executable()) return true;
  return false;
}

FrameMethod Unwinder::Impl::method_for_caller(uint64_t callee_pc, bool callee_call_site) {
  uint64_t lookup = callee_call_site && callee_pc > 0 ? callee_pc - 1 : callee_pc;
  util::trace::Span span(util::trace::Cost::cfi);
  Dwfl_Module* mod = module_at(lookup);
  if (!mod) return FrameMethod::frame_pointer;
  // libdwfl tries .eh_frame, then .debug_frame (all Go has), then the
  // frame pointer.
  for (auto* cfi_of : {dwfl_module_eh_cfi, dwfl_module_dwarf_cfi}) {
    Dwarf_Addr bias = 0;
    if (Dwarf_CFI* cfi = cfi_of(mod, &bias)) {
      Dwarf_Frame* frame = nullptr;
      if (dwarf_cfi_addrframe(cfi, lookup - bias, &frame) == 0) {
        std::free(frame);
        return FrameMethod::cfi;
      }
    }
  }
  return FrameMethod::frame_pointer;
}

Unwinder::Unwinder(Target& target, MemoryCache& memory, UnwindOptions options)
    : impl_(std::make_unique<Impl>(target, memory, options)) {
  // Never reach for the network from a crash handler.
  ::unsetenv("DEBUGINFOD_URLS");
  impl_->report_modules();
  impl_->attach();
}

Unwinder::~Unwinder() = default;

namespace {

// Signal frames (and faked calls) stepped through in one backtrace.
constexpr int kMaxResumes = 8;

struct FrameWalk {
  Unwinder::Impl* impl;
  std::vector<std::pair<uint64_t, bool>> pcs;  // (pc, is activation)
  std::vector<uint64_t> sps;
  size_t max_frames;
  std::optional<std::string> stopped;
  bool truncated = false;
  uint64_t last_fp = 0;  // frame pointer of the latest frame, 0 when unknown
  // The walk stops to go on from other registers: those a signal frame
  // saved (at a trampoline without CFI), or the next frame's own with its
  // pc exact (above a call a signal handler faked).
  const Registers* start = nullptr;  // what this walk started from (architecture, segment bases)
  std::optional<Registers> resume{};
  bool resume_from_signal = false;
  bool after_signal = false;  // a signal frame was stepped through
};

int on_frame(Dwfl_Frame* state, void* arg) {
  auto* walk = static_cast<FrameWalk*>(arg);
  // Reads from here on are the ones that unwind this frame to its caller.
  walk->impl->failed_read.reset();
  Dwarf_Addr pc;
  bool activation = false;
  if (!dwfl_frame_pc(state, &pc, &activation)) {
    walk->stopped = std::string("no pc: ") + dwfl_errmsg(-1);
    return DWARF_CB_ABORT;
  }
  Dwarf_Word sp = 0;
  bool have_sp = dwfl_frame_reg(state, walk->impl->arch.dwarf_sp, &sp) == 0;
  if (have_sp && !walk->pcs.empty() && walk->pcs.back().first == pc && walk->sps.back() == sp) {
    walk->stopped = "frame loop (the same frame twice)";
    return DWARF_CB_ABORT;
  }
  if (walk->pcs.size() >= walk->max_frames) {
    walk->truncated = true;
    walk->stopped = fmt::format("frame limit ({}) reached", walk->max_frames);
    return DWARF_CB_ABORT;
  }
  if (walk->impl->past_deadline()) {
    walk->stopped = "time budget exhausted";
    return DWARF_CB_ABORT;
  }
  walk->pcs.emplace_back(pc, activation);
  walk->sps.push_back(have_sp ? sp : 0);
  Dwarf_Word fp = 0;
  walk->last_fp = dwfl_frame_reg(state, walk->impl->arch.dwarf_fp, &fp) == 0 ? fp : 0;
  if (walk->start->arch_id != ArchId::x86_64 || activation || walk->pcs.size() < 2) return DWARF_CB_OK;
  if (have_sp && walk->impl->at_signal_restorer(pc)) {
    walk->pcs.back().second = true;  // the restorer's first byte, not a return address
    walk->resume = interrupted_registers(walk->impl->memory, sp, *walk->start);
    if (walk->resume && !walk->impl->in_code(walk->resume->pc())) walk->resume.reset();
    walk->resume_from_signal = walk->resume.has_value();
    if (!walk->resume)
      walk->stopped = fmt::format("the signal frame at 0x{:x} is unreadable or holds no pc in code", sp);
    return DWARF_CB_ABORT;
  }
  auto [callee_pc, callee_activation] = walk->pcs[walk->pcs.size() - 2];
  if (walk->after_signal && walk->impl->in_faked_fault_call(callee_pc, callee_activation)) {
    Registers regs = *walk->start;
    const auto& dwarf = walk->impl->arch.dwarf;
    for (unsigned n = 0; n < dwarf.size(); ++n) {
      Dwarf_Word value;
      if (dwfl_frame_reg(state, n, &value) == 0) regs.values[dwarf[n]] = value;
    }
    regs.set_pc(pc);
    walk->pcs.pop_back();
    walk->sps.pop_back();
    walk->resume = regs;
    return DWARF_CB_ABORT;
  }
  return DWARF_CB_OK;
}

// A call through a bad function pointer leaves pc outside any code. The
// caller's return address is still where the call left it (on top of the
// stack, or in the link register): the walk starts there, the bad pc its
// frame #0, if it points into code. True when it does.
bool start_at_return_address(Unwinder::Impl& d, Registers& regs, FrameWalk& walk) {
  if (d.in_code(regs.pc())) return false;
  const Arch& arch = regs.arch();
  uint64_t return_address = 0;
  bool found = arch.lr ? (return_address = regs.values[*arch.lr], true)
                       : d.memory.read_word(regs.sp(), return_address, arch.word_size);
  // Not code: not a return address, and no frame is made up from it.
  if (!found || return_address == 0 || !d.in_code(return_address)) return false;
  walk.pcs.emplace_back(regs.pc(), true);
  walk.sps.push_back(regs.sp());
  regs.set_pc(return_address);
  if (!arch.lr) regs.set_sp(regs.sp() + arch.word_size);
  return true;
}

// Says why a backtrace libdwfl ended with an error ends early; the
// conventional end of a frame-pointer chain (a null frame pointer) is not early.
void explain_early_end(Unwinder::Impl& d, FrameWalk& walk) {
  int err = dwfl_errno();
  auto [last_pc, last_activation] = walk.pcs.back();
  uint64_t lookup = last_activation || last_pc == 0 ? last_pc : last_pc - 1;
  if (d.failed_read) {
    walk.stopped = fmt::format("unreadable stack at 0x{:x}", *d.failed_read);
  } else if (!d.in_code(lookup)) {
    walk.stopped = fmt::format("pc 0x{:x} is not in any code (corrupt stack?)", last_pc);
  } else if (walk.last_fp != 0 && d.method_for_caller(last_pc, !last_activation) == FrameMethod::frame_pointer) {
    walk.stopped = fmt::format("frame pointer 0x{:x} leads no further up the stack (loop or corruption)", walk.last_fp);
  } else if (err != 0 && walk.pcs.size() < 2) {
    // The normal end of a stack also comes back as an error from some backends.
    walk.stopped = dwfl_errmsg(err);
  }
}

}  // namespace

Backtrace Unwinder::backtrace(const ThreadRegisters& thread) {
  Backtrace bt;
  Impl& d = *impl_;
  FrameWalk walk{&d, {}, {}, d.options.max_frames, std::nullopt, false};

  Registers regs = thread.regs;
  bool bad_pc = start_at_return_address(d, regs, walk);

  // Frames whose registers a signal frame saved.
  std::vector<size_t> from_signal_frame;
  if (d.attached) {
    size_t before = walk.pcs.size();
    int rc = 0;
    for (int resumes = 0;; ++resumes) {
      d.unwinding = &regs;
      walk.start = &regs;
      {
        util::trace::Span span(util::trace::Cost::frame_step);
        rc = dwfl_getthread_frames(d.dwfl, thread.tid > 0 ? thread.tid : 1, on_frame, &walk);
      }
      d.unwinding = nullptr;
      if (resumes == 0 && bad_pc && walk.pcs.size() > before) walk.pcs[before].second = false;  // a return address
      if (!walk.resume) break;
      if (resumes >= kMaxResumes) {
        walk.stopped = fmt::format("more than {} signal frames or faked calls", kMaxResumes);
        break;
      }
      regs = *walk.resume;
      walk.resume.reset();
      if (walk.resume_from_signal) from_signal_frame.push_back(walk.pcs.size());
      walk.after_signal = walk.after_signal || walk.resume_from_signal;
      walk.resume_from_signal = false;
    }
    if (rc == -1 && !walk.stopped && !walk.pcs.empty()) explain_early_end(d, walk);
  } else if (walk.pcs.empty()) {
    walk.pcs.emplace_back(regs.pc(), true);
  }

  for (size_t i = 0; i < walk.pcs.size(); ++i) {
    auto [pc, activation] = walk.pcs[i];
    FrameMethod method = FrameMethod::context;
    if (i == 1 && bad_pc) method = FrameMethod::stack;
    else if (std::find(from_signal_frame.begin(), from_signal_frame.end(), i) != from_signal_frame.end())
      method = FrameMethod::signal;
    else if (i > 0) method = d.method_for_caller(walk.pcs[i - 1].first, !walk.pcs[i - 1].second);
    d.symbolize_into(pc, !activation, method, bt.frames);
    if (bt.frames.size() >= d.options.max_frames) {
      if (i + 1 < walk.pcs.size() || walk.truncated) {
        bt.truncated = true;
        walk.stopped = fmt::format("frame limit ({}) reached", d.options.max_frames);
      }
      bt.frames.resize(d.options.max_frames);
      break;
    }
  }
  bt.truncated = bt.truncated || walk.truncated;
  bt.stopped = walk.stopped;
  return bt;
}

std::optional<uint64_t> Unwinder::find_symbol(std::string_view name, std::string_view module_prefix) {
  Impl& d = *impl_;
  if (!d.dwfl) return std::nullopt;
  struct Search {
    Impl* impl;
    std::string_view name, prefix;
    std::optional<uint64_t> found;
  } search{&d, name, module_prefix, std::nullopt};
  dwfl_getmodules(
      d.dwfl,
      [](Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr, void* arg) -> int {
        auto* s = static_cast<Search*>(arg);
        std::string_view base(modname);
        if (auto slash = base.rfind('/'); slash != std::string_view::npos) base.remove_prefix(slash + 1);
        if (!base.starts_with(s->prefix)) return DWARF_CB_OK;
        // A warm module's index instead of a scan of the whole symbol table.
        if (const WarmModule* warm = s->impl->warm_for(mod, static_cast<Impl::Module*>(*userdata))) {
          auto* m = static_cast<Impl::Module*>(*userdata);
          if (auto address = warm->symbols().address_of(s->name)) {
            s->found = *address - warm->bias() + m->bias;
            return DWARF_CB_ABORT;
          }
          return DWARF_CB_OK;
        }
        int n = dwfl_module_getsymtab(mod);
        for (int i = 0; i < n; ++i) {
          GElf_Sym sym;
          GElf_Addr addr;
          const char* symname = dwfl_module_getsym_info(mod, i, &sym, &addr, nullptr, nullptr, nullptr);
          if (symname && s->name == symname && sym.st_shndx != SHN_UNDEF) {
            s->found = addr;
            return DWARF_CB_ABORT;
          }
        }
        return DWARF_CB_OK;
      },
      &search, 0);
  return search.found;
}

std::optional<std::string> Unwinder::module_build_id(std::string_view path) {
  Impl& d = *impl_;
  if (!d.dwfl) return std::nullopt;
  struct Search {
    std::string wanted;
    std::optional<std::string> found;
  } search{util::without_deleted_mark(std::string(path)), std::nullopt};
  dwfl_getmodules(
      d.dwfl,
      [](Dwfl_Module* mod, void**, const char* modname, Dwarf_Addr, void* arg) -> int {
        auto* s = static_cast<Search*>(arg);
        if (!modname || s->wanted != modname) return DWARF_CB_OK;
        GElf_Addr bias;
        dwfl_module_getelf(mod, &bias);  // the build-id note is read with the ELF
        const unsigned char* bits = nullptr;
        GElf_Addr vaddr;
        int len = dwfl_module_build_id(mod, &bits, &vaddr);
        if (len > 0) s->found = hex(bits, len);
        return DWARF_CB_ABORT;
      },
      &search, 0);
  return search.found;
}

const std::vector<std::string>& Unwinder::problems() const { return impl_->problems; }

}  // namespace usercrash::engine
