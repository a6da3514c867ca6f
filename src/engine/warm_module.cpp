#include "engine/warm_module.h"

#include <elfutils/libdw.h>
#include <fcntl.h>
#include <limits.h>

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "engine/debug_files.h"
#include "engine/trusted_file.h"
#include "util/escape.h"

namespace usercrash::engine {

using Clock = std::chrono::steady_clock;

struct WarmModule::Loader {
  // The debug file by build-id under debuginfo_path, if it is trusted and
  // has the module's build-id; nothing else is looked for.
  static int find_debuginfo(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, const char*, const char*, GElf_Word,
                            char** debuginfo_file_name) {
    auto* self = static_cast<WarmModule*>(*userdata);
    if (!self || self->debuginfo_path_.empty() || self->build_id_.size() < 4) return -1;
    std::string wanted = fmt::format("{}/.build-id/{}/{}.debug", self->debuginfo_path_, self->build_id_.substr(0, 2),
                                     self->build_id_.substr(2));
    char resolved[PATH_MAX];
    if (!::realpath(wanted.c_str(), resolved)) {
      self->dwarf_problem_ = fmt::format("no debug file at {}", util::escape_text(wanted));
      return -1;
    }
    auto file = open_trusted_file(resolved);
    if (!file) {
      self->dwarf_problem_ = "debug file " + file.error().message;
      return -1;
    }
    if (file_build_id(file->fd.get()) != self->build_id_) {
      self->dwarf_problem_ = fmt::format("debug file {} has another build-id", util::escape_text(resolved));
      return -1;
    }
    self->debug_file_ = resolved;
    self->debug_file_size_ = static_cast<uint64_t>(file->st.st_size);
    *debuginfo_file_name = ::strdup(resolved);
    return file->fd.release();
  }
};

util::Result<std::unique_ptr<WarmModule>> WarmModule::load(const std::string& path, const WarmModuleOptions& options) {
  auto started = Clock::now();
  auto file = open_trusted_file(path);
  if (!file) return util::fail(file.error().message);
  std::unique_ptr<WarmModule> m(new WarmModule());
  m->path_ = path;
  m->device_ = file->st.st_dev;
  m->inode_ = file->st.st_ino;
  m->debuginfo_path_ = options.debuginfo_path;
  auto id = file_build_id(file->fd.get());
  std::string shown = util::escape_text(path);
  if (!id) return util::fail(shown + ": no build-id (or not an ELF file)");
  m->build_id_ = *id;

  m->callbacks_.find_debuginfo = &Loader::find_debuginfo;
  m->callbacks_.section_address = dwfl_offline_section_address;
  m->dwfl_ = dwfl_begin(&m->callbacks_);
  if (!m->dwfl_) return util::fail(std::string("libdwfl: ") + dwfl_errmsg(-1));
  dwfl_report_begin(m->dwfl_);
  // The file as checked, not its path again; libdwfl keeps the fd it is given.
  m->mod_ = dwfl_report_elf(m->dwfl_, path.c_str(), path.c_str(), file->fd.get(), 0, false);
  if (m->mod_) (void)file->fd.release();
  dwfl_report_end(m->dwfl_, nullptr, nullptr);
  if (!m->mod_) return util::fail(fmt::format("{}: {}", shown, dwfl_errmsg(-1)));
  void** userdata = nullptr;
  dwfl_module_info(m->mod_, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  if (userdata) *userdata = m.get();
  GElf_Addr bias = 0;
  if (!dwfl_module_getelf(m->mod_, &bias)) return util::fail(fmt::format("{}: {}", shown, dwfl_errmsg(-1)));
  m->bias_ = bias;

  // The symbol table (the debug file's .symtab when the library has only
  // .dynsym, as libdwfl takes it for a crash's module).
  m->symbols_ = std::make_unique<SymbolIndex>(m->mod_);

  uint64_t size = m->debug_file_size_ ? m->debug_file_size_ : static_cast<uint64_t>(file->st.st_size);
  constexpr uint64_t kDwarfPerFileByte = 11;
  if (size > options.max_dwarf_bytes / kDwarfPerFileByte) {
    m->dwarf_problem_ =
        fmt::format("DWARF left out: about {} MiB past the warm memory budget", size * kDwarfPerFileByte >> 20);
  } else if (Dwarf_Addr dwarf_bias = 0; dwfl_module_getdwarf(m->mod_, &dwarf_bias)) {
    // Every unit's line table decoded now, and the table from addresses
    // to units read, so that a crash only searches them.
    for (Dwarf_Die* cu = nullptr; (cu = dwfl_module_nextcu(m->mod_, cu, &dwarf_bias));) {
      size_t lines = 0;
      (void)dwfl_getsrclines(cu, &lines);
    }
    Dwarf_Addr start = 0;
    dwfl_module_info(m->mod_, nullptr, &start, nullptr, nullptr, nullptr, nullptr, nullptr);
    (void)dwfl_module_addrdie(m->mod_, start, &dwarf_bias);
    (void)dwfl_module_getsrc(m->mod_, start);
    m->subprograms_ = std::make_unique<SubprogramIndex>(m->mod_);
    m->has_dwarf_ = true;
    m->dwarf_problem_.reset();
  } else if (!m->dwarf_problem_) {
    m->dwarf_problem_ = std::string("no DWARF: ") + dwfl_errmsg(-1);
  }
  m->load_time_ = Clock::now() - started;
  return m;
}

WarmModule::~WarmModule() {
  if (dwfl_) dwfl_end(dwfl_);
}

}  // namespace usercrash::engine
