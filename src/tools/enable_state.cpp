#include "tools/enable_state.h"

#include "util/private_directory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include <fmt/format.h>

#include "util/file_io.h"
#include "util/parse.h"

namespace usercrash::tools {

using util::Result;
using util::UniqueFd;

namespace {

constexpr int kStateVersion = 1;

}  // namespace

Result<void> replace_file_at(int dirfd, const std::string& name, std::string_view content, mode_t mode) {
  std::random_device random;
  std::string temp = fmt::format(".{}.tmp-{}-{:08x}", name, ::getpid(), random());
  UniqueFd fd(::openat(dirfd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) return util::fail_errno("create " + temp);
  auto written = util::write_all(fd.get(), content);
  // The umask may have taken bits away; the mode asked for is the mode meant.
  if (written && ::fchmod(fd.get(), mode) != 0) written = util::fail_errno("chmod " + temp);
  if (written && ::fsync(fd.get()) != 0) written = util::fail_errno("fsync " + temp);
  if (written && ::renameat(dirfd, temp.c_str(), dirfd, name.c_str()) != 0)
    written = util::fail_errno("rename to " + name);
  if (!written) {
    ::unlinkat(dirfd, temp.c_str(), 0);
    return std::unexpected(written.error());
  }
  ::fsync(dirfd);
  return {};
}

Result<std::optional<StateDirectory>> StateDirectory::open(const std::string& path, bool create) {
  if (path.empty() || path[0] != '/')
    return util::fail(fmt::format("state directory '{}' is not an absolute path", path));
  util::DirectoryRules rules;
  rules.what = "state directory";
  if (create) rules.create_mode = 0700;
  auto dir = util::open_private_directory(path, rules);
  if (!dir) {
    if (dir.error().errno_value == ENOENT && !create) return std::optional<StateDirectory>{};
    return std::unexpected(dir.error());
  }
  return std::optional<StateDirectory>(StateDirectory(path, std::move(*dir)));
}

Result<void> StateDirectory::write(const char* name, std::string_view content) {
  if (auto r = replace_file_at(dir_.get(), name, content, 0600); !r)
    return util::fail(fmt::format("{}/{}: {}", path_, name, r.error().message), r.error().errno_value);
  return {};
}

Result<std::optional<std::string>> StateDirectory::read(const char* name, size_t max_bytes) const {
  bool truncated = false;
  auto text = util::read_file_at(dir_.get(), name, max_bytes, &truncated);
  if (!text) {
    if (text.error().errno_value == ENOENT) return std::optional<std::string>{};
    return util::fail(fmt::format("{}/{}: {}", path_, name, text.error().message), text.error().errno_value);
  }
  if (truncated) return util::fail(fmt::format("{}/{}: larger than {} bytes", path_, name, max_bytes));
  return std::optional<std::string>(std::move(*text));
}

Result<void> StateDirectory::remove(const char* name) {
  if (::unlinkat(dir_.get(), name, 0) != 0 && errno != ENOENT)
    return util::fail_errno(fmt::format("remove {}/{}", path_, name));
  ::fsync(dir_.get());
  return {};
}

std::string serialize_state(const EnableState& s) {
  return fmt::format(
      "# Written by usercrashctl enable; `usercrashctl disable` restores from it. Do not edit.\n"
      "version={}\n"
      "mode={}\n"
      "saved_core_pipe_limit={}\n"
      "installed_core_pattern={}\n"
      "installed_core_pipe_limit={}\n"
      "sysctl_file={}\n"
      "enabled_at={}\n",
      kStateVersion, mode_name(s.mode), s.saved_pipe_limit, s.installed_pattern, s.installed_pipe_limit, s.sysctl_file,
      s.enabled_at);
}

Result<EnableState> parse_state(std::string_view text, std::string saved_pattern) {
  EnableState s;
  s.saved_pattern = std::move(saved_pattern);
  bool have_version = false, have_mode = false, have_limit = false, have_pattern = false, have_installed_limit = false;
  util::LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    size_t line_no = lines.number();
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return util::fail(fmt::format("{}:{}: expected KEY=VALUE", kStateName, line_no));
    std::string_view key = line.substr(0, eq);
    // Values are raw to the end of the line: a pattern may hold any byte but '\n'.
    std::string value(line.substr(eq + 1));
    if (key == "version") {
      if (util::parse_int<int>(value) != kStateVersion)
        return util::fail(fmt::format("{}: version {} is not one this usercrashctl knows", kStateName, value));
      have_version = true;
    } else if (key == "mode") {
      if (value == "pipe") s.mode = Mode::pipe;
      else if (value == "socket") s.mode = Mode::socket;
      else return util::fail(fmt::format("{}:{}: unknown mode '{}'", kStateName, line_no, value));
      have_mode = true;
    } else if (key == "saved_core_pipe_limit") {
      s.saved_pipe_limit = value;
      have_limit = true;
    } else if (key == "installed_core_pattern") {
      s.installed_pattern = value;
      have_pattern = true;
    } else if (key == "installed_core_pipe_limit") {
      s.installed_pipe_limit = value;
      have_installed_limit = true;
    } else if (key == "sysctl_file") {
      s.sysctl_file = value;
    } else if (key == "enabled_at") {
      s.enabled_at = util::parse_int<int64_t>(value).value_or(0);
    }
    // Unknown keys are left for a newer version to use.
  }
  if (!have_version || !have_mode || !have_limit || !have_pattern || !have_installed_limit)
    return util::fail(
        fmt::format("{}: incomplete (version, mode, saved_core_pipe_limit, installed_core_pattern and "
                    "installed_core_pipe_limit are all needed)",
                    kStateName));
  if (!util::parse_int<int>(s.saved_pipe_limit))
    return util::fail(fmt::format("{}: saved_core_pipe_limit '{}' is not a number", kStateName, s.saved_pipe_limit));
  return s;
}

Result<std::optional<EnableState>> load_state(const StateDirectory& dir) {
  auto text = dir.read(kStateName);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<EnableState>{};
  auto saved = config::read_saved_pattern_at(dir.fd());
  if (!saved) return util::fail(fmt::format("{}/{}", dir.path(), saved.error().message));
  if (!*saved)
    return util::fail(fmt::format("{}/{} exists but {} is missing: the previous core_pattern is unknown", dir.path(),
                                  kStateName, kSavedPatternName));
  auto state = parse_state(**text, std::move(**saved));
  if (!state) return util::fail(fmt::format("{}/{}", dir.path(), state.error().message));
  return std::optional<EnableState>(std::move(*state));
}

Result<void> save_state(StateDirectory& dir, const EnableState& state, bool with_saved_pattern) {
  if (with_saved_pattern)
    if (auto r = dir.write(kSavedPatternName, state.saved_pattern); !r) return r;
  return dir.write(kStateName, serialize_state(state));
}

Result<void> remove_state(StateDirectory& dir) {
  if (auto r = dir.remove(kStateName); !r) return r;
  return dir.remove(kSavedPatternName);
}

}  // namespace usercrash::tools
