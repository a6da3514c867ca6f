#include "tools/enabler.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "util/escape.h"
#include "util/file_io.h"

namespace usercrash::tools {

using util::Result;
using util::UniqueFd;

namespace {

constexpr std::string_view kSysctlMarker = "# Written by `usercrashctl enable --persist`";
constexpr size_t kMaxSettingSize = 4096;
constexpr size_t kMaxSysctlFileSize = 64 * 1024;

// "'core'" for messages: the bytes of a pattern, escaped, quoted.
std::string single_quoted(std::string_view value) { return "'" + util::escape_text(value) + "'"; }

struct SplitPath {
  std::string directory;
  std::string name;
};

Result<SplitPath> split_path(const std::string& path) {
  size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == path.size() - 1)
    return util::fail(fmt::format("'{}' is not an absolute file path", path));
  return SplitPath{slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

Result<UniqueFd> open_parent(const SplitPath& p) {
  UniqueFd dir(::open(p.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return util::fail_errno("open directory " + p.directory);
  return dir;
}

// The sysctl file's content; nullopt when there is no file.
Result<std::optional<std::string>> read_sysctl_file(const std::string& path) {
  auto p = split_path(path);
  if (!p) return std::unexpected(p.error());
  auto dir = open_parent(*p);
  if (!dir) {
    if (dir.error().errno_value == ENOENT) return std::optional<std::string>{};
    return std::unexpected(dir.error());
  }
  auto text = util::read_file_at(dir->get(), p->name.c_str(), kMaxSysctlFileSize);
  if (!text) {
    if (text.error().errno_value == ENOENT) return std::optional<std::string>{};
    return util::fail(path + ": " + text.error().message, text.error().errno_value);
  }
  return std::optional<std::string>(std::move(*text));
}

Result<void> write_sysctl_file(const std::string& path, std::string_view content) {
  auto p = split_path(path);
  if (!p) return std::unexpected(p.error());
  auto dir = open_parent(*p);
  if (!dir) return util::fail(fmt::format("cannot write {}: {}", path, dir.error().message), dir.error().errno_value);
  if (auto r = replace_file_at(dir->get(), p->name, content, 0644); !r)
    return util::fail(fmt::format("cannot write {}: {}", path, r.error().message), r.error().errno_value);
  return {};
}

Result<void> remove_sysctl_file(const std::string& path) {
  auto p = split_path(path);
  if (!p) return std::unexpected(p.error());
  auto dir = open_parent(*p);
  if (!dir) return dir.error().errno_value == ENOENT ? Result<void>{} : std::unexpected(dir.error());
  if (::unlinkat(dir->get(), p->name.c_str(), 0) != 0 && errno != ENOENT) return util::fail_errno("remove " + path);
  return {};
}

}  // namespace

Result<std::string> read_setting(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return util::fail_errno("read " + path);
  bool truncated = false;
  auto text = util::read_all(fd.get(), kMaxSettingSize, &truncated);
  if (!text) return util::fail(fmt::format("read {}: {}", path, text.error().message), text.error().errno_value);
  if (truncated) return util::fail(fmt::format("read {}: longer than {} bytes", path, kMaxSettingSize));
  if (text->ends_with('\n')) text->pop_back();
  return text;
}

Result<void> write_setting(const std::string& path, std::string_view value) {
  if (value.find('\n') != std::string_view::npos || value.find('\0') != std::string_view::npos)
    return util::fail(fmt::format("{}: cannot hold {}: it contains a newline or NUL byte", path, single_quoted(value)));
  {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
    if (!fd) return util::fail_errno("write " + path);
    // One write: the kernel takes a sysctl's value from a single write at offset 0.
    std::string line = std::string(value) + '\n';
    ssize_t n = ::write(fd.get(), line.data(), line.size());
    if (n < 0) return util::fail_errno(fmt::format("write {} to {}", single_quoted(value), path));
    if (static_cast<size_t>(n) != line.size())
      return util::fail(fmt::format("write {} to {}: short write", single_quoted(value), path));
  }
  auto back = read_setting(path);
  if (!back) return std::unexpected(back.error());
  if (*back != value)
    return util::fail(fmt::format("{} reads {} after writing {}", path, single_quoted(*back), single_quoted(value)));
  return {};
}

std::string sysctl_file_text(std::string_view pattern, std::string_view pipe_limit) {
  return fmt::format(
      "{}; `usercrashctl disable` removes it.\n"
      "# It overrides the packaged /usr/lib/sysctl.d/50-usercrash.conf (same name), which sets nothing.\n"
      "# See usercrashctl(1) for why core_pipe_limit is {}.\n"
      "kernel.core_pattern = {}\n"
      "kernel.core_pipe_limit = {}\n",
      kSysctlMarker, pipe_limit, pattern, pipe_limit);
}

bool is_our_sysctl_file(std::string_view content) { return content.starts_with(kSysctlMarker); }

Result<EnableOutcome> enable(const EnablePaths& paths, const EnableRequest& request) {
  auto opened = StateDirectory::open(paths.state_directory, /*create=*/true);
  if (!opened) return std::unexpected(opened.error());
  StateDirectory& dir = **opened;
  auto previous = load_state(dir);
  if (!previous) return std::unexpected(previous.error());

  auto current_pattern = read_setting(paths.kernel.core_pattern);
  if (!current_pattern) return std::unexpected(current_pattern.error());
  auto current_limit = read_setting(paths.kernel.core_pipe_limit);
  if (!current_limit) return std::unexpected(current_limit.error());

  EnableOutcome out;
  EnableState& state = out.state;
  if (*previous) {
    state = **previous;
    out.first = false;
    if (*current_pattern != state.installed_pattern && *current_pattern != request.pattern)
      out.notes.push_back(fmt::format("core_pattern was changed to {} since the last enable; replacing it",
                                      single_quoted(*current_pattern)));
  } else {
    PatternInfo info = classify_pattern(*current_pattern, request.kernel_socket);
    if (info.ours())
      return util::fail(fmt::format(
          "core_pattern already runs usercrash ({}) but nothing was saved in {}, so there is nothing disable could "
          "restore; set core_pattern to the handler you want back on disable (for example: sysctl "
          "kernel.core_pattern=core) and enable again",
          single_quoted(*current_pattern), dir.path()));
    state.saved_pattern = *current_pattern;
    state.saved_pipe_limit = *current_limit;
    state.enabled_at = static_cast<int64_t>(::time(nullptr));
  }
  state.mode = request.mode;
  state.installed_pattern = request.pattern;
  state.installed_pipe_limit = std::to_string(kPipeLimit);
  if (request.persist) state.sysctl_file = paths.sysctl_file;

  // A persisted file follows the installed pattern; never overwrite one that is not ours.
  if (!state.sysctl_file.empty()) {
    auto existing = read_sysctl_file(state.sysctl_file);
    if (!existing) return std::unexpected(existing.error());
    if (*existing && !is_our_sysctl_file(**existing))
      return util::fail(
          fmt::format("{} exists and was not written by usercrashctl; not replacing it", state.sysctl_file));
  }

  // 1. Save first: once core_pattern changes, the old value must be on disk.
  if (auto r = save_state(dir, state, out.first); !r) {
    if (out.first) (void)remove_state(dir);
    return util::fail("nothing changed: " + r.error().message);
  }

  // Undoes everything this call did; says what could not be undone.
  auto undo = [&](const util::Error& why) -> util::Error {
    std::string problems;
    if (auto r = write_setting(paths.kernel.core_pattern, *current_pattern); !r) problems += "; " + r.error().message;
    if (auto r = write_setting(paths.kernel.core_pipe_limit, *current_limit); !r) problems += "; " + r.error().message;
    auto r = out.first ? remove_state(dir) : save_state(dir, **previous, false);
    if (!r) problems += "; " + r.error().message;
    if (problems.empty())
      return {why.message + "; nothing changed (core_pattern and core_pipe_limit restored)", why.errno_value};
    return {why.message + "; and restoring failed" + problems, why.errno_value};
  };

  // 2. The kernel settings, each read back.
  if (auto r = write_setting(paths.kernel.core_pattern, request.pattern); !r) return std::unexpected(undo(r.error()));
  if (auto r = write_setting(paths.kernel.core_pipe_limit, state.installed_pipe_limit); !r)
    return std::unexpected(undo(r.error()));

  // 3. The sysctl.d file, so the settings survive a reboot.
  if (!state.sysctl_file.empty()) {
    if (auto r = write_sysctl_file(state.sysctl_file, sysctl_file_text(request.pattern, state.installed_pipe_limit));
        !r)
      return std::unexpected(undo(r.error()));
  }
  return out;
}

Result<DisableOutcome> disable(const EnablePaths& paths, bool force) {
  DisableOutcome out;
  auto opened = StateDirectory::open(paths.state_directory, /*create=*/false);
  if (!opened) return std::unexpected(opened.error());
  if (!*opened) return out;
  StateDirectory& dir = **opened;
  auto loaded = load_state(dir);
  if (!loaded) return std::unexpected(loaded.error());
  if (!*loaded) return out;
  out.was_enabled = true;
  out.state = **loaded;
  const EnableState& state = out.state;

  auto current_pattern = read_setting(paths.kernel.core_pattern);
  if (!current_pattern) return std::unexpected(current_pattern.error());
  auto current_limit = read_setting(paths.kernel.core_pipe_limit);
  if (!current_limit) return std::unexpected(current_limit.error());
  if (*current_pattern != state.installed_pattern) {
    if (!force)
      return util::fail(
          fmt::format("core_pattern is no longer the line enable installed (it is now {}); nothing changed. "
                      "`disable --force` restores the saved core_pattern {} and core_pipe_limit {} anyway",
                      single_quoted(*current_pattern), single_quoted(state.saved_pattern), state.saved_pipe_limit));
    out.notes.push_back(fmt::format("core_pattern was {}, not the line enable installed; restored anyway (--force)",
                                    single_quoted(*current_pattern)));
  }

  if (auto r = write_setting(paths.kernel.core_pattern, state.saved_pattern); !r)
    return util::fail(r.error().message + "; the saved state is kept, run disable again");
  if (auto r = write_setting(paths.kernel.core_pipe_limit, state.saved_pipe_limit); !r) {
    std::string message = r.error().message;
    if (auto back = write_setting(paths.kernel.core_pattern, *current_pattern); !back)
      message += "; " + back.error().message;
    return util::fail(message + "; the saved state is kept, run disable again");
  }

  if (!state.sysctl_file.empty()) {
    auto existing = read_sysctl_file(state.sysctl_file);
    if (!existing) {
      out.notes.push_back(existing.error().message);
    } else if (*existing && !is_our_sysctl_file(**existing)) {
      out.notes.push_back(fmt::format("{} was changed by someone else; left in place", state.sysctl_file));
    } else if (*existing) {
      if (auto r = remove_sysctl_file(state.sysctl_file); !r) out.notes.push_back(r.error().message);
    }
  }
  if (auto r = remove_state(dir); !r) out.notes.push_back("could not remove the saved state: " + r.error().message);
  return out;
}

}  // namespace usercrash::tools
