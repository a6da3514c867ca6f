#include "util/directory_walk.h"

#include <fcntl.h>
#include <unistd.h>

namespace usercrash::util {

Result<DirectoryWalk> DirectoryWalk::open(int dirfd, const char* name) {
  int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_errno(name);
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    int err = errno;
    ::close(fd);
    return fail_errno(name, err);
  }
  return DirectoryWalk(dir);
}

DirectoryWalk::~DirectoryWalk() {
  if (dir_) ::closedir(dir_);
}

std::optional<std::string_view> DirectoryWalk::next() {
  while (const dirent* e = ::readdir(dir_)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") return name;
  }
  return std::nullopt;
}

}  // namespace usercrash::util
