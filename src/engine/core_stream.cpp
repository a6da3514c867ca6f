#include "engine/core_stream.h"

#include <elf.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "util/file_io.h"

namespace usercrash::engine {

namespace {

// Copies bytes from the core stream into the spill file, keeping those
// asked for in memory too.
class Spiller {
 public:
  Spiller(int in, int out) : in_(in), out_(out) {}

  // Moves `n` bytes on; the first `keep` of them are appended to `kept`.
  // False (with `problem` set) when the stream ended or a read or write failed.
  bool pass(uint64_t n, size_t keep, std::vector<std::byte>& kept) {
    while (n > 0) {
      size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, buffer_.size()));
      auto got = util::read_full(in_, buffer_.data(), chunk);
      if (!got) return fail("reading the core stream failed: " + got.error().message);
      std::span<const std::byte> bytes(buffer_.data(), *got);
      if (!write(bytes)) return false;
      size_t take = std::min(keep, bytes.size());
      kept.insert(kept.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(take));
      keep -= take;
      n -= *got;
      if (*got < chunk) {
        ended = true;
        return fail(fmt::format("core stream ended after {} bytes, inside its notes", written));
      }
    }
    return true;
  }
  bool write(std::span<const std::byte> bytes) {
    auto w = util::write_all(out_, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    if (!w) return fail("keeping the core head failed: " + w.error().message);
    written += bytes.size();
    return true;
  }

  uint64_t written = 0;
  bool ended = false;
  std::optional<std::string> problem;

 private:
  bool fail(std::string why) {
    problem = std::move(why);
    return false;
  }
  int in_, out_;
  std::vector<std::byte> buffer_ = std::vector<std::byte>(1 << 20);
};

uint32_t load_u32(std::span<const std::byte> bytes, size_t offset) {
  uint32_t v;
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

// The notes of a head too large for memory (head.bytes holds everything up
// to them): every byte goes to an unnamed memory file, and the notes are
// parsed from a copy in which each descriptor is cut to kMaxNoteInMemory.
// False when no memory file could be made (head unchanged).
bool spill_notes(int fd, CoreHead& head, const CoreLimits& limits) {
  util::UniqueFd file(::memfd_create("usercrash-core-head", MFD_CLOEXEC));
  if (!file) return false;
  const CoreLayout& layout = *head.layout;
  Spiller spill(fd, file.get());
  std::vector<std::byte> notes, none;
  std::vector<std::string> cut;
  auto finish = [&] {
    head.bytes.clear();
    head.bytes.shrink_to_fit();
    head.spilled = std::move(file);
    head.size = spill.written;
    head.end_of_stream = spill.ended;
    if (spill.problem) head.problem = spill.problem;
    head.notes = parse_core_notes(notes, limits, layout.arch);
    for (auto& c : cut) head.notes.problems.push_back(std::move(c));
    return true;
  };
  if (!spill.write(head.bytes)) return finish();
  constexpr size_t kNoteHeader = 12;
  uint64_t left = layout.note_size;
  while (left >= kNoteHeader) {
    size_t at = notes.size();
    if (!spill.pass(kNoteHeader, kNoteHeader, notes)) return finish();
    left -= kNoteHeader;
    uint64_t name = (uint64_t{load_u32(notes, at)} + 3) & ~uint64_t{3};
    uint64_t desc = (uint64_t{load_u32(notes, at + 4)} + 3) & ~uint64_t{3};
    if (name > left || desc > left - name || name > kMaxNoteInMemory) break;  // malformed: the rest below
    if (!spill.pass(name, name, notes)) return finish();
    size_t keep = static_cast<size_t>(std::min<uint64_t>(desc, kMaxNoteInMemory));
    if (keep < desc) {
      uint32_t kept = static_cast<uint32_t>(keep);
      std::memcpy(notes.data() + at + 4, &kept, sizeof kept);
      cut.push_back(fmt::format("a note of type {} holds {} bytes; only its first {} were read",
                                load_u32(notes, at + 8), desc, keep));
    }
    if (!spill.pass(desc, keep, notes)) return finish();
    left -= name + desc;
  }
  // A malformed or short tail: passed on whole, parsed from its start.
  spill.pass(left, kMaxNoteInMemory, notes);
  return finish();
}

// Grows head.bytes to `want` bytes read from `fd` (at most `max_head`); false
// (with head.problem set) when the stream ended or failed first.
bool fill_head_to(int fd, CoreHead& head, size_t want, size_t max_head) {
  if (want <= head.bytes.size()) return true;
  if (want > max_head) {
    head.problem = fmt::format("core head larger than {} bytes; notes not read", max_head);
    return false;
  }
  size_t have = head.bytes.size();
  head.bytes.resize(want);
  auto n = util::read_full(fd, head.bytes.data() + have, want - have);
  if (!n) {
    head.bytes.resize(have);
    head.problem = "reading the core stream failed: " + n.error().message;
    return false;
  }
  head.bytes.resize(have + *n);
  head.size = head.bytes.size();
  if (head.bytes.size() < want) {
    head.end_of_stream = true;
    head.problem = fmt::format("core stream ended after {} bytes, inside its header", head.bytes.size());
    return false;
  }
  return true;
}

}  // namespace

CoreHead read_core_head(int fd, const CoreLimits& limits, size_t max_head, size_t in_memory) {
  CoreHead head;
  auto fill_to = [&](size_t want) { return fill_head_to(fd, head, want, max_head); };

  if (!fill_to(kElfHeaderSize)) return head;
  auto layout = parse_core_layout(head.bytes);
  if (!layout) {
    head.problem = "the core stream is not usable: " + layout.error().message;
    return head;
  }
  // The program headers: normally the PT_NOTE entry is the first of them.
  size_t ph_end = layout->phoff + layout->phentsize;
  if (!fill_to(ph_end)) return head;
  layout = parse_core_layout(head.bytes);
  if (layout && layout->note_size == 0 && layout->phnum > 1) {
    // Not first: read them all (bounded by max_head).
    size_t count = layout->phnum == PN_XNUM ? 1 : layout->phnum;
    if (!fill_to(layout->phoff + count * layout->phentsize)) return head;
    layout = parse_core_layout(head.bytes);
  }
  if (!layout || layout->note_size == 0) {
    head.problem = "the core has no note segment";
    if (layout) head.layout = *layout;
    return head;
  }
  if (layout->note_offset < layout->phoff) {
    head.problem = "the note segment lies before the program headers";
    head.layout = *layout;
    return head;
  }
  // Both come from the stream: an end beyond the cap, or one that wraps
  // around, is refused here rather than wrapped into "already read".
  if (layout->note_size > max_head || layout->note_offset > max_head - layout->note_size) {
    head.problem = fmt::format("core head larger than {} bytes; notes not read", max_head);
    head.layout = *layout;
    return head;
  }
  if (layout->note_offset + layout->note_size > in_memory) {
    if (!fill_to(layout->note_offset)) {
      head.layout = *layout;
      return head;
    }
    if (auto full = parse_core_layout(head.bytes)) layout = std::move(full);
    head.layout = *layout;
    if (spill_notes(fd, head, limits)) return head;
    // No memory file: read it as a small head (bounded by max_head).
  }
  if (!fill_to(layout->note_offset + layout->note_size)) {
    head.layout = *layout;
    return head;
  }
  // Re-parse with every program header we now hold (they precede the notes).
  if (auto full = parse_core_layout(head.bytes)) layout = std::move(full);
  head.layout = *layout;
  head.notes =
      parse_core_notes(std::span(head.bytes).subspan(layout->note_offset, layout->note_size), limits, layout->arch);
  return head;
}

}  // namespace usercrash::engine
