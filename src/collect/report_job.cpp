#include "collect/report_job.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "util/escape.h"
#include "util/file_io.h"
#include "util/log.h"
#include "util/unique_fd.h"

namespace usercrash::collect {

namespace log = util::log;
using Clock = std::chrono::steady_clock;

namespace {

// Exit codes of the collector child.
constexpr int kChildOk = 0;
constexpr int kChildWriteFailed = 3;

uint64_t file_size(int fd) {
  struct stat st {};
  return fd >= 0 && ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

util::Result<void> replace_contents(int fd, const std::string& data) {
  if (fd < 0) return {};
  if (::ftruncate(fd, 0) != 0) return util::fail_errno("truncate report file");
  if (::lseek(fd, 0, SEEK_SET) < 0) return util::fail_errno("seek report file");
  return util::write_all(fd, data);
}

// Waits for `child` until `deadline`; its wait status, or nullopt on timeout.
std::optional<int> wait_child(pid_t child, Clock::time_point deadline) {
  util::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    if (pidfd) {
      pollfd p{pidfd.get(), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    } else {
      ::usleep(1000);
    }
  }
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) return fmt::format("the collector crashed ({})", strsignal(WTERMSIG(status)));
  if (WIFEXITED(status) && WEXITSTATUS(status) == kChildWriteFailed) return "writing the report failed";
  if (WIFEXITED(status)) return fmt::format("the collector exited with status {}", WEXITSTATUS(status));
  return "the collector stopped";
}

}  // namespace

util::Result<JobResult> write_report(const engine::Report& report, const ReportFiles& files,
                                     const report::RenderOptions& render) {
  JobResult result;
  std::string text = report::render_text(report, render);
  if (auto r = replace_contents(files.text_fd, text); !r) return std::unexpected(r.error());
  result.text_bytes = text.size();
  if (files.json_fd >= 0) {
    std::string json = report::render_json(report, render);
    if (auto r = replace_contents(files.json_fd, json); !r) return std::unexpected(r.error());
    result.json_bytes = json.size();
  }
  result.complete = true;
  return result;
}

JobResult run_report_job(engine::Target& target, const engine::CollectOptions& options, const ReportFiles& files,
                         const report::RenderOptions& render) {
  pid_t child = ::fork();
  if (child == 0) {
    // The child: dies with us, and never dumps core (the kernel already
    // set RLIMIT_CORE to 1 for a core_pattern helper; be sure anyway).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::prctl(PR_SET_DUMPABLE, 0);
    engine::Report report = engine::build_report(target, options);
    auto written = write_report(report, files, render);
    ::_exit(written ? kChildOk : kChildWriteFailed);
  }

  std::string why;
  if (child < 0) {
    why = fmt::format("could not start the collector: {}", std::strerror(errno));
  } else {
    auto status = wait_child(child, options.deadline);
    if (!status) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
      why = "the time budget ran out while collecting";
    } else if (WIFEXITED(*status) && WEXITSTATUS(*status) == kChildOk) {
      return {true, "", file_size(files.text_fd), file_size(files.json_fd)};
    } else {
      why = describe_status(*status);
    }
  }

  // The fallback: registers and /proc facts only, no ELF/DWARF read.
  log::warn("{}; writing the report without backtraces", why);
  engine::CollectOptions minimal = options;
  minimal.unwind = false;
  minimal.include_memory = false;
  minimal.deadline = Clock::time_point::max();
  engine::Report report = engine::build_report(target, minimal);
  report.problems.push_back(why + "; backtraces, memory and code left out");
  report.truncated.push_back("backtraces: " + why);
  auto written = write_report(report, files, render);
  JobResult result;
  result.complete = false;
  result.note = why;
  if (written) {
    result.text_bytes = written->text_bytes;
    result.json_bytes = written->json_bytes;
    return result;
  }
  // Not even that fits (a full disk): free the space it took and leave a
  // line that says what happened, which a few bytes can still hold.
  result.note += "; " + written.error().message;
  if (files.json_fd >= 0) (void)::ftruncate(files.json_fd, 0);
  std::string line = fmt::format("*** pid {} ({}): no room for the report: {} ***\n", report.pid,
                                 util::escape_text(report.comm), written.error().message);
  if (replace_contents(files.text_fd, line)) result.text_bytes = line.size();
  return result;
}

}  // namespace usercrash::collect
