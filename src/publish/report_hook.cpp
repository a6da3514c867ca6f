#include "publish/report_hook.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "util/log.h"
#include "util/spawn.h"
#include "util/unique_fd.h"

namespace usercrash::publish {

namespace log = util::log;

std::vector<std::string> hook_arguments(const std::string& program, const HookReport& r) {
  return {program, r.text_path, r.json_path, r.slot, r.signature, r.pid};
}

std::vector<std::string> hook_environment(const HookReport& r) {
  return {
      "USERCRASH_REPORT=" + r.text_path,    "USERCRASH_JSON=" + r.json_path, "USERCRASH_SLOT=" + r.slot,
      "USERCRASH_SIGNATURE=" + r.signature, "USERCRASH_PID=" + r.pid,        "USERCRASH_UID=" + r.uid,
      "USERCRASH_SIGNAL=" + r.signal,       "USERCRASH_EXE=" + r.exe,
  };
}

ReportHook::ReportHook(std::string program, std::chrono::milliseconds timeout, size_t max_running, size_t max_queued)
    : program_(std::move(program)), timeout_(timeout), max_running_(max_running), max_queued_(max_queued) {}

ReportHook::~ReportHook() {
  // Runs still going when the server stops are left to finish on their own.
}

std::optional<pid_t> ReportHook::start(const HookReport& report) {
  util::SpawnFds fds;
  // Its diagnostics go where ours go (the journal under systemd).
  fds.map.emplace_back(STDERR_FILENO, STDERR_FILENO);
  util::SpawnOptions options;
  options.environment = hook_environment(report);
  options.new_process_group = true;
  auto pid = util::spawn_program(hook_arguments(program_, report), fds, options);
  ++counts_.started;
  if (!pid) {
    ++counts_.failed;
    std::string why = pid.error().message;
    if (why != last_failure_)
      log::warn("on_report: {} not passed on: {} (further failures alike are only counted)", report.slot, why);
    last_failure_ = why;
    return std::nullopt;
  }
  return *pid;
}

void ReportHook::submit(const HookReport& report) {
  if (!enabled()) return;
  if (running_.size() >= max_running_) {
    if (queue_.size() >= max_queued_) {
      ++counts_.dropped;
      log::warn("on_report: {} not passed on: {} runs going and {} waiting; {} dropped so far", report.slot,
                running_.size(), queue_.size(), counts_.dropped);
      return;
    }
    queue_.push_back(report);
    return;
  }
  auto pid = start(report);
  if (!pid) return;
  auto now = Clock::now();
  running_.emplace(*pid, Run{report.slot, now, now + timeout_, false});
}

void ReportHook::finished(const Run& run, int status) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - run.started).count();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !run.killed) {
    ++counts_.succeeded;
    last_failure_.clear();
    log::info("on_report: {}: exit status 0 ({} ms)", run.slot, ms);
    return;
  }
  ++counts_.failed;
  std::string why = run.killed            ? fmt::format("killed after the timeout of {} ms", timeout_.count())
                    : WIFSIGNALED(status) ? fmt::format("killed by signal {}", WTERMSIG(status))
                                          : fmt::format("exit status {}", WEXITSTATUS(status));
  if (run.killed) ++counts_.timed_out;
  log::warn("on_report: {}: {} ({} ms)", run.slot, why, ms);
  last_failure_ = why;
}

bool ReportHook::on_exit(pid_t pid, int status) {
  auto it = running_.find(pid);
  if (it == running_.end()) return false;
  finished(it->second, status);
  running_.erase(it);
  start_queued();
  return true;
}

void ReportHook::start_queued() {
  while (running_.size() < max_running_ && !queue_.empty()) {
    HookReport next = std::move(queue_.front());
    queue_.pop_front();
    submit(next);
  }
}

void ReportHook::expire(Clock::time_point now) {
  for (auto& [pid, run] : running_) {
    if (run.killed || now < run.deadline) continue;
    // Its whole process group: whatever it started goes with it.
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    run.killed = true;
  }
}

std::optional<ReportHook::Clock::time_point> ReportHook::next_deadline() const {
  std::optional<Clock::time_point> soonest;
  for (const auto& [pid, run] : running_)
    if (!run.killed && (!soonest || run.deadline < *soonest)) soonest = run.deadline;
  return soonest;
}

void ReportHook::run_and_wait(const HookReport& report) {
  if (!enabled()) return;
  auto pid = start(report);
  if (!pid) return;
  Run run{report.slot, Clock::now(), Clock::now() + timeout_, false};
  util::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(*pid, &status, WNOHANG);
    if (r == *pid) break;
    if (r < 0 && errno != EINTR) return;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(run.deadline - Clock::now()).count();
    if (left <= 0 && !run.killed) {
      ::kill(-*pid, SIGKILL);
      ::kill(*pid, SIGKILL);
      run.killed = true;
    }
    pollfd p{pidfd.get(), POLLIN, 0};
    if (pidfd) ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left, 1, 1000)));
    else ::usleep(1000);
  }
  finished(run, status);
}

}  // namespace usercrash::publish
