// Where the files of a core's modules are found when the core is read away
// from the process that made it (`usercrashctl analyze`): the executable
// given, the path the core records (inside a sysroot, never outside it),
// the debuginfo tree by build-id, the executable's directory, and the
// directories given to search. A candidate is only ever a regular file,
// checked through an O_PATH descriptor before it is opened for reading, and
// one whose build-id differs from the core's is passed over.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::engine {

struct ModuleSearch {
  std::optional<std::string> executable;  // the main program's file
  std::string sysroot;                    // recorded paths are resolved inside it ("" = /)
  std::vector<std::string> search_dirs;   // looked in for a module's file name
  std::string debuginfo_path;             // DIR/.build-id/xx/yyyy names a file by build-id
};

struct ModuleFile {
  util::UniqueFd fd;  // open for reading
  std::string where;  // the path it was found at, for messages
  std::optional<std::string> build_id;
  // Set when the file is used although its build-id differs from the
  // core's (nothing better was found): symbols may be wrong.
  std::optional<std::string> mismatch;
};

class ModuleFiles {
 public:
  // Checks that the executable is a regular file and that the sysroot and
  // search directories are directories; the error names the one that is not.
  static util::Result<ModuleFiles> open(ModuleSearch search);

  // The file of a module the core names `path`; `main` for the executable.
  // `build_id` (hex) is what the core's memory says, when it says; a file of
  // another ELF machine than `machine` is never taken (the host's libc for
  // an aarch64 core's /lib/libc.so.6).
  util::Result<ModuleFile> find(const std::string& path, bool main, const std::optional<std::string>& build_id,
                                uint16_t machine) const;

  const ModuleSearch& search() const { return search_; }

 private:
  ModuleSearch search_;
  util::UniqueFd root_;  // the sysroot (O_PATH directory)
  std::vector<util::UniqueFd> search_fds_;
};

// Opens `path` relative to `dirfd` for reading, only if it is a regular
// file: O_PATH first (no open of a device or FIFO ever happens), fstat,
// then the same inode reopened for reading. `in_root`: `path` may not leave
// `dirfd` (RESOLVE_IN_ROOT: absolute paths and ".." stay inside).
util::Result<util::UniqueFd> open_regular_file(int dirfd, const std::string& path, bool in_root);

}  // namespace usercrash::engine
