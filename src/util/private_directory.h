// Opening a directory that decides where root writes or what root runs:
// by fd, never through a symlink, and refused when someone else could
// change what it holds.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::util {

struct DirectoryRules {
  const char* what = "directory";     // for messages: "crash directory"
  bool must_be_ours = true;           // owned by our euid
  std::optional<mode_t> create_mode;  // mkdir with this mode when missing
  // A directory we may search but not list (mode 0711, another owner) is
  // opened O_PATH: names in it can still be opened and stat'ed.
  bool search_only_ok = false;
};

// Opens `path` (absolute) O_DIRECTORY|O_NOFOLLOW. Refuses a symlink, a
// directory group or others can write, and (per `rules`) one someone else
// owns. A missing directory is an error with errno_value ENOENT unless
// `create_mode` is set. `st` (when given) receives its stat.
Result<UniqueFd> open_private_directory(const std::string& path, const DirectoryRules& rules,
                                        struct stat* st = nullptr);

}  // namespace usercrash::util
