#include "util/sparse_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace usercrash::util {

namespace {

constexpr size_t kPage = 4096;
// Bytes gathered before whole pages are written out.
constexpr size_t kChunk = 1 << 20;

bool all_zero(const std::byte* data, size_t size) {
  return std::all_of(data, data + size, [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace

SparseWriter::SparseWriter(int fd) : fd_(fd) {
  // Holes only in a regular file; anything else gets the zeros.
  struct stat st {};
  off_t at = ::lseek(fd, 0, SEEK_CUR);
  seekable_ = at >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  start_ = seekable_ ? static_cast<uint64_t>(at) : 0;
}

Result<void> SparseWriter::put(const std::byte* data, size_t size) {
  while (size > 0) {
    ssize_t n = seekable_ ? ::pwrite(fd_, data, size, static_cast<off_t>(start_ + written_)) : ::write(fd_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail_errno(ErrorKind::writing, "write");
    data += n;
    size -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  return {};
}

// Writes the whole pages waiting (and with `all`, the partial one too).
Result<void> SparseWriter::flush(bool all) {
  size_t end = all ? pending_.size() : pending_.size() / kPage * kPage;
  size_t run = 0;  // first byte not yet written
  for (size_t at = 0; at + kPage <= end && seekable_; at += kPage) {
    if (!all_zero(pending_.data() + at, kPage)) continue;
    if (auto w = put(pending_.data() + run, at - run); !w) return w;
    written_ += kPage;  // a hole
    run = at + kPage;
  }
  if (auto w = put(pending_.data() + run, end - run); !w) return w;
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(end));
  return {};
}

Result<void> SparseWriter::write(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    size_t take = std::min(bytes.size(), kChunk - std::min(kChunk, pending_.size()));
    pending_.insert(pending_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    if (pending_.size() >= kChunk)
      if (auto f = flush(false); !f) return f;
  }
  return {};
}

Result<uint64_t> SparseWriter::finish() {
  if (auto f = flush(true); !f) return std::unexpected(f.error());
  // A hole at the end still counts in the size.
  if (seekable_ && ::ftruncate(fd_, static_cast<off_t>(start_ + written_)) != 0)
    return fail_errno(ErrorKind::writing, "truncate");
  return written_;
}

}  // namespace usercrash::util
