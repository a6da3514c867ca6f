#include "util/file_io.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

Result<void> for_each_line(int fd, size_t max_line, const std::function<bool(std::string_view)>& line) {
  std::string pending;    // the start of a line not yet ended
  bool skipping = false;  // inside a line longer than max_line
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(ErrorKind::reading, "read");
    if (n == 0) {
      if (!pending.empty() && !skipping) line(pending);  // a last line without '\n'
      return {};
    }
    std::string_view chunk(buffer, static_cast<size_t>(n));
    for (size_t end; (end = chunk.find('\n')) != std::string_view::npos; chunk.remove_prefix(end + 1)) {
      bool go_on = true;
      if (!skipping && pending.size() + end <= max_line) {
        if (pending.empty()) go_on = line(chunk.substr(0, end));
        else go_on = line(pending.append(chunk.substr(0, end)));
      }
      pending.clear();
      skipping = false;
      if (!go_on) return {};
    }
    if (skipping || pending.size() + chunk.size() > max_line) {
      pending.clear();
      skipping = true;
    } else {
      pending.append(chunk);
    }
  }
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

Result<NewFile> NewFile::create(const std::string& path, mode_t mode) {
  size_t slash = path.rfind('/');
  std::string directory = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  NewFile file;
  file.name_ = slash == std::string::npos ? path : path.substr(slash + 1);
  if (file.name_.empty() || file.name_ == "." || file.name_ == "..") return fail(path + ": not a file name");
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int dir = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, directory.c_str(), &how, sizeof how));
  if (dir < 0 && errno == ELOOP)
    return fail(directory + ": the path goes through a symbolic link; not following it (name the real directory)",
                ELOOP);
  if (dir < 0) return fail_errno(directory);
  file.dir_.reset(dir);
  file.fd_.reset(::openat(dir, file.name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (file.fd_) return file;
  int err = errno;
  struct stat st {};
  if (err == ELOOP ||
      (err == EEXIST && ::fstatat(dir, file.name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)))
    return fail(path + ": is a symbolic link; not following it", ELOOP);
  if (err == EEXIST) return fail(path + ": already exists; not replacing it (choose a new file name)", EEXIST);
  return fail_errno(path, err);
}

void NewFile::remove() {
  if (!fd_) return;
  // Only the file we made: a name someone replaced since stays.
  struct stat ours {
  }, named{};
  bool same = ::fstat(fd_.get(), &ours) == 0 &&
              ::fstatat(dir_.get(), name_.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 && ours.st_dev == named.st_dev &&
              ours.st_ino == named.st_ino;
  fd_.reset();
  if (same) ::unlinkat(dir_.get(), name_.c_str(), 0);
}

}  // namespace usercrash::util
