// Files the warm collector may load once and keep (engine/warm_modules.h):
// system libraries and their debug files, which nothing the crashed process
// controls may have written. A file is trusted when it is a regular file
// owned by root and not writable by group or others, and so is every
// directory from / down to it; every component is opened relative to the
// one checked before it with O_NOFOLLOW, so a symlink anywhere on the path
// is refused (resolve the path first, e.g. with realpath, as a trusted
// caller).
#pragma once

#include <sys/stat.h>

#include <string>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::engine {

struct TrustedFile {
  util::UniqueFd fd;  // open for reading
  struct stat st {};  // of the open file: device, inode, size
};

// `path` must be absolute, without "." or ".." components.
util::Result<TrustedFile> open_trusted_file(const std::string& path);

}  // namespace usercrash::engine
