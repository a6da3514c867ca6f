#include "engine/trusted_file.h"

#include <fcntl.h>

#include <optional>
#include <string>

#include <fmt/format.h>

#include "util/escape.h"

namespace usercrash::engine {
namespace {

std::optional<std::string> untrusted(const struct stat& st) {
  if (st.st_uid != 0) return fmt::format("owned by uid {}, not root", st.st_uid);
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return fmt::format("writable by group or others (mode {:o})", st.st_mode & 07777);
  return std::nullopt;
}

}  // namespace

util::Result<TrustedFile> open_trusted_file(const std::string& path) {
  std::string shown = util::escape_text(path);
  if (path.empty() || path[0] != '/') return util::fail(shown + ": not an absolute path");
  util::UniqueFd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct stat st {};
  if (!dir || ::fstat(dir.get(), &st) != 0) return util::fail_errno("/");
  if (auto why = untrusted(st)) return util::fail("/: " + *why);
  size_t at = 1;
  while (true) {
    size_t slash = path.find('/', at);
    std::string name = path.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
    std::string upto = util::escape_text(path.substr(0, slash));
    if (name.empty() || name == "." || name == "..") return util::fail(shown + ": not a plain path");
    if (slash == std::string::npos) {
      util::UniqueFd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
      if (!fd) return util::fail_errno(upto);
      if (::fstat(fd.get(), &st) != 0) return util::fail_errno(upto);
      if (!S_ISREG(st.st_mode)) return util::fail(upto + ": not a regular file");
      if (auto why = untrusted(st)) return util::fail(upto + ": " + *why);
      return TrustedFile{std::move(fd), st};
    }
    util::UniqueFd next(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      int err = errno;
      return util::fail_errno(upto + (err == ENOTDIR ? " (a symlink or not a directory)" : ""), err);
    }
    if (::fstat(next.get(), &st) != 0) return util::fail_errno(upto);
    if (auto why = untrusted(st)) return util::fail(upto + ": " + *why);
    dir = std::move(next);
    at = slash + 1;
  }
}

}  // namespace usercrash::engine
