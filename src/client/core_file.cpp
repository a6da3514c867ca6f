#include "client/core_file.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "proc/proc_parsers.h"
#include "util/file_io.h"
#include "util/parse.h"
#include "util/sparse_writer.h"

namespace usercrash::client {

using util::Result;
using util::UniqueFd;

namespace {

// The writer's exit statuses past the errno values of a failed open.
enum WriterStatus : int {
  kWritten = 0,
  kCannotEnter = 200,  // the process's root or cwd
  kCannotTakeCredentials = 201,
  kNotTheUsersFile = 202,  // exists, and is not a plain file of the user's
  kWriteFailed = 203,
  kReadFailed = 204,
};

// A /proc/sys value, trimmed; nullopt when unreadable.
std::optional<std::string> read_sysctl(const char* path) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  auto text = util::read_all(fd.get(), 64);
  if (!text) return std::nullopt;
  return std::string(util::trim(*text));
}

}  // namespace

std::string core_file_name(const std::string& pattern, const SpecifierValues& values, bool core_uses_pid) {
  std::string name = expand_specifiers({pattern}, values).front();
  bool pid_in_pattern = false;
  for (size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != '%') continue;
    pid_in_pattern = pid_in_pattern || pattern[i + 1] == 'p';
    ++i;  // "%%p" is a literal '%' then 'p'
  }
  if (core_uses_pid && !pid_in_pattern) name += "." + std::to_string(values.pid);
  return name;
}

Result<std::optional<CoreFileRequest>> plan_core_file(const std::string& pattern, const SpecifierValues& values,
                                                      const proc::ProcessDir& process, std::string& why) {
  // With fs.suid_dumpable=0 the kernel dumps only dumpable processes; with 2
  // it would write a non-dumpable one as root, and only to an absolute path.
  // We write as the process's user only.
  std::optional<int> dumpable = values.dumpable;
  if (!dumpable && read_sysctl("/proc/sys/fs/suid_dumpable") == "0") dumpable = 1;
  if (dumpable != 1) {
    why = dumpable ? fmt::format("the process was not dumpable as its own user (dumpable {})", *dumpable)
                   : std::string("whether the process was dumpable is not known");
    return std::optional<CoreFileRequest>();
  }
  std::optional<uint64_t> limit = values.core_limit;
  if (!limit) {
    auto text = process.read("limits", 16384);
    if (!text) return util::fail("cannot read its RLIMIT_CORE: " + text.error().message);
    limit = proc::parse_core_limit(*text);
    if (!limit) return util::fail("cannot read its RLIMIT_CORE: no 'Max core file size' in its limits");
  }
  if (*limit < kMinCoreLimit) {
    why = fmt::format("its RLIMIT_CORE is {} bytes (ulimit -c)", *limit);
    return std::optional<CoreFileRequest>();
  }
  auto status = process.status();
  if (!status) return util::fail("cannot read its credentials: " + status.error().message);
  if (!status->fsuid || !status->fsgid) return util::fail("cannot read its credentials: no Uid/Gid in its status");
  CoreFileRequest request;
  request.uid = *status->fsuid;
  request.gid = *status->fsgid;
  request.groups = status->groups;
  request.limit = *limit;
  request.path = core_file_name(pattern, values, read_sysctl("/proc/sys/kernel/core_uses_pid") == "1");
  if (request.path.empty()) return util::fail("the pattern gives an empty file name");
  request.root.reset(::openat(process.fd(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!request.root) return util::fail_errno("its root directory");
  request.cwd.reset(::openat(process.fd(), "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!request.cwd) return util::fail_errno("its working directory");
  return std::optional(std::move(request));
}

Result<uint64_t> copy_core(int core_in, int out_fd, uint64_t limit) {
  util::SparseWriter out(out_fd);
  std::vector<std::byte> buffer(1 << 20);
  while (out.size() < limit) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), limit - out.size()));
    ssize_t n = ::read(core_in, buffer.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::fail_errno(util::ErrorKind::reading, "reading the core");
    if (n == 0) break;
    if (auto w = out.write(std::span(buffer.data(), static_cast<size_t>(n))); !w) return std::unexpected(w.error());
  }
  return out.finish();
}

int write_core_file(const CoreFileRequest& request, int core_in) {
  ::alarm(static_cast<unsigned>(std::max<int64_t>(request.timeout.count(), 1)));
  if (core_in != 0 && ::dup2(core_in, 0) != 0) return kReadFailed;
  // Into the process's view of the file system: absolute names resolve in
  // its root, relative ones in its cwd. Then nothing of ours stays open.
  if (::fchdir(request.root.get()) != 0 || ::chroot(".") != 0 || ::fchdir(request.cwd.get()) != 0) return kCannotEnter;
  ::close_range(3, ~0U, 0);
  // Its credentials, all of them, before the file is touched.
  if (::setgroups(request.groups.size(), request.groups.data()) != 0 ||
      ::setresgid(request.gid, request.gid, request.gid) != 0 ||
      ::setresuid(request.uid, request.uid, request.uid) != 0)
    return kCannotTakeCredentials;
  ::prctl(PR_SET_DUMPABLE, 0);
  // The kernel's rules: never through a final symlink, never block on a
  // fifo, and an existing file only when it is a plain file of the user's
  // with one link and no more than mode 0600 allows.
  UniqueFd out(
      ::open(request.path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_LARGEFILE, 0600));
  if (!out) return std::clamp(errno, 1, kCannotEnter - 1);
  struct stat st {};
  if (::fstat(out.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != request.uid ||
      (st.st_mode & 0677) != 0600)
    return kNotTheUsersFile;
  ::fcntl(out.get(), F_SETFL, ::fcntl(out.get(), F_GETFL) & ~O_NONBLOCK);
  if (::ftruncate(out.get(), 0) != 0) return kWriteFailed;
  auto copied = copy_core(0, out.get(), request.limit);
  if (!copied) return copied.error().kind == util::ErrorKind::reading ? kReadFailed : kWriteFailed;
  return kWritten;
}

Result<ChainedHandler> start_core_file_writer(CoreFileRequest request) {
  return ChainedHandler::start_child([&request](int core_in) { return write_core_file(request, core_in); });
}

std::string explain_core_file_status(int status) {
  if (WIFSIGNALED(status))
    return WTERMSIG(status) == SIGALRM ? "the writer timed out"
                                       : fmt::format("the writer was killed by signal {}", WTERMSIG(status));
  if (!WIFEXITED(status)) return fmt::format("the writer ended with status {}", status);
  int code = WEXITSTATUS(status);
  switch (code) {
    case kWritten: return "written";
    case kCannotEnter: return "cannot enter the process's root or working directory";
    case kCannotTakeCredentials: return "cannot take the process's credentials";
    case kNotTheUsersFile:
      return "a file of that name exists and is not a plain, single-link, mode 0600 file of the user's; left alone";
    case kWriteFailed: return "writing it failed (disk full?)";
    case kReadFailed: return "reading the core stream failed";
    default: return fmt::format("cannot create it as the process's user: {}", std::strerror(code));
  }
}

}  // namespace usercrash::client
