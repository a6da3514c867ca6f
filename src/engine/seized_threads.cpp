#include "engine/seized_threads.h"

#include <poll.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>

namespace usercrash::engine {

using util::Result;

static_assert(sizeof(user_regs_struct) == kGregsetBytes, "PTRACE_GETREGS fills the elf_gregset_t layout");

SeizedThreads::SeizedThreads() {
  // Tracee stops reach the tracer as SIGCHLD. Its default action discards
  // it, so it must be blocked before the first stop for the signalfd to see it.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  if (::pthread_sigmask(SIG_BLOCK, &chld, &saved_mask_) == 0) restore_mask_ = true;
  sigchld_.reset(::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));
}

SeizedThreads::~SeizedThreads() {
  release_all();
  sigchld_.reset();
  if (restore_mask_) ::pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
}

SeizedThreads::Thread* SeizedThreads::lookup(pid_t tid) {
  for (auto& t : threads_)
    if (t.tid == tid) return &t;
  return nullptr;
}

const SeizedThreads::Thread* SeizedThreads::find(pid_t tid) const {
  for (const auto& t : threads_)
    if (t.tid == tid) return &t;
  return nullptr;
}

size_t SeizedThreads::held() const {
  return static_cast<size_t>(std::count_if(threads_.begin(), threads_.end(), [](const Thread& t) {
    return t.state != State::released && t.state != State::exited;
  }));
}

Result<void> SeizedThreads::seize(pid_t tid) {
  if (find(tid)) return {};
  threads_.reserve(threads_.size() + 1);  // so a failed push_back cannot lose a seized thread
  if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) return util::fail_errno("PTRACE_SEIZE");
  threads_.push_back({tid, State::seized, 0, {}, {}});
  return {};
}

void SeizedThreads::interrupt(Thread& t) {
  if (t.state != State::seized) return;
  t.interrupted_at = Clock::now();
  t.state = State::interrupted;
  // Fails only when the thread is already exiting: its exit is then
  // reported to us by waitpid like a stop would be.
  (void)::ptrace(PTRACE_INTERRUPT, t.tid, nullptr, nullptr);
}

void SeizedThreads::interrupt(pid_t tid) {
  if (Thread* t = lookup(tid)) interrupt(*t);
}

void SeizedThreads::interrupt_all() {
  for (auto& t : threads_) interrupt(t);
}

size_t SeizedThreads::unstoppable() const {
  return static_cast<size_t>(
      std::count_if(threads_.begin(), threads_.end(), [](const Thread& t) { return t.state == State::unstoppable; }));
}

void SeizedThreads::poll_stop(Thread& t) {
  if (t.state != State::interrupted && t.state != State::unstoppable) return;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(t.tid, &status, __WALL | WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return;
  if (r < 0) {  // ECHILD: no longer our tracee (it is gone)
    t.state = State::exited;
    return;
  }
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    t.state = State::exited;
    return;
  }
  if (!WIFSTOPPED(status)) return;
  t.state = State::stopped;
  // Without PTRACE_O_* options the only stops are the interrupt or group
  // stop (event PTRACE_EVENT_STOP) and signal-delivery stops (event 0),
  // which caught a signal on its way in: give it back when detaching.
  int event = status >> 16;
  t.pending_signal = event == 0 ? WSTOPSIG(status) : 0;
}

bool SeizedThreads::stopping() const {
  return std::any_of(threads_.begin(), threads_.end(), [](const Thread& t) { return t.state == State::interrupted; });
}

void SeizedThreads::wait_for_sigchld(Clock::time_point deadline) {
  auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return;
  if (!sigchld_) {  // no signalfd: poll gently
    ::usleep(100);
    return;
  }
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  timespec timeout{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  pollfd p{sigchld_.get(), POLLIN, 0};
  if (::ppoll(&p, 1, &timeout, nullptr) > 0) {
    signalfd_siginfo info[8];
    while (::read(sigchld_.get(), info, sizeof info) > 0) {
    }
  }
}

void SeizedThreads::wait_for_stops(Clock::time_point deadline) {
  for (;;) {
    for (auto& t : threads_) poll_stop(t);
    if (!stopping() || Clock::now() >= deadline) return;
    wait_for_sigchld(deadline);
  }
}

bool SeizedThreads::wait_for_next_stop(Clock::time_point deadline) {
  for (;;) {
    bool changed = false;
    for (auto& t : threads_) {
      State before = t.state;
      poll_stop(t);
      changed = changed || t.state != before;
    }
    if (changed) return true;
    if (!stopping() || Clock::now() >= deadline) return false;
    wait_for_sigchld(deadline);
  }
}

std::vector<pid_t> SeizedThreads::stopped() const {
  std::vector<pid_t> out;
  for (const auto& t : threads_)
    if (t.state == State::stopped) out.push_back(t.tid);
  return out;
}

Result<Registers> SeizedThreads::registers(pid_t tid) const {
  const Thread* t = find(tid);
  if (!t || t->state != State::stopped) return util::fail("thread is not stopped");
  user_regs_struct raw{};
  if (::ptrace(PTRACE_GETREGS, tid, nullptr, &raw) != 0) return util::fail_errno("PTRACE_GETREGS");
  Registers regs;
  std::memcpy(regs.values.data(), &raw, sizeof raw);
  // A 32-bit task seen by a 64-bit tracer: its registers, zero-extended,
  // in the 64-bit layout. Report them as the i386 file they are.
  if (is_compat_mode(regs)) return i386_from_x86_64(regs);
  return regs;
}

void SeizedThreads::detach(Thread& t) {
  if (t.state != State::stopped) return;
  long sig = t.pending_signal;
  if (::ptrace(PTRACE_DETACH, t.tid, nullptr, reinterpret_cast<void*>(sig)) != 0) {
    // ESRCH: killed (SIGKILL wakes a traced thread) after its stop: reap it.
    t.state = State::interrupted;
    poll_stop(t);
    if (t.state != State::exited) t.state = State::released;
  } else {
    t.state = State::released;
  }
  t.released_at = Clock::now();
}

void SeizedThreads::release(pid_t tid, std::chrono::milliseconds timeout) {
  Thread* t = lookup(tid);
  if (!t) return;
  if (t->state == State::seized || t->state == State::interrupted) {
    interrupt(*t);
    // Only this thread may be waited on here: the others keep their states.
    auto deadline = Clock::now() + timeout;
    while (t->state == State::interrupted && Clock::now() < deadline) {
      poll_stop(*t);
      if (t->state == State::interrupted) ::usleep(50);
    }
  }
  detach(*t);
}

void SeizedThreads::release_all(std::chrono::milliseconds timeout) {
  // Stopped threads first: they are the ones being held right now.
  for (auto& t : threads_) {
    poll_stop(t);  // an unstoppable one may have stopped since
    detach(t);
  }
  bool running = std::any_of(threads_.begin(), threads_.end(),
                             [](const Thread& t) { return t.state == State::seized || t.state == State::interrupted; });
  if (!running) return;
  interrupt_all();
  wait_for_stops(Clock::now() + timeout);
  for (auto& t : threads_) {
    detach(t);
    if (t.state == State::interrupted) t.state = State::unstoppable;
  }
}

}  // namespace usercrash::engine
