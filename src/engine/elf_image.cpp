#include "engine/elf_image.h"

#include <elf.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

namespace usercrash::engine {
namespace {

// Notes of a build-id are tens of bytes; a note segment past this is not read.
constexpr size_t kMaxNoteSegment = 64 * 1024;
constexpr size_t kMaxInterpreter = 4096;

template <typename T>
bool read_struct(const ReadAt& read, uint64_t position, T& out) {
  std::byte buffer[sizeof(T)];
  if (read(position, buffer) != sizeof buffer) return false;
  std::memcpy(&out, buffer, sizeof out);
  return true;
}

}  // namespace

std::optional<uint64_t> ElfImage::first_load_vaddr() const {
  std::optional<uint64_t> low;
  for (const auto& s : segments)
    if (s.type == PT_LOAD && (!low || s.vaddr < *low)) low = s.vaddr;
  if (low) *low &= ~uint64_t{0xfff};
  return low;
}

const ElfSegment* ElfImage::find(uint32_t segment_type) const {
  for (const auto& s : segments)
    if (s.type == segment_type) return &s;
  return nullptr;
}

namespace {

// The header fields both ELF classes share, read as the class's own struct.
template <typename Ehdr, typename Phdr>
util::Result<void> read_header(const ReadAt& read, ElfImage& image, uint16_t& phnum) {
  Ehdr eh;
  if (!read_struct(read, 0, eh)) return util::fail("shorter than an ELF header");
  image.type = eh.e_type;
  image.machine = eh.e_machine;
  image.entry = eh.e_entry;
  image.phoff = eh.e_phoff;
  phnum = eh.e_phnum;
  if (eh.e_phentsize != sizeof(Phdr)) return util::fail("unexpected program header size");
  return {};
}

template <typename Phdr>
std::optional<ElfSegment> read_segment(const ReadAt& read, uint64_t at) {
  Phdr ph;
  if (!read_struct(read, at, ph)) return std::nullopt;
  return ElfSegment{ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz};
}

}  // namespace

std::string segment_perms(uint32_t flags) {
  std::string p = "---p";
  if (flags & PF_R) p[0] = 'r';
  if (flags & PF_W) p[1] = 'w';
  if (flags & PF_X) p[2] = 'x';
  return p;
}

util::Result<ElfImage> read_elf_image(const ReadAt& read) {
  unsigned char ident[EI_NIDENT];
  if (read(0, std::as_writable_bytes(std::span(ident))) != sizeof ident)
    return util::fail("shorter than an ELF header");
  if (std::memcmp(ident, ELFMAG, SELFMAG) != 0) return util::fail("not an ELF file");
  if (ident[EI_DATA] != ELFDATA2LSB) return util::fail("not a little-endian ELF file");
  ElfImage image;
  image.elf_class = ident[EI_CLASS];
  uint16_t phnum = 0;
  util::Result<void> header;
  if (image.elf_class == ELFCLASS64) header = read_header<Elf64_Ehdr, Elf64_Phdr>(read, image, phnum);
  else if (image.elf_class == ELFCLASS32) header = read_header<Elf32_Ehdr, Elf32_Phdr>(read, image, phnum);
  else return util::fail("ELF class is neither 32 nor 64-bit");
  if (!header) return std::unexpected(header.error());
  const uint64_t phentsize = image.elf_class == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
  if (phnum > kMaxElfSegments) return util::fail(fmt::format("{} program headers", phnum));
  for (uint16_t i = 0; i < phnum; ++i) {
    uint64_t at = image.phoff + uint64_t{i} * phentsize;
    if (at < image.phoff) break;  // wrapped
    auto s = image.elf_class == ELFCLASS64 ? read_segment<Elf64_Phdr>(read, at) : read_segment<Elf32_Phdr>(read, at);
    if (!s) return util::fail("program headers cut short");
    image.segments.push_back(*s);
  }
  return image;
}

std::optional<std::string> elf_build_id(const ElfImage& image, const ReadAt& read, bool file, uint64_t bias) {
  for (const auto& s : image.segments) {
    if (s.type != PT_NOTE || s.file_size == 0 || s.file_size > kMaxNoteSegment) continue;
    std::vector<std::byte> notes(s.file_size);
    notes.resize(read(file ? s.offset : s.vaddr + bias, notes));
    size_t off = 0;
    while (off + sizeof(Elf64_Nhdr) <= notes.size()) {
      Elf64_Nhdr nh;  // the same three words in both classes
      std::memcpy(&nh, notes.data() + off, sizeof nh);
      size_t name_off = off + sizeof nh;
      size_t desc_off = name_off + ((size_t{nh.n_namesz} + 3) & ~size_t{3});
      size_t next = desc_off + ((size_t{nh.n_descsz} + 3) & ~size_t{3});
      if (nh.n_namesz > notes.size() || nh.n_descsz > notes.size() || next > notes.size()) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && std::memcmp(notes.data() + name_off, "GNU", 4) == 0 &&
          nh.n_descsz > 0) {
        std::string hex;
        for (size_t i = 0; i < nh.n_descsz; ++i)
          hex += fmt::format("{:02x}", static_cast<unsigned>(notes[desc_off + i]));
        return hex;
      }
      off = next;
    }
  }
  return std::nullopt;
}

std::optional<std::string> elf_interpreter(const ElfImage& image, const ReadAt& read) {
  const ElfSegment* s = image.find(PT_INTERP);
  if (!s || s->file_size == 0 || s->file_size > kMaxInterpreter) return std::nullopt;
  std::string path(s->file_size, '\0');
  path.resize(read(s->offset, std::as_writable_bytes(std::span(path))));
  path.resize(strnlen(path.data(), path.size()));
  if (path.empty()) return std::nullopt;
  return path;
}

ReadAt file_reader(int fd) {
  return [fd](uint64_t position, std::span<std::byte> out) -> size_t {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(position + done));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  };
}

}  // namespace usercrash::engine
