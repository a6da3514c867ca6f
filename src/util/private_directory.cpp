#include "util/private_directory.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace usercrash::util {

Result<UniqueFd> open_private_directory(const std::string& path, const DirectoryRules& rules, struct stat* st_out) {
  if (path.empty() || path[0] != '/') return fail(fmt::format("{} '{}' is not an absolute path", rules.what, path));
  if (rules.create_mode && ::mkdir(path.c_str(), *rules.create_mode) != 0 && errno != EEXIST)
    return fail_errno(fmt::format("create {} {}", rules.what, path));
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir && errno == EACCES && rules.search_only_ok)
    dir.reset(::open(path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) {
    int err = errno;
    if (err == ELOOP || err == ENOTDIR) return fail(path + " is not a directory (or is a symlink)", err);
    return fail_errno(fmt::format("open {} {}", rules.what, path), err);
  }
  struct stat st {};
  if (::fstat(dir.get(), &st) != 0) return fail_errno(path);
  if (rules.must_be_ours && st.st_uid != ::geteuid())
    return fail(
        fmt::format("{} {} belongs to uid {}, not to uid {}; refusing it", rules.what, path, st.st_uid, ::geteuid()));
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return fail(fmt::format("{} {} is writable by group or others (mode {:04o}); refusing it", rules.what, path,
                            st.st_mode & 07777));
  if (st_out) *st_out = st;
  return dir;
}

}  // namespace usercrash::util
