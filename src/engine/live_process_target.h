// A running process seen through ptrace (`debugger <pid>`): the /proc facts
// as for a dying process, registers from PTRACE_GETREGS, and memory from
// /proc/<pid>/mem, except each thread's stack, which is copied while the
// thread is stopped so the unwinder sees it as it was with the registers.
//
// The threads are stopped only for that copy. By default one at a time:
// each is held just for its own copy (tens of microseconds), and threads
// are seen at slightly different instants. With `all_stop`, every thread
// is interrupted at once (one picture of the process at one instant) and
// each is released as soon as its own copy is done; the last ones wait for
// the others' copies. Nothing is ever written to the process and no signal
// is sent to it. One effect remains, the kernel's and common to every
// ptrace user (gdb, eu-stack): a thread stopped inside a system call the
// kernel restarts (read, futex, nanosleep, pause...) never notices, but one
// of the few it does not restart (epoll_wait, for one) returns EINTR.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "engine/process_target.h"

namespace usercrash::engine {

class SeizedThreads;

struct LiveOptions {
  ProcessLimits limits;
  // Only these threads (empty: every thread). Each must belong to the process.
  std::vector<pid_t> only_threads;
  // Bytes of each thread's stack copied above its stack pointer (the red
  // zone below it is copied too). Deeper frames are read from the live
  // process, after the thread was released.
  size_t max_stack_copy = 256 * 1024;
  // Stop every thread at once instead of one at a time (see above).
  bool all_stop = false;
  // How long a thread may take to stop (one in uninterruptible sleep does
  // not stop until it wakes): it is then left without registers.
  std::chrono::milliseconds stop_timeout{1000};
  // Tests only: stay attached this long with the first thread (all_stop:
  // every thread) stopped, so a test can kill us in that window.
  std::chrono::milliseconds test_hold{0};
};

// How long one thread was kept stopped: from PTRACE_INTERRUPT to PTRACE_DETACH.
struct ThreadHold {
  pid_t tid = 0;
  std::chrono::nanoseconds held{0};
};

class LiveProcessTarget : public ProcessTarget {
 public:
  // Checks that the process can be reported (exists, is not us, a zombie or
  // a kernel thread, ptrace allows it: the error says which rule refused),
  // reads its /proc facts, then captures every thread and releases it.
  static util::Result<std::unique_ptr<LiveProcessTarget>> attach(pid_t pid, const LiveOptions& options);

  ~LiveProcessTarget() override;

  std::string kind() const override { return "live"; }
  // The main thread first (when selected), then the others by tid.
  const std::vector<ThreadRegisters>& threads() const override { return threads_; }
  std::optional<CoreSiginfo> signal() const override { return std::nullopt; }
  // From the stack copies where they cover `address`, else /proc/<pid>/mem.
  size_t read_memory(uint64_t address, std::span<std::byte> out) override;

  // Every captured thread's hold, in capture order. Owned by the target.
  const std::vector<ThreadHold>& holds() const { return holds_; }
  ThreadHold longest_hold() const;
  // From the first PTRACE_INTERRUPT to the last PTRACE_DETACH.
  std::chrono::nanoseconds stopped_window() const { return window_; }
  // Threads interrupted that never stopped (uninterruptible sleep): still
  // attached, without registers; see SeizedThreads::release_all.
  size_t threads_not_stopped() const { return not_stopped_; }

 private:
  struct StackCopy {
    uint64_t start = 0;
    std::vector<std::byte> bytes;
    uint64_t end() const { return start + bytes.size(); }
  };

  LiveProcessTarget(proc::ProcessDir dir, const ProcessLimits& limits, std::vector<proc::ThreadInfo> before);
  struct Capture;  // one capture's state and steps (live_process_target.cpp)
  util::Result<void> capture(std::unique_ptr<SeizedThreads> held, const LiveOptions& options);
  void copy_stack(uint64_t sp, size_t red_zone, size_t max_bytes);
  void settle_thread_info(const std::vector<pid_t>& wanted, const std::vector<pid_t>& gone);

  std::vector<proc::ThreadInfo> before_;  // names and states read before anything was seized

  std::vector<ThreadRegisters> threads_;
  std::vector<StackCopy> stacks_;  // sorted by start
  std::vector<ThreadHold> holds_;
  std::chrono::nanoseconds window_{0};
  size_t not_stopped_ = 0;
};

}  // namespace usercrash::engine
