#include "engine/core_file_target.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "util/file_io.h"

namespace usercrash::engine {

using util::Result;
using util::UniqueFd;

namespace {

// A core's notes for tens of thousands of threads stay well below this.
constexpr uint64_t kMaxNotes = 256ULL << 20;
constexpr uint64_t kMaxProgramHeaders = 4ULL << 20;

}  // namespace

Result<std::unique_ptr<CoreFileTarget>> CoreFileTarget::open(const std::string& path, const CoreFileOptions& options) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return util::fail_errno(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return util::fail_errno(path);
  if (!S_ISREG(st.st_mode)) return util::fail(path + ": not a regular file");

  std::vector<std::byte> head(kElfHeaderSize);
  if (::pread(fd.get(), head.data(), head.size(), 0) != static_cast<ssize_t>(head.size()))
    return util::fail(path + ": shorter than an ELF header");
  auto layout = parse_core_layout(head);
  if (!layout) return util::fail(path + ": " + layout.error().message);
  // Program headers follow the ELF header; an offset inside it would make
  // the read below start past the buffer, a huge one would size the buffer.
  const uint64_t header_size = layout->phentsize == sizeof(Elf64_Phdr) ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
  if (layout->phoff < header_size || layout->phoff > kMaxProgramHeaders ||
      layout->phoff > static_cast<uint64_t>(st.st_size))
    return util::fail(path + ": program headers out of bounds");
  // Program headers (the count may be in section 0 for PN_XNUM; read up to the notes).
  uint64_t ph_bytes = static_cast<uint64_t>(layout->phnum == 0xffff ? 0 : layout->phnum) * layout->phentsize;
  if (layout->phnum == 0xffff || ph_bytes > kMaxProgramHeaders) ph_bytes = kMaxProgramHeaders;
  ph_bytes =
      std::min<uint64_t>(ph_bytes, static_cast<uint64_t>(st.st_size) - std::min<uint64_t>(st.st_size, layout->phoff));
  head.resize(std::max<uint64_t>(kElfHeaderSize, layout->phoff + ph_bytes));
  ssize_t n = ::pread(fd.get(), head.data() + kElfHeaderSize, head.size() - kElfHeaderSize, kElfHeaderSize);
  if (n < 0) return util::fail_errno(path);
  head.resize(kElfHeaderSize + static_cast<size_t>(n));
  layout = parse_core_layout(head);
  if (!layout) return util::fail(path + ": " + layout.error().message);
  if (layout->note_size == 0) return util::fail(path + ": no note segment");
  if (layout->note_size > kMaxNotes || layout->note_offset > static_cast<uint64_t>(st.st_size))
    return util::fail(path + ": note segment out of bounds");

  std::vector<std::byte> notes(layout->note_size);
  n = ::pread(fd.get(), notes.data(), notes.size(), static_cast<off_t>(layout->note_offset));
  if (n < 0) return util::fail_errno(path);
  notes.resize(static_cast<size_t>(n));
  CoreNotes parsed = parse_core_notes(notes, {}, layout->arch);
  if (notes.size() < layout->note_size) parsed.problems.push_back("the note segment is cut short (truncated core?)");
  return std::unique_ptr<CoreFileTarget>(new CoreFileTarget(std::move(fd), std::move(*layout), parsed, options));
}

CoreFileTarget::CoreFileTarget(UniqueFd fd, CoreLayout layout, const CoreNotes& notes, CoreFileOptions options)
    : NotesTarget(notes, notes.psinfo ? notes.psinfo->pid : 0, "core_file", layout.loads),
      fd_(std::move(fd)),
      layout_(std::move(layout)),
      options_(std::move(options)) {
  if (!notes.files.empty()) main_path_ = notes.files.front().path;
  if (!main_path_.empty()) facts_.exe = main_path_;
  if (options_.executable) facts_.exe = *options_.executable;
}

size_t CoreFileTarget::read_memory(uint64_t address, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    uint64_t at = address + done;
    auto seg = std::find_if(layout_.loads.begin(), layout_.loads.end(),
                            [&](const CoreSegment& s) { return at >= s.vaddr && at < s.vaddr + s.mem_size; });
    if (seg == layout_.loads.end()) break;
    uint64_t in_seg = at - seg->vaddr;
    size_t want = static_cast<size_t>(std::min<uint64_t>(out.size() - done, seg->mem_size - in_seg));
    if (in_seg >= seg->file_size) {
      // Past what the core holds for this segment: not dumped (the kernel
      // leaves out file-backed text), so not readable here.
      break;
    }
    want = static_cast<size_t>(std::min<uint64_t>(want, seg->file_size - in_seg));
    ssize_t n = ::pread(fd_.get(), out.data() + done, want, static_cast<off_t>(seg->file_offset + in_seg));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < want) break;
  }
  return done;
}

Result<UniqueFd> CoreFileTarget::open_mapped_file(const proc::MapEntry& mapping) {
  std::string path = mapping.path;
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.ends_with(kDeleted)) path.resize(path.size() - kDeleted.size());
  if (options_.executable && path == main_path_) path = *options_.executable;
  else path = options_.sysroot + path;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return util::fail_errno(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return util::fail(path + ": not a regular file");
  return fd;
}

}  // namespace usercrash::engine
