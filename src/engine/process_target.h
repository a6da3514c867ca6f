// Shared part of the two sources that read a process through /proc/<pid>
// (a dying one under core_pattern, a live one under ptrace): the facts from
// /proc, the maps, memory through /proc/<pid>/mem, and module files through
// map_files/ or root/.
#pragma once

#include "engine/target.h"
#include "proc/process_dir.h"
#include "util/limits.h"

namespace usercrash::engine {

struct ProcessLimits {
  size_t max_threads = limits::kMaxThreads;
  size_t max_maps = limits::kMaxMaps;
  size_t max_open_files = limits::kMaxOpenFiles;
  size_t max_path_bytes = limits::kMaxPathBytes;  // of the maps' names, and of the open files'
  // When reading the lists a process can make slow to print (maps, open
  // files) stops: the kernel can take a millisecond a line.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  size_t max_cmdline_args = limits::kMaxCmdlineArgs;
  size_t max_kernel_stack_lines = limits::kMaxKernelStackLines;
  // How long an empty /proc/<pid>/stack is asked again (see ProcessDir).
  std::chrono::milliseconds kernel_stack_wait{0};
  bool include_environment = false;
  // /proc/<pid>/stack: left out of a report its owner may read, since the
  // kernel keeps it from users.
  bool kernel_stack = true;
};

class ProcessTarget : public Target {
 public:
  const ProcessFacts& facts() const override { return facts_; }
  const std::vector<proc::MapEntry>& mappings() const override { return maps_; }
  size_t read_memory(uint64_t address, std::span<std::byte> out) override;
  util::Result<util::UniqueFd> open_mapped_file(const proc::MapEntry& mapping) override;
  std::vector<int> fds() const override;

  const proc::ProcessDir& dir() const { return dir_; }
  // For the caller to add what it knows better (the kernel's %d, problems).
  ProcessFacts& mutable_facts() { return facts_; }

 protected:
  // Reads every fact /proc offers about the process, and its maps. What
  // cannot be read is listed in facts().problems; nothing here fails.
  ProcessTarget(proc::ProcessDir dir, const ProcessLimits& limits);

  // Maps a thread id as the process sees it (its pid namespace) to the
  // global one; identity when the process is in our pid namespace.
  pid_t global_tid(pid_t namespace_tid) const;

  proc::ProcessDir dir_;
  util::UniqueFd mem_;
  ProcessFacts facts_;
  std::vector<proc::MapEntry> maps_;

 private:
  void collect_facts(const ProcessLimits& limits);
  unsigned exe_word_size() const;
  std::vector<std::pair<pid_t, pid_t>> namespace_tids_;  // (namespace tid, global tid)
};

}  // namespace usercrash::engine
