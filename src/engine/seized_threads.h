// Threads of another process held through ptrace: PTRACE_SEIZE (the thread
// goes on running), PTRACE_INTERRUPT (it stops where it is, no signal sent),
// PTRACE_DETACH (it goes on as if nothing happened). Never SIGSTOP, never a
// signal of ours, never a changed register or byte.
//
// The destructor releases every thread still held, whatever path led there.
// Should this process die instead, the kernel releases them (a tracer's exit
// detaches its tracees), so the target never stays stopped because of us.
//
// ptrace ties a tracee to the thread that seized it: every call on one
// object must come from the same thread. While the object lives, SIGCHLD is
// blocked in that thread (tracee stops are waited for through a signalfd).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <vector>

#include "engine/registers.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::engine {

class SeizedThreads {
 public:
  using Clock = std::chrono::steady_clock;

  enum class State {
    seized,       // attached, still running
    interrupted,  // PTRACE_INTERRUPT sent, stop not seen yet
    stopped,      // in a ptrace stop: registers readable
    unstoppable,  // interrupted, but did not stop in time (uninterruptible sleep); still attached: the
                  // kernel lets it go when we exit, or we detach it if it stops while we wait for others
    released,     // detached again
    exited,       // gone (and reaped, when it was ours to reap)
  };

  struct Thread {
    pid_t tid = 0;
    State state = State::seized;
    // A signal whose delivery the stop caught: handed back on detach so the
    // thread receives it as it would have without us.
    int pending_signal = 0;
    Clock::time_point interrupted_at{};
    Clock::time_point released_at{};
  };

  SeizedThreads();
  ~SeizedThreads();
  SeizedThreads(const SeizedThreads&) = delete;
  SeizedThreads& operator=(const SeizedThreads&) = delete;

  // PTRACE_SEIZE without options. The error carries the errno: ESRCH (the
  // thread is gone), EPERM (not allowed, or already traced).
  util::Result<void> seize(pid_t tid);

  // PTRACE_INTERRUPT on one seized thread, or on every one not interrupted yet.
  void interrupt(pid_t tid);
  void interrupt_all();

  // Waits until every interrupted thread has stopped or exited, or until
  // `deadline`; threads still running then stay `interrupted`.
  void wait_for_stops(Clock::time_point deadline);

  // Waits until at least one interrupted thread stops or exits, so each
  // can be handled and released while the others are still on their way
  // to their stop. False when `deadline` came first.
  bool wait_for_next_stop(Clock::time_point deadline);

  // Threads stopped and not released yet, in seize order.
  std::vector<pid_t> stopped() const;

  // Whether an interrupted thread has not reported its stop yet.
  bool stopping() const;

  // General registers of a stopped thread.
  util::Result<Registers> registers(pid_t tid) const;

  // Detaches a stopped thread (handing back a caught signal) and records
  // when; a thread in any other state is released as release_all() would.
  void release(pid_t tid, std::chrono::milliseconds timeout = kReleaseTimeout);

  // Releases every thread still held. A thread still running must be
  // stopped to be detached (the kernel's rule): it is interrupted and
  // waited for up to `timeout`; one that does not stop by then becomes
  // `unstoppable` and is not waited for again. It stays attached until it
  // stops while we wait for another, or until this process exits, which
  // releases it; should it wake before that, it waits for that.
  void release_all(std::chrono::milliseconds timeout = kReleaseTimeout);

  // Null when `tid` was never seized. Owned by this object, valid until the
  // next seize().
  const Thread* find(pid_t tid) const;
  // Every thread seized so far, in seize order. Owned by this object.
  const std::vector<Thread>& threads() const { return threads_; }
  size_t held() const;  // threads not yet released or exited
  size_t unstoppable() const;

  static constexpr std::chrono::milliseconds kReleaseTimeout{500};

 private:
  Thread* lookup(pid_t tid);
  // One waitpid on `t` (non-blocking); updates its state.
  void poll_stop(Thread& t);
  // Sleeps until a tracee may have changed state, or `deadline`.
  void wait_for_sigchld(Clock::time_point deadline);
  void interrupt(Thread& t);
  void detach(Thread& t);

  std::vector<Thread> threads_;
  util::UniqueFd sigchld_;  // signalfd for SIGCHLD
  bool restore_mask_ = false;
  sigset_t saved_mask_{};  // the caller's, restored on destruction
};

}  // namespace usercrash::engine
