#include "engine/live_process_target.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "engine/seized_threads.h"
#include "proc/proc_parsers.h"
#include "util/directory_walk.h"
#include "util/file_io.h"
#include "util/parse.h"

namespace usercrash::engine {

using util::Result;
using util::UniqueFd;
using Clock = std::chrono::steady_clock;

namespace {

// A stack whose mapping is unknown (a thread born after the maps were read):
// copy this much, the rest is read live.
constexpr size_t kUnknownStackCopy = 16 * 1024;
// Scans of task/ looking for threads born while attaching. A process that
// creates threads faster than this converges gets a note instead.
constexpr int kMaxScanRounds = 16;
// Once a thread used up the stop budget, each further one still gets this
// long to stop (a thread normally stops within microseconds).
constexpr std::chrono::milliseconds kMinStopWait{20};
// /proc/<pid>/stat's flags (include/linux/sched.h).
constexpr unsigned long kPfKthread = 0x00200000;
constexpr size_t kMaxStatBytes = 4096;

bool contains(const std::vector<pid_t>& v, pid_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// The thread ids task/ lists right now (no per-thread reads: this runs
// while threads are held).
std::vector<pid_t> list_tasks(int proc_dir) {
  std::vector<pid_t> out;
  auto walk = util::DirectoryWalk::open(proc_dir, "task");
  if (!walk) return out;
  while (auto entry = walk->next())
    if (auto tid = util::parse_int<pid_t>(*entry)) out.push_back(*tid);
  return out;
}

// Whether `tid` is a thread of the process whose /proc directory is open.
// After PTRACE_SEIZE by number this proves the number was not reused by
// another process in between.
bool belongs(int proc_dir, pid_t tid) {
  std::string name = fmt::format("task/{}", tid);
  return ::faccessat(proc_dir, name.c_str(), F_OK, 0) == 0;
}

std::string comm_of(pid_t pid) {
  UniqueFd dir(::open(fmt::format("/proc/{}", pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return "?";
  auto text = util::read_file_at(dir.get(), "comm", 256);
  if (!text) return "?";
  while (!text->empty() && text->back() == '\n') text->pop_back();
  return *text;
}

// The files in /proc/<pid> belong to root instead of the process's user
// while the process is not dumpable. The owner is refreshed on lookup, so
// this looks a file up rather than fstat()ing the directory fd.
bool dumpable_by_proc(int proc_dir, uid_t euid) {
  struct stat st {};
  if (::fstatat(proc_dir, "stat", &st, 0) != 0) return true;
  return st.st_uid == euid;
}

// Which of the kernel's ptrace rules (ptrace_may_access and the LSMs) most
// likely refused PTRACE_SEIZE with EPERM, in words.
std::string why_denied(const proc::ProcessDir& dir) {
  auto st = dir.status();
  if (st && st->tracer_pid && *st->tracer_pid != 0)
    return fmt::format("it is already traced by pid {} ({}); a process has one tracer at a time", *st->tracer_pid,
                       comm_of(*st->tracer_pid));
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  bool privileged = ::geteuid() == 0;
  if (st && !privileged) {
    auto differs = [](auto mine, auto a, auto b, auto c) {
      return (a && *a != mine) || (b && *b != mine) || (c && *c != mine);
    };
    if (st->uid && *st->uid != uid)
      return fmt::format(
          "it runs as uid {} and you are uid {}; only root (CAP_SYS_PTRACE) may trace another "
          "user's process",
          *st->uid, uid);
    if (differs(uid, st->uid, st->euid, st->suid) || differs(gid, st->gid, st->egid, st->sgid))
      return "its credentials differ from yours (a setuid or setgid program); only root (CAP_SYS_PTRACE) may "
             "trace it";
  }
  if (!privileged && st && st->euid && !dumpable_by_proc(dir.fd(), *st->euid))
    return "it is not dumpable (prctl(PR_SET_DUMPABLE, 0), or a program started with raised privileges); only "
           "root (CAP_SYS_PTRACE) may trace it";
  UniqueFd sysctl(::open("/proc/sys/kernel/yama", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (sysctl) {
    if (auto scope = util::read_file_at(sysctl.get(), "ptrace_scope", 64)) {
      std::string_view s = util::trim(*scope);
      if (s == "1" && !privileged)
        return "kernel.yama.ptrace_scope is 1: only an ancestor of the process (or one it named with "
               "PR_SET_PTRACER) may trace it";
      if (s == "2" && !privileged) return "kernel.yama.ptrace_scope is 2: only root (CAP_SYS_PTRACE) may trace";
      if (s == "3") return "kernel.yama.ptrace_scope is 3: ptrace is disabled on this machine";
    }
  }
  return "the kernel refused PTRACE_SEIZE (a security module such as SELinux or AppArmor?)";
}

}  // namespace

LiveProcessTarget::LiveProcessTarget(proc::ProcessDir dir, const ProcessLimits& limits,
                                     std::vector<proc::ThreadInfo> before)
    : ProcessTarget(std::move(dir), limits), before_(std::move(before)) {
  // What the kernel's %d says for a crash (only visible for a process
  // not running as root).
  if (facts_.euid && *facts_.euid != 0) facts_.dumpable = dumpable_by_proc(dir_.fd(), *facts_.euid);
}

LiveProcessTarget::~LiveProcessTarget() = default;

Result<std::unique_ptr<LiveProcessTarget>> LiveProcessTarget::attach(pid_t pid, const LiveOptions& options) {
  auto no_such_process = [] { return util::fail("no such process", ESRCH); };
  if (pid <= 0) return no_such_process();
  if (pid == ::getpid()) return util::fail("it is this debugger itself", EINVAL);

  // A pidfd anchors /proc/<pid> to this process and not a later one that
  // reuses its number.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd && errno != ENOSYS) {  // without pidfds (Linux < 5.3), the pid alone
    int err = errno;
    if (err == ESRCH) return no_such_process();
    if (err == EINVAL || err == ENOENT) {  // a thread id that is not a process id
      auto dir = proc::ProcessDir::open(pid);
      auto st = dir ? dir->status() : util::Result<proc::Status>(util::fail("gone"));
      if (st && st->tgid && *st->tgid != pid)
        return util::fail(fmt::format("it is a thread of process {} (try: --threads {} {})", *st->tgid, pid, *st->tgid),
                          EINVAL);
      if (!dir) return no_such_process();
    }
    return util::fail_errno(fmt::format("pidfd_open {}", pid), err);
  }
  auto dir = proc::ProcessDir::open(pid, pidfd.get());
  if (!dir) {
    if (dir.error().errno_value == ESRCH) return no_such_process();
    return std::unexpected(dir.error());
  }

  auto stat = dir->stat();
  if (!stat) return no_such_process();
  if (stat->flags & kPfKthread)
    return util::fail("it is a kernel thread: it has no user-space threads or memory to report", EINVAL);

  bool cut = false;
  auto listed = dir->threads(options.limits.max_threads, &cut);
  if (!listed) return no_such_process();
  auto live = [](const proc::ThreadInfo& t) { return t.state != "Z" && t.state != "X"; };
  if (std::none_of(listed->begin(), listed->end(), live))
    return util::fail(
        "it is a zombie: it has exited and waits for its parent to collect its exit status; there is "
        "nothing left to report",
        EINVAL);
  auto listed_thread = [&](pid_t tid) -> const proc::ThreadInfo* {
    for (const auto& t : *listed)
      if (t.tid == tid) return &t;
    return nullptr;
  };
  for (pid_t tid : options.only_threads)
    if (!listed_thread(tid) && !cut) return util::fail(fmt::format("{} is not one of its threads", tid), ESRCH);

  // One thread is seized first, before anything else is read: it proves
  // ptrace is allowed (the error names the rule when it is not). Seizing
  // does not stop a running thread.
  pid_t probe = 0;
  auto consider = [&](pid_t tid) {
    const auto* t = listed_thread(tid);
    if (!probe && t && live(*t) && (options.only_threads.empty() || contains(options.only_threads, tid))) probe = tid;
  };
  consider(pid);
  for (const auto& t : *listed) consider(t.tid);
  if (!probe) return util::fail("the selected threads have exited", ESRCH);

  auto held = std::make_unique<SeizedThreads>();
  if (auto seized = held->seize(probe); !seized) {
    int err = seized.error().errno_value;
    if (err == ESRCH) return no_such_process();
    if (err == EPERM) return util::fail("permission denied: " + why_denied(*dir), EPERM);
    return std::unexpected(seized.error());
  }
  // Still alive after the seize: the number still names the process.
  if (pidfd && ::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) != 0 && errno == ESRCH)
    return no_such_process();  // `held` lets go of whatever it seized

  auto target =
      std::unique_ptr<LiveProcessTarget>(new LiveProcessTarget(std::move(*dir), options.limits, std::move(*listed)));
  if (auto captured = target->capture(std::move(held), options); !captured) return std::unexpected(captured.error());
  return target;
}

namespace {

// Main thread first, then by tid.
bool main_first(pid_t pid, pid_t a, pid_t b) { return a == pid ? b != pid : b != pid && a < b; }

}  // namespace

// The state of one capture: the threads seized, and how each one ended.
struct LiveProcessTarget::Capture {
  LiveProcessTarget& target;
  SeizedThreads& held;
  const LiveOptions& options;
  const pid_t pid = target.dir_.pid();
  std::vector<pid_t> seen;  // wanted threads task/ listed so far
  std::vector<pid_t> gone;  // of those, the ones that exited before being captured
  bool cut = false;         // more threads than max_threads
  bool test_hold_done = options.test_hold.count() == 0;

  Capture(LiveProcessTarget& t, SeizedThreads& h, const LiveOptions& o) : target(t), held(h), options(o) {
    for (const auto& thread : held.threads()) seen.push_back(thread.tid);
  }

  bool wanted(pid_t tid) const { return options.only_threads.empty() || contains(options.only_threads, tid); }
  bool before(pid_t a, pid_t b) const { return main_first(pid, a, b); }

  // Seizes the wanted threads task/ lists that were not seen before;
  // false when there were none (the set of threads is stable).
  bool seize_new() {
    bool fresh = false;
    for (pid_t tid : list_tasks(target.dir_.fd())) {
      if (!wanted(tid) || contains(seen, tid)) continue;
      seen.push_back(tid);
      fresh = true;
      if (held.threads().size() >= options.limits.max_threads) {
        cut = true;
        continue;
      }
      if (auto seized = held.seize(tid); !seized) {
        if (seized.error().errno_value == ESRCH) gone.push_back(tid);  // exited since the listing
        else target.facts_.problems.push_back(fmt::format("thread {}: not captured: {}", tid, seized.error().message));
        continue;
      }
      if (!belongs(target.dir_.fd(), tid)) {  // exited, and its number went to another process meanwhile
        held.release(tid);
        gone.push_back(tid);
      }
    }
    return fresh;
  }

  // A stopped thread: its registers and stack copied, then released.
  void capture_one(pid_t tid) {
    auto regs = held.registers(tid);
    if (regs) target.copy_stack(regs->sp(), regs->arch().red_zone, options.max_stack_copy);
    held.release(tid);
    const auto* t = held.find(tid);
    target.holds_.push_back(
        {tid, std::chrono::duration_cast<std::chrono::nanoseconds>(t->released_at - t->interrupted_at)});
    if (regs) target.threads_.push_back({tid, *regs});
    else target.facts_.problems.push_back(fmt::format("thread {}: registers: {}", tid, regs.error().message));
  }

  void capture_stopped() {
    std::vector<pid_t> stopped = held.stopped();
    std::sort(stopped.begin(), stopped.end(), [this](pid_t a, pid_t b) { return before(a, b); });
    for (pid_t tid : stopped) capture_one(tid);
  }

  void test_hold() {
    if (!test_hold_done) std::this_thread::sleep_for(options.test_hold);
    test_hold_done = true;
  }

  // One pass over the threads seized and not interrupted yet. A thread
  // slow to stop (uninterruptible sleep) costs the pass its budget once;
  // the others still get kMinStopWait each, and a straggler that stops
  // later is taken whenever it does.
  void pass() {
    auto budget = Clock::now() + options.stop_timeout;
    auto deadline = [&] { return std::max(budget, Clock::now() + kMinStopWait); };
    if (options.all_stop) {
      held.interrupt_all();
      if (!test_hold_done) {
        held.wait_for_stops(budget);
        test_hold();
      }
    } else {
      std::vector<pid_t> order;
      for (const auto& t : held.threads())
        if (t.state == SeizedThreads::State::seized) order.push_back(t.tid);
      std::sort(order.begin(), order.end(), [this](pid_t a, pid_t b) { return before(a, b); });
      for (pid_t tid : order) {
        held.interrupt(tid);
        auto until = deadline();
        while (held.find(tid)->state == SeizedThreads::State::interrupted && held.wait_for_next_stop(until)) {
        }
        if (held.find(tid)->state == SeizedThreads::State::stopped) test_hold();
        capture_stopped();
      }
    }
    for (;;) {
      capture_stopped();
      if (!held.wait_for_next_stop(deadline())) break;
    }
  }

  // After the passes: how long the threads were held in all (the target's
  // window), the wanted threads that exited, and those that never stopped.
  void account() {
    Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
    for (const auto& t : held.threads()) {
      if (t.interrupted_at != Clock::time_point{}) first = std::min(first, t.interrupted_at);
      if (t.released_at != Clock::time_point{}) last = std::max(last, t.released_at);
      if (t.state == SeizedThreads::State::exited && wanted(t.tid) && !contains(gone, t.tid)) gone.push_back(t.tid);
      if (t.state == SeizedThreads::State::interrupted) {
        target.facts_.problems.push_back(
            fmt::format("thread {}: did not stop within {} ms (uninterruptible sleep?): no "
                        "registers; should it wake before the debugger exits, it waits for that",
                        t.tid, options.stop_timeout.count()));
        ++target.not_stopped_;
      }
    }
    if (last > first) target.window_ = std::chrono::duration_cast<std::chrono::nanoseconds>(last - first);
  }
};

Result<void> LiveProcessTarget::capture(std::unique_ptr<SeizedThreads> held, const LiveOptions& options) {
  Capture run(*this, *held, options);

  // 1. Seize every thread; they go on running. Threads born meanwhile
  //    show up in the next scan.
  int round = 0;
  while (run.seize_new())
    if (++round == kMaxScanRounds) {
      facts_.problems.push_back(
          "threads: the process kept creating threads while the debugger attached; some may "
          "be missing");
      break;
    }

  // 2. Stop, copy, release. Each thread's registers and stack are copied
  //    as soon as it reports its stop, and it is released right after.
  run.pass();
  // 3. Threads born meanwhile (one stopped in clone() has started its
  //    child by then): scan until no new thread shows up.
  for (round = 0; run.seize_new(); ++round) {
    run.pass();
    if (round + 1 == kMaxScanRounds) {
      facts_.problems.push_back(
          "threads: the process kept creating threads while the debugger captured; some may "
          "be missing");
      break;
    }
  }

  // Main thread first, then by tid, whatever order they stopped in.
  std::sort(threads_.begin(), threads_.end(),
            [&](const ThreadRegisters& a, const ThreadRegisters& b) { return run.before(a.tid, b.tid); });

  run.account();
  // Nothing is held any more but a thread that never stopped: it already
  // had its wait; the kernel lets it go when we exit.
  held->release_all(std::chrono::milliseconds(0));
  held.reset();

  if (run.cut) facts_.truncated.push_back(fmt::format("threads: captured the first {}", options.limits.max_threads));
  std::sort(stacks_.begin(), stacks_.end(), [](const StackCopy& a, const StackCopy& b) { return a.start < b.start; });
  // Stacks carved from one mapping (user-allocated thread stacks) can give
  // overlapping copies: each address belongs to the copy starting nearest
  // below it, the thread whose stack pointer is there.
  for (size_t i = 0; i + 1 < stacks_.size(); ++i)
    if (stacks_[i].end() > stacks_[i + 1].start) stacks_[i].bytes.resize(stacks_[i + 1].start - stacks_[i].start);
  settle_thread_info(run.seen, run.gone);
  if (threads_.empty()) {
    std::string why = facts_.problems.empty() ? "they exited" : facts_.problems.back();
    return util::fail(fmt::format("no thread could be stopped: {}", why));
  }
  return {};
}

void LiveProcessTarget::copy_stack(uint64_t sp, size_t red_zone, size_t max_bytes) {
  // The ABI lets a leaf function use `red_zone` bytes below its stack pointer.
  uint64_t start = sp > red_zone ? sp - red_zone : 0;
  auto mapping = std::find_if(maps_.begin(), maps_.end(), [sp](const proc::MapEntry& m) { return m.contains(sp); });
  size_t limit = mapping != maps_.end() ? max_bytes : std::min(max_bytes, kUnknownStackCopy);
  uint64_t end = start + red_zone + limit;
  if (end < start) end = UINT64_MAX;
  if (mapping != maps_.end()) {
    start = std::max(start, mapping->start);
    end = std::min(end, mapping->end);
  }
  if (end <= start) return;
  StackCopy copy;
  copy.start = start;
  copy.bytes.resize(end - start);
  copy.bytes.resize(ProcessTarget::read_memory(start, copy.bytes));
  if (!copy.bytes.empty()) stacks_.push_back(std::move(copy));
}

// The thread list read with the facts meets the capture: threads that
// exited meanwhile leave it, threads born meanwhile join it. States are
// those read before anything was seized: a thread shows as sleeping where it
// sleeps, not as stopped by us (seizing a thread in a job-control stop
// already moves it to a tracing stop).
void LiveProcessTarget::settle_thread_info(const std::vector<pid_t>& seen, const std::vector<pid_t>& gone) {
  std::vector<proc::ThreadInfo> settled;
  for (auto& t : facts_.thread_info) {
    bool captured =
        std::any_of(threads_.begin(), threads_.end(), [&](const ThreadRegisters& r) { return r.tid == t.tid; });
    if (!contains(seen, t.tid) || (contains(gone, t.tid) && !captured)) continue;
    for (const auto& b : before_)
      if (b.tid == t.tid && !b.state.empty()) t.state = b.state;
    settled.push_back(std::move(t));
  }
  for (const auto& r : threads_) {
    if (std::any_of(settled.begin(), settled.end(), [&](const proc::ThreadInfo& t) { return t.tid == r.tid; }))
      continue;
    proc::ThreadInfo t;
    t.tid = r.tid;
    std::string dir = fmt::format("task/{}", r.tid);
    if (auto comm = dir_.read((dir + "/comm").c_str(), 256)) {
      t.name = *comm;
      while (!t.name.empty() && t.name.back() == '\n') t.name.pop_back();
    }
    if (auto text = dir_.read((dir + "/stat").c_str(), kMaxStatBytes))
      if (auto st = proc::parse_stat(*text)) t.state = std::string(1, st->state);
    settled.push_back(std::move(t));
  }
  std::sort(settled.begin(), settled.end(), [](const auto& a, const auto& b) { return a.tid < b.tid; });
  facts_.thread_info = std::move(settled);
}

size_t LiveProcessTarget::read_memory(uint64_t address, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    uint64_t at = address + done;
    if (at < address) break;  // wrapped
    size_t want = out.size() - done;
    // The first copy ending above `at` (copies are disjoint and sorted):
    // it holds `at`, or starts after it.
    auto it = std::upper_bound(stacks_.begin(), stacks_.end(), at,
                               [](uint64_t a, const StackCopy& c) { return a < c.end(); });
    if (it != stacks_.end() && it->start <= at) {
      size_t n = std::min<uint64_t>(want, it->end() - at);
      std::memcpy(out.data() + done, it->bytes.data() + (at - it->start), n);
      done += n;
      continue;
    }
    if (it != stacks_.end()) want = std::min<uint64_t>(want, it->start - at);
    size_t got = ProcessTarget::read_memory(at, out.subspan(done, want));
    done += got;
    if (got < want) break;
  }
  return done;
}

ThreadHold LiveProcessTarget::longest_hold() const {
  ThreadHold longest;
  for (const auto& h : holds_)
    if (h.held > longest.held) longest = h;
  return longest;
}

}  // namespace usercrash::engine
