#include "engine/dying_process_target.h"

#include <elf.h>
#include <fcntl.h>

#include <unistd.h>

#include <fmt/format.h>

#include "util/escape.h"
#include "util/file_io.h"
#include "util/parse.h"

namespace usercrash::engine {

namespace {

// A dying task spends its last moments in the kernel writing its core, and
// is off the CPU (blocked on the pipe or socket, or waiting for us) for
// most of them: worth a short wait for its kernel stack.
ProcessLimits dying_limits(ProcessLimits limits) {
  limits.kernel_stack_wait = std::chrono::milliseconds(200);
  return limits;
}

// Boot time (seconds since the epoch), from /proc/stat's btime.
std::optional<int64_t> boot_time() {
  util::UniqueFd fd(::open("/proc/stat", O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  auto text = util::read_all(fd.get(), 1 << 20);
  if (!text) return std::nullopt;
  size_t at = text->find("\nbtime ");
  if (at == std::string::npos) return std::nullopt;
  size_t end = text->find('\n', at + 1);
  return util::parse_int<int64_t>(std::string_view(*text).substr(at + 7, end - at - 7));
}

}  // namespace

DyingProcessTarget::DyingProcessTarget(proc::ProcessDir dir, const CoreNotes& notes, const ProcessLimits& limits,
                                       std::string kind)
    : ProcessTarget(std::move(dir), dying_limits(limits)), kind_(std::move(kind)), siginfo_(notes.siginfo) {
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
    s.code_known = false;
    siginfo_ = s;
  }
  // The auxv in the notes is the kernel's own copy; prefer it.
  if (!notes.auxv.empty()) facts_.auxv = notes.auxv;
}

std::optional<std::string> DyingProcessTarget::identity_mismatch(const proc::ProcessDir& dir, const CoreNotes& notes,
                                                                 std::optional<int64_t> crash_time) {
  if (notes.psinfo) {
    auto status = dir.status();
    auto stat = dir.stat();
    if (!status || !stat) return "its /proc entry cannot be read";
    // The comm in stat is raw, as in the core (status escapes it); 15 bytes in both.
    if (stat->comm != notes.psinfo->fname)
      return fmt::format("pid {} is now '{}', the core is of '{}'", dir.pid(), util::escape_text(stat->comm),
                         util::escape_text(notes.psinfo->fname));
    if (!status->ns_pids.empty() && notes.psinfo->pid > 0 && status->ns_pids.back() != notes.psinfo->pid)
      return fmt::format("pid {} is pid {} in its namespace, the core's process was {}", dir.pid(),
                         status->ns_pids.back(), notes.psinfo->pid);
  }
  if (crash_time) {
    auto st = dir.stat();
    auto boot = boot_time();
    long ticks = ::sysconf(_SC_CLK_TCK);
    if (st && boot && ticks > 0) {
      int64_t started = *boot + static_cast<int64_t>(st->start_time / static_cast<uint64_t>(ticks));
      if (started > *crash_time + 1)
        return fmt::format("pid {} started at {}, after the crash at {}", dir.pid(), started, *crash_time);
    }
  }
  return std::nullopt;
}

}  // namespace usercrash::engine
