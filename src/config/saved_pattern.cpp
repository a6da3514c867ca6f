#include "config/saved_pattern.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "util/file_io.h"
#include "util/private_directory.h"
#include "util/unique_fd.h"

namespace usercrash::config {

util::Result<std::optional<std::string>> read_saved_pattern_at(int dirfd) {
  util::UniqueFd fd(::openat(dirfd, kSavedPatternName, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) return std::optional<std::string>();
    return util::fail_errno(kSavedPatternName);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return util::fail(fmt::format("{}: not a regular file", kSavedPatternName));
  if (st.st_uid != ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
    return util::fail(fmt::format("{}: must be root's and writable by root only", kSavedPatternName));
  bool truncated = false;
  auto text = util::read_all(fd.get(), kMaxSavedPattern, &truncated);
  if (!text) return util::fail(fmt::format("{}: {}", kSavedPatternName, text.error().message));
  if (truncated) return util::fail(fmt::format("{}: larger than {} bytes", kSavedPatternName, kMaxSavedPattern));
  return std::optional<std::string>(std::move(*text));
}

util::Result<std::optional<std::string>> read_saved_pattern(const std::string& state_directory) {
  util::DirectoryRules rules;
  rules.what = "state directory";
  auto dir = util::open_private_directory(state_directory, rules);
  if (!dir) {
    if (dir.error().errno_value == ENOENT) return std::optional<std::string>();
    return std::unexpected(dir.error());
  }
  auto pattern = read_saved_pattern_at(dir->get());
  if (!pattern) return util::fail(state_directory + "/" + pattern.error().message);
  return pattern;
}

}  // namespace usercrash::config
