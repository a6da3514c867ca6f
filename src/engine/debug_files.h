// Separate debug files found by build-id on a build host, for frames that
// were recorded elsewhere (usercrashctl symbolize): the standard
// DIR/.build-id/xx/rest.debug layout of each directory given, of a sysroot
// and of /usr/lib/debug, the unstripped module at its recorded path inside
// the sysroot, then a remote source (debuginfod). A file is taken only when
// its own build-id is the one asked for. The build-id and the module path
// come from a report made elsewhere: the build-id must be hex, the path is
// only ever resolved inside the sysroot, and nothing is written.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::engine {

// Where a debug file was found.
enum class DebugSource { debug_dir, sysroot, system, remote };
const char* debug_source_name(DebugSource source);  // "debug_dir", "sysroot", "system", "debuginfod"

struct DebugFile {
  util::UniqueFd fd;  // open for reading
  std::string where;  // its path, for people
  DebugSource source = DebugSource::debug_dir;
};

// A source of debug files by build-id elsewhere (elfutils' debuginfod
// client in the tools); it keeps to its own time bound.
class RemoteDebugFiles {
 public:
  virtual ~RemoteDebugFiles() = default;
  virtual util::Result<DebugFile> fetch(const std::string& build_id) = 0;
};

struct DebugSearch {
  std::vector<std::string> debug_dirs;  // each DIR/.build-id/xx/rest.debug
  std::string sysroot;                  // "": none
  std::string system_dir;               // the host's tree (/usr/lib/debug); "": none
  RemoteDebugFiles* remote = nullptr;   // asked last; not owned
};

// Whether `id` can be a build-id: hex digits, an even count, 2 to 128 of
// them (GNU ld writes 40; 64 bytes is more than any linker gives).
bool is_build_id(std::string_view id);

// The build-id (hex) of the ELF file `fd`, from its note section.
std::optional<std::string> file_build_id(int fd);

// The debug file of the module whose build-id is `build_id` (checked with
// is_build_id first), recorded at `module_path`. The error says where it
// was looked for.
util::Result<DebugFile> find_debug_file(const DebugSearch& search, const std::string& build_id,
                                        const std::optional<std::string>& module_path);

}  // namespace usercrash::engine
