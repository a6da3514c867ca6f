// on_report=/abs/program: the forwarding hook. After each published report
// the program runs with the report's paths, slot, signature and pid as
// arguments and in its environment, so a site can ship reports to Sentry,
// Socorro or its own service. Started with posix_spawn (never a shell), a
// fixed environment, its own process group, at most kMaxRunning at once and
// a timeout; its exit status is logged. Reports never wait for it: it runs
// after the report is published, and past kMaxQueued waiting runs, reports
// are not passed on (counted and logged).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace usercrash::publish {

// What the hook is told about one published report. Strings are as the
// text report shows them (escaped), so they are safe as arguments.
struct HookReport {
  std::string text_path;
  std::string json_path;  // "" when the report has no JSON
  std::string slot;       // "usercrash_07"
  std::string signature;  // "" when the report has none
  std::string pid;
  std::string uid;
  std::string signal;  // "SIGSEGV"
  std::string exe;
};

// argv and environment of one run, for the program at `program`.
std::vector<std::string> hook_arguments(const std::string& program, const HookReport& report);
std::vector<std::string> hook_environment(const HookReport& report);

class ReportHook {
 public:
  using Clock = std::chrono::steady_clock;
  // Runs at once: a slow hook must not pile up processes.
  static constexpr size_t kMaxRunning = 4;
  // Runs waiting for one of those; beyond, reports are not passed on.
  static constexpr size_t kMaxQueued = 256;

  struct Counts {
    uint64_t started = 0;
    uint64_t succeeded = 0;  // exit status 0
    uint64_t failed = 0;     // could not start, non-zero status or killed by a signal
    uint64_t timed_out = 0;  // killed at the timeout (also counted as failed)
    uint64_t dropped = 0;    // queue full: not run
  };

  // An empty `program` disables the hook.
  ReportHook(std::string program, std::chrono::milliseconds timeout, size_t max_running = kMaxRunning,
             size_t max_queued = kMaxQueued);
  ~ReportHook();
  ReportHook(const ReportHook&) = delete;
  ReportHook& operator=(const ReportHook&) = delete;

  bool enabled() const { return !program_.empty(); }

  // Starts the hook for `report`, or queues it; never waits.
  void submit(const HookReport& report);
  // A child exited: true when it was one of ours (its status is then
  // logged and the next queued run starts).
  bool on_exit(pid_t pid, int status);
  // Kills runs past their timeout.
  void expire(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;

  // Runs the hook for `report` and waits for it, up to the timeout: for a
  // client that publishes a report alone (there is no server to wait).
  void run_and_wait(const HookReport& report);

  const Counts& counts() const { return counts_; }
  size_t running() const { return running_.size(); }
  size_t queued() const { return queue_.size(); }

 private:
  struct Run {
    std::string slot;
    Clock::time_point started;
    Clock::time_point deadline;
    bool killed = false;
  };
  std::optional<pid_t> start(const HookReport& report);
  void finished(const Run& run, int status);
  void start_queued();

  std::string program_;
  std::chrono::milliseconds timeout_;
  size_t max_running_, max_queued_;
  std::map<pid_t, Run> running_;
  std::deque<HookReport> queue_;
  Counts counts_;
  std::string last_failure_;  // a failure is logged when it differs from the previous one
};

}  // namespace usercrash::publish
