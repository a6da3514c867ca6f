// /proc/<pid> held open as a directory fd: every read goes through it, so
// once it is open and checked, no read can land on another process (a
// reaped task's /proc directory answers ESRCH, it does not move).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proc/proc_types.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::proc {

// Bounds on a list read from /proc that the process can make huge (its
// maps, its open files): entries, bytes of file names, and time (the
// kernel can take a millisecond to print one mapping with a long name).
struct ListLimits {
  size_t max_entries = SIZE_MAX;
  size_t max_path_bytes = SIZE_MAX;  // past it, entries are kept without their names
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Read even past the deadline (a usual process's whole list, in a few
  // milliseconds), so that a spent budget still leaves the report its map.
  size_t despite_deadline = 256;
};

// What a bounded read left out.
struct ListCut {
  bool entries = false;  // entries past max_entries
  size_t nameless = 0;   // entries kept without their names
  bool late = false;     // entries past the deadline
};

class ProcessDir {
 public:
  // Opens /proc/<pid>. With a pidfd (the kernel's %F, or pidfd_open), checks
  // afterwards that the pidfd names this pid and is still alive, which proves
  // the directory is the pidfd's process and not a reuse of its number.
  // The pidfd stays owned by the caller.
  static util::Result<ProcessDir> open(pid_t pid, int pidfd = -1);
  // Same, under another /proc mount (tests point this at fixture trees).
  static util::Result<ProcessDir> open_at(const std::string& proc_root, pid_t pid, int pidfd = -1);

  // A second handle on the same directory, checked as this one was.
  util::Result<ProcessDir> duplicate() const;

  pid_t pid() const { return pid_; }
  int fd() const { return dir_.get(); }
  bool verified_by_pidfd() const { return verified_; }

  util::Result<std::string> read(const char* name, size_t max_bytes, bool* truncated = nullptr) const;
  util::Result<std::string> read_link(const char* name) const;

  // Convenience readers; each caps what it keeps.
  util::Result<Status> status() const;
  util::Result<Stat> stat() const;
  // The mappings, within `limits`; `cut` says what was left out.
  util::Result<std::vector<MapEntry>> maps(const ListLimits& limits, ListCut* cut = nullptr) const;
  util::Result<std::vector<std::string>> cmdline(size_t max_items, bool* truncated) const;
  util::Result<std::vector<std::string>> environment(size_t max_items, bool* truncated) const;
  // The kernel's unwinder prints nothing for a task that is on a CPU at
  // that moment (a dying task copying its core out, say); with `wait`, an
  // empty answer is asked again every few milliseconds until then, since a
  // task in the kernel that is off the CPU always has frames.
  util::Result<std::vector<std::string>> kernel_stack(
      size_t max_lines, std::chrono::milliseconds wait = std::chrono::milliseconds(0)) const;
  // `word_size`: 4 for a 32-bit process.
  util::Result<std::vector<AuxvEntry>> auxv(unsigned word_size = 8) const;
  // The open files, sorted by fd, within `limits`; `cut` says what was left out.
  util::Result<std::vector<OpenFile>> open_files(const ListLimits& limits, ListCut* cut = nullptr) const;
  // Threads in task/, sorted by tid; names and states read per thread.
  util::Result<std::vector<ThreadInfo>> threads(size_t max_threads, bool* truncated) const;

  // The /proc/<pid>/mem file (O_RDONLY), for reading the process's memory.
  util::Result<util::UniqueFd> open_mem() const;

 private:
  ProcessDir(pid_t pid, util::UniqueFd dir, bool verified) : pid_(pid), dir_(std::move(dir)), verified_(verified) {}

  pid_t pid_;
  util::UniqueFd dir_;
  bool verified_;
};

// The pid a pidfd refers to (from /proc/self/fdinfo); -1 when that process is gone.
util::Result<pid_t> pidfd_pid(int pidfd);

}  // namespace usercrash::proc
