// A crash known only from its core's notes: registers, signal, the process's
// name and ids, and the mapped files. No memory. Used when /proc/<pid> cannot
// be trusted or read (the process is gone, or its pid now names another one),
// and as the base of the core-file source.
#pragma once

#include "engine/core_notes.h"
#include "engine/target.h"
#include "util/limits.h"

namespace usercrash::engine {

class NotesTarget : public Target {
 public:
  // `pid` is the global pid when known (the notes carry the namespace one).
  // At most `max_maps` mappings are made from `loads` and NT_FILE together.
  NotesTarget(const CoreNotes& notes, pid_t pid, std::string kind, const std::vector<CoreSegment>& loads = {},
              size_t max_maps = limits::kMaxMaps);

  std::string kind() const override { return kind_; }
  const ProcessFacts& facts() const override { return facts_; }
  const std::vector<ThreadRegisters>& threads() const override { return threads_; }
  ArchId arch() const override { return arch_; }
  std::optional<CoreSiginfo> signal() const override { return siginfo_; }
  const std::vector<proc::MapEntry>& mappings() const override { return maps_; }
  size_t read_memory(uint64_t, std::span<std::byte>) override { return 0; }
  util::Result<util::UniqueFd> open_mapped_file(const proc::MapEntry& mapping) override;

  ProcessFacts& mutable_facts() { return facts_; }

 protected:
  void build_mappings(const CoreNotes& notes, const std::vector<CoreSegment>& loads, size_t max_maps);

  std::string kind_;
  ArchId arch_;
  ProcessFacts facts_;
  std::vector<ThreadRegisters> threads_;
  std::optional<CoreSiginfo> siginfo_;
  std::vector<proc::MapEntry> maps_;  // sorted by start
  // Per mapping: whether its permissions came from the core (a PT_LOAD) or
  // are a guess ("r--p" for a file gcore did not dump).
  std::vector<bool> perms_known_;
};

}  // namespace usercrash::engine
