#include "engine/dying_process_target.h"

#include <elf.h>

#include <fmt/format.h>

namespace usercrash::engine {

DyingProcessTarget::DyingProcessTarget(proc::ProcessDir dir, const CoreNotes& notes,
                                       const ProcessLimits& limits, std::string kind)
    : ProcessTarget(std::move(dir), limits), kind_(std::move(kind)), siginfo_(notes.siginfo) {
  size_t limit = limits.max_threads;
  for (const auto& t : notes.threads) {
    if (threads_.size() >= limit) {
      facts_.truncated.push_back(fmt::format("threads: unwound the first {} of {}", limit, notes.threads.size()));
      break;
    }
    threads_.push_back({global_tid(t.tid), t.regs});
  }
  if (notes.threads.empty()) facts_.problems.push_back("registers: the core's notes were not available");
  for (const auto& p : notes.problems) facts_.problems.push_back("core notes: " + p);
  if (!siginfo_ && !notes.threads.empty() && notes.threads.front().cursig > 0) {
    CoreSiginfo s;
    s.signo = notes.threads.front().cursig;
    siginfo_ = s;
  }
  // The auxv in the notes is the kernel's own copy; prefer it.
  if (!notes.auxv.empty()) facts_.auxv = notes.auxv;
}

}  // namespace usercrash::engine
