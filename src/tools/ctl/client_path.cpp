#include "tools/ctl/client_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "util/escape.h"

namespace usercrash::tools::ctl {

namespace {

std::string self_directory() {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return {};
  std::string exe(buffer, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

}  // namespace

// A sticky directory such as /tmp is fine: its root-owned entries cannot be
// replaced by others.
util::Result<void> check_trusted_executable(const std::string& path) {
  std::string at = path;
  bool file = true;
  for (;;) {
    struct stat st {};
    if (::lstat(at.c_str(), &st) != 0) return util::fail_errno(at);
    if (st.st_uid != 0) return util::fail(fmt::format("{} belongs to uid {}, not root", at, st.st_uid));
    bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir)
      return util::fail(fmt::format("{} is writable by group or others", at));
    if (file && (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)))
      return util::fail(fmt::format("{} is not an executable file", at));
    file = false;
    if (at == "/") return {};
    size_t slash = at.rfind('/');
    at = slash == 0 ? "/" : at.substr(0, slash);
  }
}

util::Result<std::string> absolute_path(const std::string& path) {
  char resolved[PATH_MAX];
  if (!::realpath(path.c_str(), resolved)) return util::fail_errno(util::escape_text(path));
  return std::string(resolved);
}

util::Result<std::string> find_client(const std::optional<std::string>& given) {
  std::vector<std::string> candidates;
  if (given) {
    candidates.push_back(*given);
  } else {
    std::string here = self_directory();
    candidates = {here + "/usercrash_c", here + "/../sbin/usercrash_c"};
  }
  for (const auto& c : candidates) {
    auto resolved = absolute_path(c);
    if (!resolved) continue;
    if (auto trusted = check_trusted_executable(*resolved); !trusted)
      return util::fail(fmt::format("will not let the kernel run {} as root for every crash: {}", *resolved,
                                    trusted.error().message));
    return *resolved;
  }
  if (given) return util::fail(fmt::format("--client {}: {}", util::escape_text(*given), std::strerror(ENOENT)));
  return util::fail(fmt::format("usercrash_c not found (looked for {} and {}); name it with --client PATH",
                                candidates[0], candidates[1]));
}

}  // namespace usercrash::tools::ctl
