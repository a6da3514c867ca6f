// Shared pieces of the end-to-end tests: root check, core_pattern guard,
// a private usercrash_s, running crashers, waiting for reports.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace usercrash::test {

// Whether the programs under test (program() below) were built with
// AddressSanitizer (scripts/test.sh's second pass): its shadow memory and
// quarantine make a process's RSS say nothing about our memory bounds,
// which the first pass checks.
bool programs_sanitized();

// Skips the test (with a reason) when not root; under CI=true, fails instead:
// the end-to-end tests must run in CI.
#define REQUIRE_ROOT()                                                                          \
  do {                                                                                          \
    if (!::usercrash::test::is_root()) {                                                        \
      if (::usercrash::test::in_ci()) FAIL() << "end-to-end tests need root in CI";             \
      GTEST_SKIP() << "needs root (the real crash path changes /proc/sys/kernel/core_pattern)"; \
    }                                                                                           \
  } while (0)

bool is_root();
bool in_ci();

std::string program(const char* name);  // build/bin/NAME, or $USERCRASH_TEST_PROGRAMS/NAME
std::string crasher(const char* name);  // build/crashers/NAME
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text, mode_t mode = 0644);
bool exists(const std::string& path);

class TempDir {
 public:
  TempDir();
  // Under `parent` instead of /tmp (a service with PrivateTmp=yes does not see /tmp).
  explicit TempDir(const std::string& parent);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Points core_pattern (and optionally core_pipe_limit) somewhere for the
// lifetime of the object. Serialized across processes by a lock file under
// /run; the old values are saved in a backup file first, so a test killed
// outright is repaired by the next one.
class CorePatternGuard {
 public:
  explicit CorePatternGuard(const std::string& pattern, std::optional<int> pipe_limit = std::nullopt);
  ~CorePatternGuard();
  CorePatternGuard(const CorePatternGuard&) = delete;
  CorePatternGuard& operator=(const CorePatternGuard&) = delete;
  void set(const std::string& pattern);  // change the pattern while holding the guard

 private:
  int lock_fd_ = -1;
  std::string saved_pattern_;
  std::string saved_limit_;
};

// The core_pattern line for our client with the given config.
std::string client_pattern(const std::string& config_path, const std::string& client = program("usercrash_c"));

// A usercrash_s on a private directory and socket.
class ServerProcess {
 public:
  // `extra` lines are appended to the generated config (KEY=VALUE).
  explicit ServerProcess(const TempDir& dir, const std::vector<std::string>& extra = {}, bool start = true);
  ~ServerProcess();
  void start();
  // Runs the server as the last words of this command line (a sandbox
  // harness, say); set before start().
  void set_wrapper(std::vector<std::string> argv) { wrapper_ = std::move(argv); }
  // SIGTERM and wait; returns the exit status.
  int stop();
  void kill_hard();
  bool running() const;
  pid_t pid() const { return pid_; }
  const std::string& config() const { return config_; }
  const std::string& directory() const { return directory_; }
  const std::string& socket() const { return socket_; }
  std::string log() const;
  // The warm collector that said it is ready last; -1 before it did.
  pid_t warm_collector_pid() const;
  // Waits until the log holds `needle`.
  bool log_shows(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  std::string config_, directory_, socket_, log_;
  std::vector<std::string> wrapper_;
  pid_t pid_ = -1;
  bool warm_ = true;  // not "warm_collector=no"
};

struct CrashResult {
  pid_t pid = -1;
  int status = 0;  // waitpid status
  std::string output;
};

// Runs a crasher to its death. `before_crash` runs after the crasher printed
// "ready" (for modes that wait); stdin is a pipe the callback may write to.
CrashResult run_crasher(const std::string& exe, const std::vector<std::string>& args,
                        const std::function<void(pid_t, int stdin_fd)>& before_crash = {});

// Waits until DIR/SLOT and DIR/SLOT.json exist and the JSON parses.
std::optional<nlohmann::json> wait_for_report(const std::string& dir, const std::string& slot,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Polls `condition` every 10 ms until it holds or `timeout` passes; the
// result is the condition's last value. For what the server does
// asynchronously (a log line, a closed fd), instead of a fixed sleep that a
// slow machine outlasts.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Waits until `path` exists.
bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Waits until the directory holds `count` text reports.
bool wait_for_report_count(const std::string& dir, size_t count,
                           std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Text reports (usercrash_NN) in a directory, sorted by name.
std::vector<std::string> list_reports(const std::string& dir);

// Function names of a thread's frames, in order.
std::vector<std::string> function_names(const nlohmann::json& thread);

// A `sleep` process to report on (usercrash_c run by hand), killed and
// reaped on destruction. It exists once it has exec'd, so its comm is "sleep".
class Sleeper {
 public:
  explicit Sleeper(int seconds = 60);
  ~Sleeper() { stop(); }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;
  pid_t pid() const { return pid_; }
  void stop();

 private:
  pid_t pid_ = -1;
};

// Sets a sysctl for the lifetime of the object (the caller holds the
// core_pattern guard, which serializes machine-wide settings).
class SysctlGuard {
 public:
  SysctlGuard(std::string path, const std::string& value);
  ~SysctlGuard();
  SysctlGuard(const SysctlGuard&) = delete;
  SysctlGuard& operator=(const SysctlGuard&) = delete;

 private:
  std::string path_, saved_;
};

// A copy of a crasher in a directory everyone can reach, for crashing it as
// another user.
struct PublicCopy {
  TempDir dir;
  std::string path;
  explicit PublicCopy(const char* name, mode_t mode = 0755);
};

// Decompresses DIRECTORY/SLOT.core.zst (a core kept with save_core) to
// INTO/SLOT.core; returns that path, or "" when it cannot.
std::string unpack_saved_core(const std::string& directory, const std::string& slot, const std::string& into);

// Whether any usercrash_c started with this config is still running.
bool clients_running(const std::string& config_path);
// The children of `pid` (say, the warm collector's spares, idle or collecting).
std::vector<pid_t> children_of(pid_t pid);

// Open fds and resident memory (KiB) of a process, for bounds checks.
size_t fd_count(pid_t pid);
// Its open fds, one "N -> target" line each (for a failure's message).
std::string fd_list(pid_t pid);
long rss_kib(pid_t pid);

// Starts a program (PATH searched) with stdout and stderr appended to
// `log` and `env` (KEY=VALUE) added to its environment; returns its pid.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log,
                   const std::vector<std::string>& env = {});
// In a forked child: adds `env` (KEY=VALUE) and execs argv (PATH searched);
// exits 127 when it cannot.
[[noreturn]] void exec_child(const std::vector<std::string>& argv, const std::vector<std::string>& env);
// SIGTERM, then waits for it.
void stop_process(pid_t pid);

// Runs a program and returns its exit status and combined output.
struct RunResult {
  int status = -1;
  std::string output;
};
RunResult run(const std::vector<std::string>& argv, const std::string& input = "");
// A run's exit code, or -1 when a signal ended it.
int exit_code(const RunResult& r);

// TEXT's lines, without their newlines.
std::vector<std::string> lines(const std::string& text);
// Whether WANTED appear in NAMES in this order, others between them or not.
bool contains_in_order(const std::vector<std::string>& names, const std::vector<std::string>& wanted);
// Whether a frame of THREAD (a report's thread) is the function NAME.
bool has_function(const nlohmann::json& thread, const std::string& name);

// The user tests run unprivileged programs as.
inline constexpr uid_t kNobody = 65534;

}  // namespace usercrash::test
