#include "e2e/harness.h"

#include "e2e/report_schema.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "store/core_archive.h"
#include "util/unique_fd.h"

namespace usercrash::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kCorePattern = "/proc/sys/kernel/core_pattern";
constexpr const char* kPipeLimit = "/proc/sys/kernel/core_pipe_limit";
// Root-only locations: /run is not world-writable.
constexpr const char* kLockFile = "/run/usercrash-tests.lock";
constexpr const char* kBackupFile = "/run/usercrash-tests.core_pattern.backup";

std::string trim_newline(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void write_sysctl(const char* path, const std::string& value) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("open ") + path + ": " + std::strerror(errno));
  std::string line = value + "\n";
  ssize_t n = ::write(fd, line.data(), line.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size()))
    throw std::runtime_error(std::string("write ") + path + ": " + std::strerror(err));
}

// What the active guard must put back, kept where a signal handler can
// reach it without allocating: a test killed by SIGTERM, SIGINT or SIGHUP
// (ctest's timeout, a ^C) still leaves the machine as it found it.
char g_saved_pattern[256];
char g_saved_limit[32];
volatile sig_atomic_t g_guard_active = 0;
// Only the process that set the guard restores: a child forked by a test
// inherits the handler until it execs, and must not act on it.
volatile pid_t g_guard_pid = 0;

void write_raw(const char* path, const char* value) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  [[maybe_unused]] ssize_t n = ::write(fd, value, std::strlen(value));
  [[maybe_unused]] ssize_t m = ::write(fd, "\n", 1);
  ::close(fd);
}

void restore_on_signal(int sig) {
  if (g_guard_active && ::getpid() == g_guard_pid) {
    write_raw(kCorePattern, g_saved_pattern);
    write_raw(kPipeLimit, g_saved_limit);
    ::unlink(kBackupFile);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

bool is_root() { return ::geteuid() == 0; }

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// The programs under test: this build's, or another build's when
// USERCRASH_TEST_PROGRAMS names its bin directory (scripts/test.sh runs the
// attack and fault suites of the first build again on the sanitizer
// build's programs).
std::string program(const char* name) {
  const char* other = std::getenv("USERCRASH_TEST_PROGRAMS");
  return std::string(other && *other ? other : USERCRASH_BIN_DIR) + "/" + name;
}

bool programs_sanitized() {
  // AddressSanitizer's runtime is linked into every program it instruments:
  // the server's file names it.
  static const bool sanitized = read_file(program("usercrash_s")).find("__asan_init") != std::string::npos;
  return sanitized;
}
std::string crasher(const char* name) { return std::string(CRASHER_DIR) + "/" + name; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  ::chmod(path.c_str(), mode);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

TempDir::TempDir() {
  // Short: core_pattern holds 127 bytes, and tests put config paths in it.
  char tmpl[] = "/tmp/uct-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::TempDir(const std::string& parent) {
  std::string tmpl = parent + "/uct-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed under " + parent);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

CorePatternGuard::CorePatternGuard(const std::string& pattern, std::optional<int> pipe_limit) {
  if (std::getenv("USERCRASH_TEST_NO_CORE_PATTERN"))
    throw std::runtime_error(
        "this test changes core_pattern but its suite runs without the core_pattern lock: "
        "take it out of USERCRASH_FREE_SUITES in tests/CMakeLists.txt");
  lock_fd_ = ::open(kLockFile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0) throw std::runtime_error(std::string("open lock: ") + std::strerror(errno));
  ::flock(lock_fd_, LOCK_EX);
  // A test killed while holding the guard left its backup: put it back first.
  if (exists(kBackupFile)) {
    std::string backup = read_file(kBackupFile);
    size_t nl = backup.find('\n');
    if (nl != std::string::npos) {
      write_sysctl(kCorePattern, backup.substr(0, nl));
      write_sysctl(kPipeLimit, trim_newline(backup.substr(nl + 1)));
    }
  }
  if (pattern.size() > 127) throw std::runtime_error("core_pattern longer than 127 bytes: " + pattern);
  saved_pattern_ = trim_newline(read_file(kCorePattern));
  saved_limit_ = trim_newline(read_file(kPipeLimit));
  write_file(kBackupFile, saved_pattern_ + "\n" + saved_limit_ + "\n", 0600);
  std::snprintf(g_saved_pattern, sizeof g_saved_pattern, "%s", saved_pattern_.c_str());
  std::snprintf(g_saved_limit, sizeof g_saved_limit, "%s", saved_limit_.c_str());
  g_guard_pid = ::getpid();
  g_guard_active = 1;
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) ::signal(sig, restore_on_signal);
  write_sysctl(kCorePattern, pattern);
  if (pipe_limit) write_sysctl(kPipeLimit, std::to_string(*pipe_limit));
}

void CorePatternGuard::set(const std::string& pattern) { write_sysctl(kCorePattern, pattern); }

CorePatternGuard::~CorePatternGuard() {
  g_guard_active = 0;
  try {
    write_sysctl(kCorePattern, saved_pattern_);
    write_sysctl(kPipeLimit, saved_limit_);
    ::unlink(kBackupFile);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "could not restore core_pattern: " << e.what();
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::string client_pattern(const std::string& config_path, const std::string& client) {
  // As `usercrashctl enable` writes it: "--" before the operands where it fits.
  std::string pattern = "|" + client + " -c " + config_path + " -k%F:%I:%u:%g:%t:%d:%c";
  pattern += pattern.size() + 12 <= 127 ? " -- %P %e %s" : " %P %e %s";
  // The kernel keeps 127 bytes and silently cuts the rest.
  if (pattern.size() > 127) throw std::runtime_error("core_pattern longer than 127 bytes: " + pattern);
  return pattern;
}

ServerProcess::ServerProcess(const TempDir& dir, const std::vector<std::string>& extra, bool start_now) {
  config_ = dir / "uc.conf";
  directory_ = dir / "crashes";
  socket_ = dir / "run/usercrash.sock";
  log_ = dir / "server.log";
  std::string text =
      "directory=" + directory_ + "\nsocket=" + socket_ + "\nkernel_socket=" + (dir / "run/core.sock") + "\n";
  for (const auto& line : extra) {
    text += line + "\n";
    if (line == "warm_collector=no") warm_ = false;
  }
  write_file(config_, text, 0644);
  if (start_now) start();
}

void ServerProcess::start() {
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<std::string> args = wrapper_;
    for (std::string a : {program("usercrash_s"), std::string("--config"), config_, std::string("--verbose")})
      args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  // Started: its socket is bound, and its log says it listens, which it
  // says once its event loop's descriptors (epoll, signalfd) are made too.
  // (A test that counts the server's fds from here, as the storm test
  // does, once counted them between the two.)
  auto deadline = Clock::now() + std::chrono::seconds(10);
  auto started = [&] { return exists(socket_) && log().find("listening on ") != std::string::npos; };
  while (Clock::now() < deadline && !started()) {
    if (!running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!started()) ADD_FAILURE() << "server did not start:\n" << log();
  // With warm_collector (the default), its collector takes the crashes
  // once it is warm; until then usercrash_c collects them itself. Tests
  // begin once it is, so that each runs the path the product runs.
  if (warm_ && !eventually([&] { return warm_collector_pid() > 0; }, std::chrono::seconds(10)))
    ADD_FAILURE() << "the warm collector did not get warm:\n" << log();
}

pid_t ServerProcess::warm_collector_pid() const {
  // The newest "usercrash_s: warm collector PID ready" line.
  std::string text = log();
  const std::string prefix = "usercrash_s: warm collector ";
  pid_t pid = -1;
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    size_t end = text.find('\n', at);
    std::string line =
        text.substr(at + prefix.size(), end == std::string::npos ? std::string::npos : end - at - prefix.size());
    if (line.ends_with(" ready")) pid = std::atoi(line.c_str());
  }
  return pid;
}

bool ServerProcess::running() const {
  if (pid_ <= 0) return false;
  int status;
  return ::waitpid(pid_, &status, WNOHANG) == 0;
}

int ServerProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

void ServerProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop();
  // Every report a test produced through a server follows the published schema.
  if (!std::filesystem::is_directory(directory_)) return;  // never started
  if (std::string errors = schema_errors({directory_}); !errors.empty())
    ADD_FAILURE() << "reports in " << directory_ << " do not follow schema/report.schema.json:\n" << errors;
}

std::string ServerProcess::log() const { return read_file(log_); }

bool ServerProcess::log_shows(const std::string& needle, std::chrono::milliseconds timeout) const {
  return eventually([&] { return log().find(needle) != std::string::npos; }, timeout);
}

CrashResult run_crasher(const std::string& exe, const std::vector<std::string>& args,
                        const std::function<void(pid_t, int)>& before_crash) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  CrashResult r;
  r.pid = ::fork();
  if (r.pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  // Read up to "ready" before letting the caller act.
  std::string line;
  char c;
  while (::read(out[0], &c, 1) == 1) {
    line += c;
    if (c == '\n') break;
  }
  r.output = line;
  if (before_crash) before_crash(r.pid, in[1]);
  ::close(in[1]);
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(out[0], buffer, sizeof buffer)) > 0) r.output.append(buffer, static_cast<size_t>(n));
  ::close(out[0]);
  ::waitpid(r.pid, &r.status, 0);
  return r;
}

std::optional<nlohmann::json> wait_for_report(const std::string& dir, const std::string& slot,
                                              std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string text = dir + "/" + slot, json = text + ".json";
  while (Clock::now() < deadline) {
    if (exists(text) && exists(json)) {
      auto doc = nlohmann::json::parse(read_file(json), nullptr, false);
      if (!doc.is_discarded()) return doc;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout) {
  return eventually([&] { return exists(path); }, timeout);
}

std::vector<std::string> list_reports(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename();
    if (name.starts_with("usercrash_") && name.find('.') == std::string::npos) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool wait_for_report_count(const std::string& dir, size_t count, std::chrono::milliseconds timeout) {
  return eventually([&] { return list_reports(dir).size() >= count; }, timeout);
}

Sleeper::Sleeper(int seconds) {
  std::string duration = std::to_string(seconds);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    ::execl("/bin/sleep", "sleep", duration.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Until it has exec'd, the child is a copy of the test program.
  if (!eventually([&] { return read_file("/proc/" + std::to_string(pid_) + "/comm") == "sleep\n"; }))
    throw std::runtime_error("sleep did not start");
}

void Sleeper::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

SysctlGuard::SysctlGuard(std::string path, const std::string& value)
    : path_(std::move(path)), saved_(read_file(path_)) {
  write_file(path_, value + "\n");
}

SysctlGuard::~SysctlGuard() { write_file(path_, saved_); }

PublicCopy::PublicCopy(const char* name, mode_t mode) {
  ::chmod(dir.path().c_str(), 0755);
  path = dir / name;
  fs::copy_file(crasher(name), path);
  ::chmod(path.c_str(), mode);
}

std::string unpack_saved_core(const std::string& directory, const std::string& slot, const std::string& into) {
  std::string packed = directory + "/" + slot + ".core.zst";
  std::string core = into + "/" + slot + ".core";
  util::UniqueFd in(::open(packed.c_str(), O_RDONLY | O_CLOEXEC));
  util::UniqueFd out(::open(core.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!in || !out) return "";
  return store::decompress_core(in.get(), out.get()) ? core : "";
}

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children"));
  for (pid_t c; in >> c;) out.push_back(c);
  return out;
}

bool clients_running(const std::string& config_path) {
  return WEXITSTATUS(run({"pgrep", "-f", "usercrash_c -c " + config_path}).status) == 0;
}

std::vector<std::string> function_names(const nlohmann::json& thread) {
  std::vector<std::string> names;
  for (const auto& f : thread["frames"])
    names.push_back(f["function"].is_string() ? f["function"].get<std::string>() : "??");
  return names;
}

size_t fd_count(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

std::string fd_list(pid_t pid) {
  std::string out;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code link_ec;
    auto target = fs::read_symlink(it->path(), link_ec);
    out += it->path().filename().string() + " -> " + (link_ec ? "?" : target.string()) + "\n";
  }
  return out;
}

long rss_kib(pid_t pid) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log, const std::vector<std::string>& env) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    exec_child(argv, env);
  }
  return pid;
}

void exec_child(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

void stop_process(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
}

RunResult run(const std::vector<std::string>& argv, const std::string& input) {
  // The program may stop reading its input early (the client reads only the
  // head of a core): that is EPIPE here, not a reason to die.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  for (size_t done = 0; done < input.size();) {
    ssize_t n = ::write(in[1], input.data() + done, input.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(in[1]);
  RunResult r;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(out[0], buffer, sizeof buffer)) > 0) r.output.append(buffer, static_cast<size_t>(n));
  ::close(out[0]);
  ::waitpid(pid, &r.status, 0);
  return r;
}

int exit_code(const RunResult& r) { return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1; }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

bool contains_in_order(const std::vector<std::string>& names, const std::vector<std::string>& wanted) {
  size_t at = 0;
  for (const auto& n : names)
    if (at < wanted.size() && n == wanted[at]) ++at;
  return at == wanted.size();
}

bool has_function(const nlohmann::json& thread, const std::string& name) {
  for (const auto& f : thread["frames"])
    if (f["function"].is_string() && f["function"] == name) return true;
  return false;
}

}  // namespace usercrash::test
