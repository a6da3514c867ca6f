// The core file the kernel would have written when core_pattern was a file
// pattern ("core", "/var/crash/core.%e.%p") before usercrash took its place:
// same name, same place, same owner, same rules, so enabling usercrash does
// not take core files away from the people who used them.
//
// The kernel writes a file core with the crashing process's own credentials,
// resolving the name in that process's root and working directory. We do the
// same in a child that enters the process's root and cwd (through
// /proc/<pid>/root and /proc/<pid>/cwd), takes the process's fsuid, fsgid and
// groups, and only then creates the file: the crashing user can make us write
// nowhere it could not write itself.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/chained_handler.h"
#include "proc/process_dir.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::client {

// The kernel writes no file core smaller than a page (binfmt_elf's
// min_coredump); RLIMIT_CORE below it means no core.
inline constexpr uint64_t kMinCoreLimit = 4096;

struct CoreFileRequest {
  std::string path;     // the expanded pattern: relative to cwd, or absolute in root
  util::UniqueFd root;  // the process's / (O_PATH directory)
  util::UniqueFd cwd;   // its working directory (O_PATH directory)
  uid_t uid = 0;        // its fsuid, fsgid and supplementary groups
  gid_t gid = 0;
  std::vector<gid_t> groups;
  uint64_t limit = 0;                // its RLIMIT_CORE (soft), in bytes
  std::chrono::seconds timeout{30};  // the writer gives up after this
};

// The file name the kernel would use: the pattern with its %-specifiers
// expanded, and ".PID" added when it has no %p and kernel.core_uses_pid is set.
std::string core_file_name(const std::string& pattern, const SpecifierValues& values, bool core_uses_pid);

// Everything the writer needs for this crash, read from the process's /proc
// directory. nullopt, with `why` set, when the kernel would have written no
// file: RLIMIT_CORE under a page, or a process not dumpable as its own user.
util::Result<std::optional<CoreFileRequest>> plan_core_file(const std::string& pattern, const SpecifierValues& values,
                                                            const proc::ProcessDir& process, std::string& why);

// Starts the writer child; the core goes into the handler as for a chained
// program, and its exit status says how it went (explain_core_file_status).
util::Result<ChainedHandler> start_core_file_writer(CoreFileRequest request);

// What a writer's exit status means, in a sentence.
std::string explain_core_file_status(int status);

// The writer itself, for the child: enters the root and cwd, takes the
// credentials, then copies `core_in` into the file (holes for zero pages,
// cut at the limit). Returns the exit status. Exposed for tests.
int write_core_file(const CoreFileRequest& request, int core_in);

// The copy alone, into an open file: zero pages become holes, at most
// `limit` bytes. Returns the bytes of core written (holes included), or an
// error for a failed write.
util::Result<uint64_t> copy_core(int core_in, int out_fd, uint64_t limit);

}  // namespace usercrash::client
