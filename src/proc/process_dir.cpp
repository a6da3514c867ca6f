#include "proc/process_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "proc/proc_parsers.h"
#include "util/directory_walk.h"
#include "util/file_io.h"
#include "util/parse.h"

namespace usercrash::proc {

using util::Result;
using util::UniqueFd;
using Clock = std::chrono::steady_clock;

namespace {

// Bounds on what we read from /proc files a process can inflate.
constexpr size_t kMaxSmallFile = 64 * 1024;  // status, stat, stack, auxv
// A maps line: addresses, perms, offset, device, inode, and a path the
// kernel prints into one page.
constexpr size_t kMaxMapsLine = 8192;
constexpr size_t kMaxCmdlineBytes = 256 * 1024;

std::vector<std::string> list_directory(int dirfd, const char* name, size_t max_entries, bool* truncated) {
  std::vector<std::string> out;
  if (truncated) *truncated = false;
  auto walk = util::DirectoryWalk::open(dirfd, name);
  if (!walk) return out;
  while (auto entry = walk->next()) {
    if (out.size() >= max_entries) {
      if (truncated) *truncated = true;
      break;
    }
    out.emplace_back(*entry);
  }
  return out;
}

}  // namespace

Result<pid_t> pidfd_pid(int pidfd) {
  UniqueFd self(::open("/proc/self/fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!self) return util::fail_errno("/proc/self/fdinfo");
  auto text = util::read_file_at(self.get(), std::to_string(pidfd).c_str(), kMaxSmallFile);
  if (!text) return std::unexpected(text.error());
  auto pid = parse_pidfd_fdinfo(*text);
  if (!pid) return util::fail(fmt::format("fd {} is not a pidfd", pidfd));
  return *pid;
}

Result<ProcessDir> ProcessDir::open(pid_t pid, int pidfd) { return open_at("/proc", pid, pidfd); }

Result<ProcessDir> ProcessDir::open_at(const std::string& proc_root, pid_t pid, int pidfd) {
  if (pid <= 0) return util::fail(fmt::format("bad pid {}", pid));
  std::string path = fmt::format("{}/{}", proc_root, pid);
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!dir) {
    if (errno == ENOENT) return util::fail(fmt::format("no process {}", pid), ESRCH);
    return util::fail_errno(path);
  }
  bool verified = false;
  if (pidfd >= 0) {
    auto named = pidfd_pid(pidfd);
    if (!named) return std::unexpected(named.error());
    if (*named != pid)
      return util::fail(
          fmt::format("pidfd names pid {}, not {}: the process is gone or the pid was reused", *named, pid), ESRCH);
    // Alive after the open: the directory cannot belong to a later process
    // with the same number.
    if (::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) != 0 && errno != EPERM)
      return util::fail(fmt::format("process {} exited before its /proc entry was opened", pid), ESRCH);
    verified = true;
  }
  return ProcessDir(pid, std::move(dir), verified);
}

Result<ProcessDir> ProcessDir::duplicate() const {
  UniqueFd dir(::fcntl(dir_.get(), F_DUPFD_CLOEXEC, 3));
  if (!dir) return util::fail_errno(fmt::format("/proc/{}", pid_));
  return ProcessDir(pid_, std::move(dir), verified_);
}

Result<std::string> ProcessDir::read(const char* name, size_t max_bytes, bool* truncated) const {
  return util::read_file_at(dir_.get(), name, max_bytes, truncated);
}

Result<std::string> ProcessDir::read_link(const char* name) const {
  char buffer[4096];
  ssize_t n = ::readlinkat(dir_.get(), name, buffer, sizeof buffer);
  if (n < 0) return util::fail_errno(std::string("readlink ") + name);
  return std::string(buffer, static_cast<size_t>(n));
}

Result<Status> ProcessDir::status() const {
  auto text = read("status", kMaxSmallFile);
  if (!text) return std::unexpected(text.error());
  return parse_status(*text);
}

Result<Stat> ProcessDir::stat() const {
  auto text = read("stat", kMaxSmallFile);
  if (!text) return std::unexpected(text.error());
  auto st = parse_stat(*text);
  if (!st) return util::fail("stat: cannot parse");
  return *st;
}

Result<std::vector<MapEntry>> ProcessDir::maps(const ListLimits& limits, ListCut* cut) const {
  ListCut c;
  auto fd = util::open_at(dir_.get(), "maps", O_NOFOLLOW);
  if (!fd) return std::unexpected(fd.error());
  // Line by line: the file can be hundreds of megabytes (long names), and
  // the kernel can take a millisecond for each line.
  std::vector<MapEntry> out;
  size_t path_bytes = 0;
  auto read = util::for_each_line(fd->get(), kMaxMapsLine, [&](std::string_view line) {
    if (line.empty()) return true;
    if (out.size() >= limits.max_entries) c.entries = true;
    else if (out.size() >= limits.despite_deadline && Clock::now() > limits.deadline) c.late = true;
    if (c.entries || c.late) return false;
    auto e = parse_maps_line(line);
    if (!e) return true;
    if (path_bytes + e->path.size() > limits.max_path_bytes) {
      std::string().swap(e->path);  // its buffer too (clear() and assigning "" keep it)
      ++c.nameless;
    }
    path_bytes += e->path.size();
    out.push_back(std::move(*e));
    return true;
  });
  if (cut) *cut = c;
  if (!read) return std::unexpected(read.error());
  return out;
}

Result<std::vector<std::string>> ProcessDir::cmdline(size_t max_items, bool* truncated) const {
  bool cut = false;
  auto bytes = read("cmdline", kMaxCmdlineBytes, &cut);
  if (!bytes) return std::unexpected(bytes.error());
  auto args = parse_nul_separated(*bytes, max_items, truncated);
  if (truncated) *truncated = *truncated || cut;
  return args;
}

Result<std::vector<std::string>> ProcessDir::environment(size_t max_items, bool* truncated) const {
  bool cut = false;
  auto bytes = read("environ", kMaxCmdlineBytes, &cut);
  if (!bytes) return std::unexpected(bytes.error());
  auto vars = parse_nul_separated(*bytes, max_items, truncated);
  if (truncated) *truncated = *truncated || cut;
  return vars;
}

Result<std::vector<std::string>> ProcessDir::kernel_stack(size_t max_lines, std::chrono::milliseconds wait) const {
  constexpr auto kPause = std::chrono::milliseconds(2);
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto text = read("stack", kMaxSmallFile);
    if (!text) return std::unexpected(text.error());
    auto lines = parse_kernel_stack(*text, max_lines);
    if (!lines.empty() || std::chrono::steady_clock::now() >= deadline) return lines;
    // A task that has exited has no kernel stack to wait for.
    auto st = stat();
    if (!st || st->state == 'Z' || st->state == 'X') return lines;
    std::this_thread::sleep_for(kPause);
  }
}

Result<std::vector<AuxvEntry>> ProcessDir::auxv(unsigned word_size) const {
  auto bytes = read("auxv", kMaxSmallFile);
  if (!bytes) return std::unexpected(bytes.error());
  return parse_auxv(*bytes, word_size);
}

Result<std::vector<OpenFile>> ProcessDir::open_files(const ListLimits& limits, ListCut* cut) const {
  ListCut c;
  UniqueFd fd_dir(::openat(dir_.get(), "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd_dir) return util::fail_errno("fd/");
  auto names = list_directory(dir_.get(), "fd", limits.max_entries, &c.entries);
  std::vector<OpenFile> out;
  size_t path_bytes = 0;
  for (const auto& name : names) {
    if (out.size() >= limits.despite_deadline && Clock::now() > limits.deadline) {
      c.late = true;
      break;
    }
    auto fd = util::parse_int<int>(name);
    if (!fd) continue;
    char buffer[4096];
    ssize_t n = ::readlinkat(fd_dir.get(), name.c_str(), buffer, sizeof buffer);
    std::string path = n >= 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string("?");
    if (path_bytes + path.size() > limits.max_path_bytes) {
      std::string().swap(path);  // its buffer too (clear() and assigning "" keep it)
      ++c.nameless;
    }
    path_bytes += path.size();
    out.push_back({*fd, std::move(path)});
  }
  std::sort(out.begin(), out.end(), [](const OpenFile& a, const OpenFile& b) { return a.fd < b.fd; });
  if (cut) *cut = c;
  return out;
}

Result<std::vector<ThreadInfo>> ProcessDir::threads(size_t max_threads, bool* truncated) const {
  UniqueFd task(::openat(dir_.get(), "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!task) return util::fail_errno("task/");
  auto names = list_directory(dir_.get(), "task", max_threads, truncated);
  std::vector<ThreadInfo> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    auto tid = util::parse_int<pid_t>(name);
    if (!tid) continue;
    ThreadInfo t;
    t.tid = *tid;
    UniqueFd tdir(::openat(task.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (tdir) {
      // stat has both name and state in one small read.
      if (auto text = util::read_file_at(tdir.get(), "stat", kMaxSmallFile)) {
        if (auto st = parse_stat(*text)) {
          t.name = st->comm;
          t.state = std::string(1, st->state);
        }
      }
    }
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](const ThreadInfo& a, const ThreadInfo& b) { return a.tid < b.tid; });
  return out;
}

Result<UniqueFd> ProcessDir::open_mem() const { return util::open_at(dir_.get(), "mem", O_NOFOLLOW); }

}  // namespace usercrash::proc
