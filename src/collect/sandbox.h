// The sandbox the engine child enters before it reads a byte of the crashed
// process's ELF, DWARF or code: everything it needs is open already (the
// process's memory, its module files, the report files), so it can give up
// everything else.
//
// Entering, in this order: the standard fds point at /dev/null; resource
// limits (file size, no core, open files; memory is the job's budget,
// job.h); as root, no supplementary groups, the engine user's gid and uid
// (all three of each), an empty capability bounding set, no capabilities
// of any kind; not dumpable (so that other processes of the same user
// cannot ptrace it) and killed with its parent, both set again after the
// uid change that clears them; no_new_privs; Landlock, where the kernel
// has it: files may be opened only under `readable_tree` (and the time
// zone file); every fd but the ones given is closed; the seccomp filter
// of syscall_filter.h.
//
// prepare() does every lookup, file open and allocation once, in the
// parent; enter() runs in each forked child. A long-lived parent (a warm
// collector) prepares once and forks many children.
#pragma once

#include <sys/types.h>

#include <linux/filter.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "collect/engine_user.h"
#include "engine/report.h"
#include "util/limits.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::collect {

struct SandboxOptions {
  std::string user = limits::kEngineUser;  // engine_user; nobody when it does not exist
  // Largest file the child may write (RLIMIT_FSIZE): the report's cap; 0: no limit.
  uint64_t max_file_size = 0;
  // Open files the child may hold (RLIMIT_NOFILE): module files come as
  // duplicates, and each module may add its debug file.
  uint64_t max_open_files = 4 * limits::kMaxModules + 64;
  // The only tree the child may open files in (Landlock); "" for none.
  std::string readable_tree = limits::kDebuginfoPath;
};

class Sandbox {
 public:
  // Resolves the user, builds the seccomp program, opens what Landlock's
  // rules name. What fails here makes enter() fail with the reason, so
  // that it reaches the report of the crash being collected.
  static Sandbox prepare(const SandboxOptions& options);

  // In a child just forked (single-threaded): enters the sandbox, keeping
  // `readable` (which must be open read-only) and `writable` open and
  // closing every other fd. On failure the child is partly confined and
  // must exit without parsing anything.
  util::Result<engine::Confinement> enter(std::span<const int> readable, std::span<const int> writable) const;

  // Who the child will run as (as root; otherwise the caller's own uid).
  const EngineUser& user() const { return user_; }

 private:
  std::optional<util::Error> broken_;  // why enter() cannot work
  SandboxOptions options_;
  EngineUser user_;
  bool drop_user_ = false;  // we are root
  int last_capability_ = 0;
  std::vector<sock_filter> filter_;
  int landlock_abi_ = 0;  // 0: not available
  util::UniqueFd null_;
  std::vector<util::UniqueFd> readable_paths_;  // O_PATH fds of what Landlock lets the child read
};

}  // namespace usercrash::collect
