// The one narrow interface every source of a crash implements: registers per
// thread, readable memory, the mapped files, and the facts about the process
// that the source can know. The unwinder and the report builder see only this.
//
// Implementations: DyingProcessTarget (core_pattern: notes + /proc/<pid>),
// LiveProcessTarget (ptrace), CoreFileTarget (a core on disk), and the fake
// in tests/unit.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/arch.h"
#include "engine/core_notes.h"
#include "engine/registers.h"
#include "proc/proc_types.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::engine {

struct ThreadRegisters {
  pid_t tid = 0;  // global tid where the source knows it
  Registers regs;
};

// What is known about the process apart from registers and memory. Every
// source fills what it can and leaves the rest empty.
struct ProcessFacts {
  pid_t pid = 0;  // global pid
  std::optional<pid_t> tgid;
  std::optional<pid_t> namespace_pid;  // innermost NSpid, when it differs from pid
  std::optional<uid_t> uid, euid;
  std::optional<gid_t> gid, egid;
  std::string comm;
  std::optional<std::string> exe;
  std::vector<std::string> cmdline;
  std::optional<std::vector<std::string>> environment;
  std::vector<proc::ThreadInfo> thread_info;  // names and states
  std::vector<proc::OpenFile> open_files;
  std::vector<std::string> kernel_stack;
  std::vector<proc::AuxvEntry> auxv;
  std::optional<bool> dumpable;  // the kernel's %d, or /proc's view
  // When it crashed, where the source says (a core file on disk says not:
  // a core's notes carry no wall-clock time).
  std::optional<int64_t> crash_time;
  std::optional<std::string> kernel;  // uname -r of the machine that saw the crash
  std::optional<std::string> hostname;
  std::vector<std::string> truncated;  // what was cut for size
  std::vector<std::string> problems;   // what could not be read, and why
};

class Target {
 public:
  virtual ~Target() = default;

  // "core_pattern", "kernel_socket", "live" or "core_file".
  virtual std::string kind() const = 0;

  // Owned by the target, valid for its lifetime.
  virtual const ProcessFacts& facts() const = 0;

  // Every thread with registers; the crashing thread (or, live, the main
  // thread) first. Owned by the target.
  virtual const std::vector<ThreadRegisters>& threads() const = 0;

  // The architecture of the process: its threads' register files. A target
  // that knows it without threads (a core's ELF header) says so.
  virtual ArchId arch() const { return threads().empty() ? native_arch().id : threads().front().regs.arch_id; }

  // The signal that killed the process; absent for a live process.
  virtual std::optional<CoreSiginfo> signal() const = 0;

  // The address space, in address order. Owned by the target.
  virtual const std::vector<proc::MapEntry>& mappings() const = 0;

  // Copies memory at `address` into `out`; returns the number of bytes read
  // (a prefix of `out`), 0 when the address is not readable.
  virtual size_t read_memory(uint64_t address, std::span<std::byte> out) = 0;

  // Opens the file behind a file-backed mapping (through map_files/ or the
  // process's root/ where possible, so deleted files and other mount
  // namespaces work). The caller owns the returned fd.
  virtual util::Result<util::UniqueFd> open_mapped_file(const proc::MapEntry& mapping) = 0;

  // The fds this target still reads through once built (process memory, a
  // core file): a sandboxed child keeps these open and closes every other.
  // Owned by the target.
  virtual std::vector<int> fds() const { return {}; }
};

}  // namespace usercrash::engine
