#include "engine/core_file_target.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include <fmt/format.h>

#include "engine/link_map.h"
#include "util/escape.h"
#include "util/path_names.h"

namespace usercrash::engine {

using util::Result;
using util::UniqueFd;

namespace {

// A core's notes for tens of thousands of threads stay well below this.
constexpr uint64_t kMaxNotes = 256ULL << 20;
constexpr uint64_t kMaxProgramHeaders = 4ULL << 20;
// Module files kept open for reads of the text the core does not hold.
constexpr size_t kMaxOpenModules = 128;
// Distinct module files looked for: a process maps hundreds, not more.
constexpr size_t kMaxModuleLookups = 4096;
constexpr uint64_t kPage = 4096;

uint64_t page_down(uint64_t v) { return v & ~(kPage - 1); }
uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

// Reads exactly what fits: a short file gives a short read, never a buffer
// sized by what the file claims.
Result<std::vector<std::byte>> read_range(int fd, uint64_t offset, uint64_t size, uint64_t file_size) {
  if (offset >= file_size) return std::vector<std::byte>{};
  std::vector<std::byte> bytes(static_cast<size_t>(std::min(size, file_size - offset)));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::fail_errno("read");
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace

Result<std::unique_ptr<CoreFileTarget>> CoreFileTarget::open(const std::string& path, const CoreFileOptions& options) {
  const std::string shown = util::escape_text(path);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return util::fail_errno(shown);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return util::fail_errno(shown);
  if (!S_ISREG(st.st_mode)) return util::fail(shown + ": not a regular file");
  const auto file_size = static_cast<uint64_t>(st.st_size);

  auto head = read_range(fd.get(), 0, kElfHeaderSize, file_size);
  if (!head) return util::fail(shown + ": " + head.error().message);
  auto layout = parse_core_layout(*head);
  if (!layout) return util::fail(shown + ": " + layout.error().message);
  // Program headers follow the ELF header; an offset inside it, or one past
  // the file, is a corrupt core.
  const uint64_t header_size = layout->phentsize == sizeof(Elf64_Phdr) ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
  if (layout->phoff < header_size || layout->phoff > kMaxProgramHeaders || layout->phoff >= file_size)
    return util::fail(shown + ": program headers out of bounds");
  // PN_XNUM keeps the count in section 0: read up to the cap (the walk stops at the notes).
  uint64_t ph_bytes = static_cast<uint64_t>(layout->phnum == PN_XNUM ? 0 : layout->phnum) * layout->phentsize;
  if (layout->phnum == PN_XNUM || ph_bytes > kMaxProgramHeaders) ph_bytes = kMaxProgramHeaders;
  auto headers = read_range(fd.get(), 0, layout->phoff + ph_bytes, file_size);
  if (!headers) return util::fail(shown + ": " + headers.error().message);
  layout = parse_core_layout(*headers);
  if (!layout) return util::fail(shown + ": " + layout.error().message);
  if (layout->note_size == 0) return util::fail(shown + ": no note segment");
  if (layout->note_size > kMaxNotes) return util::fail(shown + ": note segment larger than 256 MiB");
  if (layout->note_offset >= file_size) return util::fail(shown + ": the note segment lies past the end of the file");

  // Only the bytes the file has: a claim past its end is not allocated.
  auto notes = read_range(fd.get(), layout->note_offset, layout->note_size, file_size);
  if (!notes) return util::fail(shown + ": " + notes.error().message);
  CoreLimits limits;
  limits.max_threads = options.max_threads;
  limits.max_files = options.max_maps;
  CoreNotes parsed = parse_core_notes(*notes, limits, layout->arch);
  if (notes->size() < layout->note_size)
    parsed.problems.push_back(fmt::format("the note segment is cut short: {} of its {} bytes are in the file",
                                          notes->size(), layout->note_size));

  // A module is named by an absolute path: a relative --exe is made one.
  CoreFileOptions opts = options;
  if (opts.executable && !opts.executable->starts_with('/')) {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd)) opts.executable = std::string(cwd) + "/" + *opts.executable;
  }
  ModuleSearch search;
  search.executable = opts.executable;
  search.sysroot = options.sysroot;
  search.search_dirs = options.search_dirs;
  search.debuginfo_path = options.debuginfo_path;
  auto files = ModuleFiles::open(std::move(search));
  if (!files) return std::unexpected(files.error());

  auto target = std::unique_ptr<CoreFileTarget>(
      new CoreFileTarget(std::move(fd), std::move(*layout), parsed, std::move(opts), std::move(*files)));
  target->note_truncation(file_size);
  if (parsed.files.empty()) target->modules_from_link_map();
  target->refine_permissions();
  return target;
}

CoreFileTarget::CoreFileTarget(UniqueFd fd, CoreLayout layout, const CoreNotes& notes, CoreFileOptions options,
                               ModuleFiles files)
    : NotesTarget(notes, notes.psinfo ? notes.psinfo->pid : 0, "core_file", layout.loads, options.max_maps),
      fd_(std::move(fd)),
      layout_(std::move(layout)),
      options_(std::move(options)),
      files_(std::move(files)) {
  by_address_ = layout_.loads;
  std::sort(by_address_.begin(), by_address_.end(),
            [](const CoreSegment& a, const CoreSegment& b) { return a.vaddr < b.vaddr; });
  if (!notes.files.empty()) main_path_ = notes.files.front().path;
  if (!main_path_.empty()) facts_.exe = main_path_;
  if (options_.executable) {
    // The executable given replaces the one the core names, however it
    // names it (a relative path, a file gone since).
    for (auto& m : maps_)
      if (!main_path_.empty() && m.path == main_path_) m.path = *options_.executable;
    main_path_ = *options_.executable;
    facts_.exe = *options_.executable;
  }
}

void CoreFileTarget::note_truncation(uint64_t file_size) {
  uint64_t expected = layout_.note_offset + layout_.note_size;
  std::vector<const CoreSegment*> missing;
  for (const auto& seg : layout_.loads) {
    if (seg.file_size == 0) continue;
    expected = std::max(expected, seg.file_offset + seg.file_size);
    if (seg.file_offset + seg.file_size > file_size) missing.push_back(&seg);
  }
  if (file_size >= expected) return;
  std::string what =
      fmt::format("the core file is truncated: it has {} bytes, its headers describe {}; ", file_size, expected);
  what += fmt::format("the memory of {} of its {} segments is missing or cut", missing.size(), layout_.loads.size());
  if (!missing.empty()) what += fmt::format(" (from 0x{:x})", missing.front()->vaddr);
  // Whose stacks went with it: their backtraces end early.
  std::vector<std::string> stacks;
  for (const auto& t : threads_) {
    uint64_t sp = t.regs.sp();
    for (const auto* seg : missing) {
      uint64_t held = seg->file_offset < file_size ? file_size - seg->file_offset : 0;
      if (sp >= seg->vaddr && sp < seg->vaddr + seg->mem_size && sp - seg->vaddr >= held) {
        stacks.push_back(std::to_string(t.tid));
        break;
      }
    }
  }
  if (!stacks.empty()) {
    what += "; the stacks of threads ";
    for (size_t i = 0; i < stacks.size(); ++i) what += (i ? ", " : "") + stacks[i];
    what += " are not in it";
  }
  facts_.problems.push_back(what);
  facts_.truncated.push_back(fmt::format("core file: {} of {} bytes", file_size, expected));
}

size_t CoreFileTarget::read_core(uint64_t address, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    uint64_t at = address + done;
    if (at < address) break;  // wrapped
    auto it = std::upper_bound(by_address_.begin(), by_address_.end(), at,
                               [](uint64_t a, const CoreSegment& s) { return a < s.vaddr; });
    if (it == by_address_.begin()) break;
    const CoreSegment& seg = *--it;
    if (at - seg.vaddr >= seg.mem_size) break;
    uint64_t in_seg = at - seg.vaddr;
    // Past what the core holds for this segment: not dumped (the kernel
    // leaves out file-backed text), so not readable here.
    if (in_seg >= seg.file_size) break;
    size_t want = static_cast<size_t>(std::min<uint64_t>(out.size() - done, seg.file_size - in_seg));
    ssize_t n = ::pread(fd_.get(), out.data() + done, want, static_cast<off_t>(seg.file_offset + in_seg));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < want) break;
  }
  return done;
}

ReadAt CoreFileTarget::core_reader() {
  return [this](uint64_t address, std::span<std::byte> out) { return read_core(address, out); };
}

size_t CoreFileTarget::read_memory(uint64_t address, std::span<std::byte> out) {
  size_t done = read_core(address, out);
  // The rest from the file behind a read-only file mapping: what the kernel
  // did not dump because the file holds it (code, read-only data).
  while (done < out.size()) {
    uint64_t at = address + done;
    auto it = std::upper_bound(maps_.begin(), maps_.end(), at,
                               [](uint64_t a, const proc::MapEntry& m) { return a < m.start; });
    if (it == maps_.begin()) break;
    const proc::MapEntry& m = *--it;
    if (!m.contains(at) || m.writable() || !m.file_backed()) break;
    auto file = module_file(m.path, module_base(static_cast<size_t>(it - maps_.begin())));
    if (!file) break;
    size_t want = static_cast<size_t>(std::min<uint64_t>(out.size() - done, m.end - at));
    ssize_t n = ::pread(file->fd.get(), out.data() + done, want, static_cast<off_t>(m.offset + (at - m.start)));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
    // Then the core again, should the next bytes be there.
    if (done < out.size()) done += read_core(address + done, out.subspan(done));
  }
  return done;
}

std::optional<std::string> CoreFileTarget::build_id_in_memory(uint64_t base) {
  // The kernel dumps the first page of every ELF mapping (coredump_filter
  // bit 4): the header and the build-id note are there.
  ReadAt memory = [this, base](uint64_t position, std::span<std::byte> out) { return read_core(base + position, out); };
  auto image = read_elf_image(memory);
  if (!image) return std::nullopt;
  auto low = image->first_load_vaddr();
  if (!low) return std::nullopt;
  // The notes sit at their addresses plus the load bias; read relative to base.
  return elf_build_id(*image, memory, false, uint64_t{0} - *low);
}

std::shared_ptr<const ModuleFile> CoreFileTarget::module_file(const std::string& recorded,
                                                              std::optional<uint64_t> base) {
  std::string path = util::without_deleted_mark(recorded);
  if (auto it = resolved_.find(path); it != resolved_.end()) return it->second;
  // Past the cap of distinct files looked up, no more are: a core naming a
  // million files gets a note, not a million searches.
  if (resolved_.size() >= kMaxModuleLookups) {
    if (!lookups_capped_)
      facts_.problems.push_back(
          fmt::format("module files: looked up the first {}; the rest were not", kMaxModuleLookups));
    lookups_capped_ = true;
    return nullptr;
  }
  // The core's memory has the module's build-id in its first page.
  std::optional<std::string> build_id = base ? build_id_in_memory(*base) : std::nullopt;
  bool main = !main_path_.empty() && path == util::without_deleted_mark(main_path_);
  auto found = files_.find(path, main, build_id, engine::arch(arch_).elf_machine);
  std::shared_ptr<const ModuleFile> file;
  if (found) {
    if (found->mismatch) facts_.problems.push_back("module " + util::escape_text(path) + ": " + *found->mismatch);
    else if (found->where != path && !(main && options_.executable))
      facts_.problems.push_back(
          fmt::format("module {}: found as {}", util::escape_text(path), util::escape_text(found->where)));
    file = std::make_shared<const ModuleFile>(std::move(*found));
  } else {
    facts_.problems.push_back(fmt::format("module {}: {}", util::escape_text(path), found.error().message));
  }
  // Found files stay open while few; past that each is found again when
  // needed (a bounded number of fds).
  if (file && kept_open_ >= kMaxOpenModules) return file;
  kept_open_ += file != nullptr;
  resolved_.emplace(path, file);
  return file;
}

std::optional<uint64_t> CoreFileTarget::module_base(size_t index) const {
  // The module's mapping at file offset 0: this one or one just below it.
  const std::string& path = maps_[index].path;
  for (size_t i = index + 1, seen = 0; i-- > 0 && seen < 64; ++seen) {
    if (maps_[i].path != path) break;
    if (maps_[i].offset == 0) return maps_[i].start;
  }
  return std::nullopt;
}

size_t CoreFileTarget::map_index(const proc::MapEntry& mapping) const {
  auto it = std::lower_bound(maps_.begin(), maps_.end(), mapping.start,
                             [](const proc::MapEntry& m, uint64_t start) { return m.start < start; });
  return static_cast<size_t>(it - maps_.begin());
}

std::vector<int> CoreFileTarget::fds() const {
  std::vector<int> fds{fd_.get()};
  for (const auto& [path, file] : resolved_)
    if (file) fds.push_back(file->fd.get());
  return fds;
}

Result<UniqueFd> CoreFileTarget::open_mapped_file(const proc::MapEntry& mapping) {
  size_t i = map_index(mapping);
  auto file = module_file(mapping.path, i < maps_.size() ? module_base(i) : std::nullopt);
  if (!file) return util::fail("no file found (see above)");
  UniqueFd fd(::fcntl(file->fd.get(), F_DUPFD_CLOEXEC, 0));
  if (!fd) return util::fail_errno(util::escape_text(mapping.path));
  return fd;
}

void CoreFileTarget::refine_permissions() {
  // Mappings NT_FILE names that no PT_LOAD describes (gcore's cores): the
  // permissions are those of the file's segment at that offset.
  for (size_t i = 0; i < maps_.size(); ++i) {
    if (perms_known_[i] || !maps_[i].file_backed()) continue;
    auto file = module_file(maps_[i].path, module_base(i));
    if (!file) continue;
    ReadAt read = file_reader(file->fd.get());
    auto image = read_elf_image(read);
    if (!image) continue;
    for (const auto& seg : image->segments) {
      if (seg.type != PT_LOAD) continue;
      uint64_t start = page_down(seg.offset), end = page_up(seg.offset + seg.file_size);
      if (maps_[i].offset >= start && maps_[i].offset < end) {
        maps_[i].perms = segment_perms(seg.flags);
        perms_known_[i] = true;
        break;
      }
    }
  }
}

void CoreFileTarget::add_file_mappings(const std::string& path, const ElfImage& image, uint64_t bias) {
  for (const auto& seg : image.segments) {
    if (seg.type != PT_LOAD || seg.file_size == 0) continue;
    proc::MapEntry m;
    m.start = page_down(seg.vaddr + bias);
    m.end = page_up(seg.vaddr + bias + seg.file_size);
    m.offset = page_down(seg.offset);
    m.perms = segment_perms(seg.flags);
    m.path = path;
    m.inode = 1;
    auto it = std::lower_bound(maps_.begin(), maps_.end(), m.start,
                               [](const proc::MapEntry& e, uint64_t start) { return e.start < start; });
    if (it != maps_.end() && it->start == m.start) {
      // The core's own segment: keep its extent and permissions, add the file.
      if (it->path.empty()) {
        it->path = path;
        it->offset = m.offset;
        it->inode = 1;
      }
      continue;
    }
    if (maps_.size() >= options_.max_maps) return;
    size_t at = static_cast<size_t>(it - maps_.begin());
    maps_.insert(it, std::move(m));
    perms_known_.insert(perms_known_.begin() + static_cast<long>(at), true);
  }
}

void CoreFileTarget::modules_from_link_map() {
  const Arch& a = engine::arch(arch_);
  uint64_t entry = 0, base = 0, execfn = 0;
  for (const auto& e : facts_.auxv) {
    if (e.type == AT_ENTRY) entry = e.value;
    if (e.type == AT_BASE) base = e.value;
    if (e.type == AT_EXECFN) execfn = e.value;
  }
  facts_.problems.push_back("the core has no NT_FILE note: modules are taken from the dynamic linker's list");
  // The executable: as given, else as the aux vector names it.
  std::string exe_path;
  if (options_.executable) {
    exe_path = *options_.executable;
  } else if (execfn) {
    char name[4096];
    size_t got = read_core(execfn, std::as_writable_bytes(std::span(name)));
    exe_path.assign(name, strnlen(name, got));
  }
  if (exe_path.empty()) {
    facts_.problems.push_back("the executable is not named in the core: give it with --exe");
    return;
  }
  main_path_ = exe_path;
  facts_.exe = exe_path;
  auto exe = module_file(exe_path, std::nullopt);
  if (!exe) {
    facts_.problems.push_back("the executable " + util::escape_text(exe_path) + " was not found: give it with --exe");
    return;
  }
  ReadAt exe_read = file_reader(exe->fd.get());
  auto image = read_elf_image(exe_read);
  if (!image) {
    facts_.problems.push_back("the executable " + util::escape_text(exe_path) + ": " + image.error().message);
    return;
  }
  // Position-independent executables load at entry - e_entry.
  uint64_t bias = image->type == ET_DYN && entry ? entry - image->entry : 0;
  add_file_mappings(exe_path, *image, bias);

  LinkMapResult list;
  if (const ElfSegment* dynamic = image->find(PT_DYNAMIC))
    list = read_link_map(core_reader(), dynamic->vaddr + bias, dynamic->mem_size, a.word_size, options_.max_maps);
  else list.problems.push_back("the executable has no dynamic section");
  for (const auto& p : list.problems) facts_.problems.push_back("link map: " + p);
  bool interpreter_seen = false;
  for (const auto& e : list.entries) {
    // The first entry is the executable; the vdso has no file.
    if (e.name.empty() || e.name[0] != '/') continue;
    auto file = module_file(e.name, std::nullopt);
    if (!file) continue;
    ReadAt read = file_reader(file->fd.get());
    if (auto lib = read_elf_image(read)) add_file_mappings(e.name, *lib, e.base);
    if (base && e.base == base) interpreter_seen = true;
  }
  // No list yet (a crash before the dynamic linker made one): the
  // interpreter at least, from AT_BASE.
  if (!interpreter_seen && base) {
    if (auto interp = elf_interpreter(*image, exe_read)) {
      if (auto file = module_file(*interp, std::nullopt)) {
        ReadAt read = file_reader(file->fd.get());
        if (auto ld = read_elf_image(read)) add_file_mappings(*interp, *ld, base - ld->first_load_vaddr().value_or(0));
      }
    }
  }
}

}  // namespace usercrash::engine
