// The ELF core parsers on arbitrary bytes: the input as a whole core head
// (parse_core_layout, then its note segment), as a bare note segment, and as
// a stream read by read_core_head.
#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "engine/core_notes.h"
#include "engine/core_stream.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace usercrash::engine;

constexpr CoreLimits kLimits{8, 64};

void check_notes(const CoreNotes& n) {
  FUZZ_CHECK(n.threads.size() <= kLimits.max_threads);
  FUZZ_CHECK(n.files.size() <= kLimits.max_files);
  FUZZ_CHECK(n.auxv.size() <= 256);
  for (const auto& p : n.problems) FUZZ_CHECK(!p.empty());
}

int stream_fd() {
  static int fd = ::memfd_create("core-stream", MFD_CLOEXEC);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::as_bytes(std::span(data, size));

  auto layout = parse_core_layout(bytes);
  if (layout) {
    FUZZ_CHECK(size >= sizeof(Elf32_Ehdr));  // the smaller of the two classes
    if (layout->note_size != 0 && layout->note_offset <= size && layout->note_size <= size - layout->note_offset)
      check_notes(parse_core_notes(bytes.subspan(layout->note_offset, layout->note_size), kLimits));
  }
  check_notes(parse_core_notes(bytes, kLimits));

  int fd = stream_fd();
  FUZZ_CHECK(fd >= 0);
  FUZZ_CHECK(::ftruncate(fd, 0) == 0);
  FUZZ_CHECK(::pwrite(fd, data, size, 0) == static_cast<ssize_t>(size));
  FUZZ_CHECK(::lseek(fd, 0, SEEK_SET) == 0);
  constexpr size_t kMaxHead = 1 << 20;
  CoreHead head = read_core_head(fd, kLimits, kMaxHead);
  FUZZ_CHECK(head.bytes.size() <= size && head.bytes.size() <= kMaxHead);
  FUZZ_CHECK(std::memcmp(head.bytes.data(), data, head.bytes.size()) == 0);
  check_notes(head.notes);
  if (!head.problem) {
    FUZZ_CHECK(head.layout.has_value());
    FUZZ_CHECK(head.bytes.size() >= head.layout->note_offset + head.layout->note_size);
  }
  // Again with a head too large for memory past 4 KiB: spilled, the bytes
  // kept are the stream's own, and the notes stay within their caps.
  FUZZ_CHECK(::lseek(fd, 0, SEEK_SET) == 0);
  CoreHead spilled = read_core_head(fd, kLimits, kMaxHead, 4096);
  check_notes(spilled.notes);
  FUZZ_CHECK(spilled.size <= size);
  if (spilled.spilled) {
    FUZZ_CHECK(spilled.bytes.empty());
    std::vector<uint8_t> kept(spilled.size);
    FUZZ_CHECK(::pread(spilled.spilled.get(), kept.data(), kept.size(), 0) == static_cast<ssize_t>(kept.size()));
    FUZZ_CHECK(std::memcmp(kept.data(), data, kept.size()) == 0);
  }
  return 0;
}
