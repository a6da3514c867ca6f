// A process the kernel is dumping (core_pattern pipe or kernel socket):
// registers and signal from the core's notes, everything else from
// /proc/<pid> while the kernel waits on the rest of the stream.
#pragma once

#include "engine/core_notes.h"
#include "engine/process_target.h"

namespace usercrash::engine {

class DyingProcessTarget : public ProcessTarget {
 public:
  // `notes` may be empty (a stream that ended early): the target then has no
  // registers and says so in facts().problems.
  DyingProcessTarget(proc::ProcessDir dir, const CoreNotes& notes, const ProcessLimits& limits,
                     std::string kind = "core_pattern");

  // Checks that /proc/<pid> is the process the core came from, when no pidfd
  // vouches for it: its name and namespace pid match the core's, and it did
  // not start after the crash. A description of the mismatch, or nullopt.
  static std::optional<std::string> identity_mismatch(const proc::ProcessDir& dir, const CoreNotes& notes,
                                                      std::optional<int64_t> crash_time);

  std::string kind() const override { return kind_; }
  const std::vector<ThreadRegisters>& threads() const override { return threads_; }
  std::optional<CoreSiginfo> signal() const override { return siginfo_; }

 private:
  std::string kind_;
  std::vector<ThreadRegisters> threads_;
  std::optional<CoreSiginfo> siginfo_;
};

}  // namespace usercrash::engine
