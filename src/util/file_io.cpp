#include "util/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace usercrash::util {

Result<std::string> read_all(int fd, size_t max_bytes, bool* truncated) {
  std::string out;
  if (truncated) *truncated = false;
  char buffer[16384];
  while (out.size() < max_bytes) {
    size_t want = std::min(sizeof buffer, max_bytes - out.size());
    ssize_t n = ::read(fd, buffer, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read");
    }
    if (n == 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
  if (truncated) {
    char probe;
    ssize_t n;
    do {
      n = ::read(fd, &probe, 1);
    } while (n < 0 && errno == EINTR);
    *truncated = n > 0;
  }
  return out;
}

Result<std::string> read_file_at(int dirfd, const char* name, size_t max_bytes, bool* truncated) {
  auto fd = open_at(dirfd, name, O_NOFOLLOW);
  if (!fd) return std::unexpected(fd.error());
  return read_all(fd->get(), max_bytes, truncated);
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<size_t> read_full(int fd, void* buffer, size_t size) {
  size_t done = 0;
  auto* p = static_cast<char*>(buffer);
  while (done < size) {
    ssize_t n = ::read(fd, p + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<UniqueFd> open_at(int dirfd, const char* path, int extra_flags) {
  int fd = ::openat(dirfd, path, O_RDONLY | O_CLOEXEC | extra_flags);
  if (fd < 0) return fail_errno(std::string("open ") + path);
  return UniqueFd(fd);
}

}  // namespace usercrash::util
