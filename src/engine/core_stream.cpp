#include "engine/core_stream.h"

#include <fmt/format.h>

#include "util/file_io.h"

namespace usercrash::engine {

CoreHead read_core_head(int fd, const CoreLimits& limits, size_t max_head) {
  CoreHead head;
  // Grows head.bytes to `want` bytes; false when the stream ended or failed first.
  auto fill_to = [&](size_t want) -> bool {
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
    if (head.bytes.size() < want) {
      head.end_of_stream = true;
      head.problem = fmt::format("core stream ended after {} bytes, inside its header", head.bytes.size());
      return false;
    }
    return true;
  };

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
    size_t count = layout->phnum == 0xffff ? 1 : layout->phnum;
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
