// Bounded reads and complete writes on fds.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::util {

// Reads until EOF or `max_bytes`, retrying on EINTR. `truncated` (when given)
// says whether bytes were left unread.
Result<std::string> read_all(int fd, size_t max_bytes, bool* truncated = nullptr);

// Opens `name` under `dirfd` (O_RDONLY|O_NOFOLLOW|O_CLOEXEC) and reads it.
Result<std::string> read_file_at(int dirfd, const char* name, size_t max_bytes, bool* truncated = nullptr);

// Reads `fd` to its end one line at a time (without the '\n'), holding at
// most one line in memory: a line longer than `max_line` is skipped. Stops
// early when `line` returns false.
Result<void> for_each_line(int fd, size_t max_line, const std::function<bool(std::string_view)>& line);

// Writes everything or fails (EINTR and short writes handled).
Result<void> write_all(int fd, std::string_view data);

// Reads exactly `size` bytes unless EOF comes first; returns the count read.
Result<size_t> read_full(int fd, void* buffer, size_t size);

// Opens `path` relative to `dirfd`, O_RDONLY|O_CLOEXEC plus `extra_flags`.
Result<UniqueFd> open_at(int dirfd, const char* path, int extra_flags = 0);

// A file created fresh for writing where the caller named it, through no
// symbolic link on the whole path (openat2 RESOLVE_NO_SYMLINKS for the
// directory, O_CREAT|O_EXCL|O_NOFOLLOW for the file): a directory on the way
// that someone swaps for a link cannot send root's write elsewhere.
class NewFile {
 public:
  // `path` absolute or relative to the working directory; the file must not
  // exist. Errors say which part refused.
  static Result<NewFile> create(const std::string& path, mode_t mode);
  int fd() const { return fd_.get(); }
  // Removes the file again, by name in the directory it was created in.
  void remove();

 private:
  UniqueFd dir_;
  std::string name_;
  UniqueFd fd_;
};

}  // namespace usercrash::util
