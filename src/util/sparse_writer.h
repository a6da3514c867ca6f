// Writing a stream into a file the way the kernel writes a core file: every
// whole page of zeros at a page-aligned offset is left as a hole, and the
// file still gets its full size. A core is mostly unpopulated pages, which
// readers (gdb) see as zeros either way. Where the output is not a regular
// file (a pipe), the zeros are written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "util/result.h"

namespace usercrash::util {

class SparseWriter {
 public:
  // Writes into `fd` (not owned) from its current offset.
  explicit SparseWriter(int fd);

  // Appends `bytes`. Errors are of kind `writing`.
  Result<void> write(std::span<const std::byte> bytes);

  // Writes what waits for a whole page and sets the file's size. Returns the
  // bytes written, holes included.
  Result<uint64_t> finish();

  // Bytes taken so far.
  uint64_t size() const { return written_ + pending_.size(); }

 private:
  Result<void> flush(bool all);
  Result<void> put(const std::byte* data, size_t size);

  int fd_;
  bool seekable_;
  uint64_t start_ = 0;    // the fd's offset when we began
  uint64_t written_ = 0;  // bytes handled (written or left as holes) since
  std::vector<std::byte> pending_;
};

}  // namespace usercrash::util
